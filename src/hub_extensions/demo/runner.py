"""Start the demo hub, print how to log in, and on Ctrl-C stop everything it started."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "jupyterhub_config.py"
RUN_ENV = "HUB_EXTENSIONS_DEMO_RUN"
RUN_LABEL = "org.hub-extensions.demo-run"
PASSWORD_ENV = "HUB_EXTENSIONS_DEMO_PASSWORD"  # noqa: S105 - the variable's name
CONFIG_ENV = "HUB_EXTENSIONS_DEMO_CONFIG"  # the admin's own file, loaded after the demo's


class DemoError(Exception):
    """A problem the person running the demo can fix; printed without a traceback."""


@dataclass
class DemoOptions:
    ip: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "/"
    spawner: str = "auto"  # auto | docker | local
    image: str | None = None
    state_dir: Path = Path(".hub-extensions-demo")
    password: str | None = None
    config: Path | None = None  # `--config FILE`: loaded after the demo's own configuration


def checked_config_file(path: Path) -> Path:
    """The absolute path of `--config FILE` (the hub runs in the state directory, and
    traitlets skips a missing sub-config file without a word, so it is checked here)."""
    if not path.exists():
        raise DemoError(
            f"--config {path}: no such file. Give the path of a Python file of c.… settings, "
            "e.g. hub-extensions demo --config my_profiles.py"
        )
    if not path.is_file():
        raise DemoError(f"--config {path}: not a file. Give the path of a Python file.")
    return path.resolve()


def config_file_problem(path: str, err: BaseException) -> str:
    """One line for an error raised by the admin's `--config` file: where, and what."""
    line = getattr(err, "lineno", None) if isinstance(err, SyntaxError) else None
    tb = err.__traceback__
    while tb is not None:  # the innermost frame of their file
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f"{path}, line {line}" if line else path
    what = "".join(traceback.format_exception_only(type(err), err)).strip().splitlines()[-1]
    return f"hub-extensions demo: --config {where}: {what}"


def check_port_free(ip: str, port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind((ip, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise DemoError(
                    f"{ip}:{port} is already in use (another hub or demo?). Stop it, or pick "
                    f"another port: hub-extensions demo --port {port + 1}"
                ) from None
            raise DemoError(f"cannot listen on {ip}:{port}: {err.strerror}") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_proxy() -> str:
    """configurable-http-proxy on PATH or next to this Python (where scripts/bootstrap links it)."""
    found = shutil.which("configurable-http-proxy") or shutil.which(
        "configurable-http-proxy", path=str(Path(sys.executable).parent)
    )
    if not found:
        raise DemoError(
            "configurable-http-proxy not found. Install it with "
            "`npm install -g configurable-http-proxy`, or run ./scripts/demo from a checkout."
        )
    return found


def docker_client(timeout: float = 5):
    """A docker client whose engine answers, or None."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception:
        return None


def choose_spawner(opts: DemoOptions, say) -> tuple[str, str | None]:
    """('docker', image) when an engine answers and an image is at hand, else ('local', None)."""
    if opts.spawner in ("auto", "docker"):
        client = docker_client()
        if client is None:
            if opts.spawner == "docker":
                raise DemoError("--spawner docker: no Docker engine answered (is dockerd running?)")
            say(
                "No Docker engine answered: spawning with LocalProcessSpawner (servers run as "
                "local processes). Start dockerd to use DockerSpawner."
            )
        else:
            try:
                import dockerspawner  # noqa: F401
            except ImportError:
                raise DemoError(
                    "DockerSpawner is not installed: pip install 'hub-extensions[docker]'"
                ) from None
            image: str | None
            if opts.image:
                image = opts.image
                if not _image_present(client, image):
                    say(
                        f"Image {image} is not on this machine: DockerSpawner will pull it when "
                        "the first server starts (from the registry its name points at)."
                    )
            else:
                image = _base_image(client, say, required=opts.spawner == "docker")
            if image:
                say(f"Docker engine answered: spawning with DockerSpawner, image {image}.")
                return "docker", image
    try:
        import jupyter_server  # noqa: F401
    except ImportError:
        raise DemoError(
            "LocalProcessSpawner needs jupyter_server: pip install jupyter-server"
        ) from None
    if opts.spawner == "local":
        say("Spawning with LocalProcessSpawner (servers run as local processes).")
    return "local", None


def _image_present(client, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def _base_image(client, say, required: bool) -> str | None:
    from ..images import base_image

    tag = base_image.default_tag()
    if base_image.image_exists(tag, client=client):
        say(f"Using the suite's base image {tag} (built earlier on this machine).")
        return tag
    say(
        f"Building the suite's small single-user base image {tag} locally (about a minute, "
        "once; nothing is pulled from a registry)..."
    )
    try:
        return base_image.build_base_image(tag, log=say)
    except base_image.BaseImageUnavailable as err:
        if required:
            raise DemoError(
                f"cannot build the base image: {err}. Pass --image with an image that "
                "has jupyterhub-singleuser."
            ) from None
        say(f"Cannot build the base image ({err}): falling back to LocalProcessSpawner.")
        return None


def run(opts: DemoOptions, say=print) -> int:
    config = checked_config_file(opts.config) if opts.config else None
    check_port_free(opts.ip, opts.port)
    proxy = find_proxy()
    kind, image = choose_spawner(opts, say)
    state = opts.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    (state / "run-id").write_text(run_id)
    password = opts.password or os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(12)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(Path(proxy).parent), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env.update(
        {
            RUN_ENV: run_id,
            "HUB_EXTENSIONS_DEMO_STATE": str(state),
            "HUB_EXTENSIONS_DEMO_IP": opts.ip,
            "HUB_EXTENSIONS_DEMO_PORT": str(opts.port),
            "HUB_EXTENSIONS_DEMO_BASE_URL": opts.base_url,
            "HUB_EXTENSIONS_DEMO_HUB_PORT": str(free_port()),
            "HUB_EXTENSIONS_DEMO_PROXY_API_PORT": str(free_port()),
            "HUB_EXTENSIONS_DEMO_SERVICE_PORT": str(free_port()),
            "HUB_EXTENSIONS_DEMO_PASSWORD": password,
            "HUB_EXTENSIONS_DEMO_SPAWNER": kind,
            "HUB_EXTENSIONS_DEMO_IMAGE": image or "",
            CONFIG_ENV: str(config or ""),
        }
    )
    url = f"http://{opts.ip}:{opts.port}{opts.base_url}"
    # Its own session, so Ctrl-C reaches only this process, which then stops the hub once;
    # and a parent-death signal, so the hub cleans up even if this process is killed.
    hub = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
        env=env,
        cwd=state,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=_terminate_with_parent,
    )
    say("")
    say(f"  hub-extensions demo: {url}")
    say(f"  log in as 'demo' (admin) or any other name, password: {password}")
    say("  Ctrl-C stops the hub, its servers and the proxy.")
    say("")
    stopping = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C, kill, or the terminal closing. SIGINT too: a shell without job control starts
    # background commands with it ignored, and then Python would never see Ctrl-C.
    previous = {sig: signal.signal(sig, on_signal) for sig in HANDLED}
    try:
        code = hub.wait()
    except KeyboardInterrupt:
        stopping = True
        say("\nStopping the demo hub...")
        code = stop_hub(hub)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        leftovers = sweep(run_id, state, kind)
        if leftovers:
            say(f"Cleaned up what the hub left behind: {', '.join(leftovers)}")
    if stopping:
        say("Demo stopped.")
        return 0
    return code


HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _terminate_with_parent() -> None:
    """In the hub's process, before exec: default Ctrl-C, and SIGTERM when the demo dies."""
    # A shell without job control starts `demo &` with SIGINT ignored, and an ignored signal
    # stays ignored across exec: the hub, its service and its servers would then ignore the
    # SIGINT with which JupyterHub stops them, and each would stop only after its 30 s
    # interrupt timeout (the demo's Ctrl-C once took that long, and the hub was SIGKILLed).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_hub(hub: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM lets JupyterHub stop its servers and proxy; SIGKILL if it hangs."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            return hub.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
    return hub.wait()


def sweep(run_id: str, state: Path, kind: str) -> list[str]:
    """Stop anything of this run still alive: processes carrying its marker, labelled containers."""
    left: list[str] = []
    for pid in marked_pids(run_id):
        try:
            os.kill(pid, signal.SIGKILL)
            left.append(f"process {pid}")
        except ProcessLookupError:
            pass
    if kind == "docker":
        client = docker_client(timeout=30)
        if client is not None:
            left += [
                f"container {name}"
                for name in remove_containers(client, {"label": f"{RUN_LABEL}={run_id}"})
            ]
    return left


def remove_containers(client, filters: dict, timeout: float = 30) -> list[str]:
    """Force-remove every container matching `filters`, whatever its state (created, running,
    paused, exited, or already being removed by the engine, e.g. DockerSpawner's auto-remove,
    which answers 409 "removal already in progress"); returns their names."""
    import docker.errors

    removed: list[str] = []
    errors: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while True:
        try:
            containers = client.containers.list(all=True, filters=filters, ignore_removed=True)
        except docker.errors.APIError as err:
            if time.monotonic() > deadline:
                raise DemoError(f"cannot list the demo's containers: {err}") from None
            time.sleep(0.5)
            continue
        if not containers:
            return removed
        if time.monotonic() > deadline:
            names = ", ".join(c.name for c in containers)
            why = "; ".join(f"{n}: {e}" for n, e in errors.items())
            raise DemoError(
                f"containers {names} could not be removed{f' ({why})' if why else ''}; "
                f"remove them with `docker rm -f {' '.join(c.name for c in containers)}`"
            )
        for container in containers:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass  # gone meanwhile
            except docker.errors.APIError as err:
                # 409: the engine is removing it already; anything else is tried again
                if err.status_code != 409:
                    errors[container.name] = str(err.explanation or err)
                    continue
            if container.name not in removed:
                removed.append(container.name)
        time.sleep(0.2)


def marked_pids(run_id: str) -> list[int]:
    """PIDs whose environment carries this run's marker (Linux /proc; empty elsewhere)."""
    marker = f"{RUN_ENV}={run_id}".encode()
    pids = []
    me = os.getpid()
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == me:
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(pid)
        except OSError:
            continue
    return pids
