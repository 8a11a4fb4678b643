"""The hub fixture: `hub-extensions demo` as a subprocess (JupyterHub + proxy + service)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from .common import GiveUp, ManagedProcess, free_port, wait_until

#: A port the demo or the hub could not bind (picked free, then taken by a hub starting beside)
PORT_TAKEN = re.compile(r"Address already in use|EADDRINUSE|is already in use")
#: What the proxy repeats while the hub is not up: not what a failed start needs to show
_PROXY_NOISE = re.compile(r"\[ConfigProxy\]|^\s|^\}$")


def hub_lines(log: str, head: int = 40, tail: int = 60) -> str:
    """A demo's log for an error message: the hub's, service's and demo's own lines, not the
    proxy's retries, first and last lines of them."""
    lines = [line for line in log.splitlines() if not _PROXY_NOISE.search(line)]
    if len(lines) > head + tail:
        lines = [*lines[:head], f"... ({len(lines) - head - tail} lines) ...", *lines[-tail:]]
    return "\n".join(lines)


PASSWORD = "test-password-不"  # non-ASCII on purpose


class DemoHub:
    started: list[DemoHub] = []  # every demo of this test session, stopped at its end

    def __init__(
        self,
        tmpdir: Path,
        *,
        spawner: str = "local",
        base_url: str = "/",
        image: str | None = None,
        extra_config: str | None = None,
        env: dict | None = None,
        port: int | None = None,
        python: str | None = None,  # another environment's (infra/jupyterhub_overlay.py)
    ):
        self.state = tmpdir / "state"
        self.port = port or free_port()
        self.port_given = port is not None
        self.base_url = base_url
        self.url = f"http://127.0.0.1:{self.port}{base_url}"
        self.service_prefix = f"{base_url}services/hub-extensions/"
        self.cmd = [
            python or sys.executable,
            "-m",
            "hub_extensions.cli",
            "demo",
            "--port",
            str(self.port),
            "--spawner",
            spawner,
            "--base-url",
            base_url,
            "--state-dir",
            str(self.state),
        ]
        if image:
            self.cmd += ["--image", image]
        if extra_config:  # a config file, as an admin trying settings on the demo gives it
            self.cmd += ["--config", extra_config]
        self.env = {**os.environ, "HUB_EXTENSIONS_DEMO_PASSWORD": PASSWORD, **(env or {})}
        self.log_dir = tmpdir
        self.proc: ManagedProcess | None = None
        self.crashed_runs: list[str] = []  # run ids left behind by kill_hub_hard()
        self.ready = False  # wait_ready() saw the hub and its service answer
        self.waited_seconds = 0.0  # how long tests waited in wait_ready()
        self.stopping = False  # begin_stop() pressed Ctrl-C
        self.port_retried = False  # wait_ready() restarted it once after a port race

    def repick_port(self) -> None:
        old = self.port
        self.port = free_port()
        self.url = self.url.replace(f":{old}/", f":{self.port}/", 1)
        self.cmd[self.cmd.index("--port") + 1] = str(self.port)

    @property
    def run_id(self) -> str:
        return (self.state / "run-id").read_text()

    def start(self, wait: bool = True) -> DemoHub:
        self.proc = ManagedProcess(f"demo-{self.port}", self.cmd, self.log_dir, env=self.env)
        DemoHub.started.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        if self.ready:
            return
        began = time.monotonic()

        def ready() -> bool:
            if not self.proc.alive():
                text = self.proc.log_text()
                if PORT_TAKEN.search(text) and not self.port_retried:
                    # the harness's race: a port picked free was taken before the demo bound it
                    # (hubs start side by side); once, on fresh ports
                    self.port_retried = True
                    self.proc.stop()  # exited: this closes its log and reaps it
                    if not self.port_given:
                        self.repick_port()
                    self.proc = ManagedProcess(
                        f"demo-{self.port}-again", self.cmd, self.log_dir, env=self.env
                    )
                    return False
                raise GiveUp(f"demo exited early:\n{hub_lines(text)}")
            hub = requests.get(urljoin(self.url, "hub/health"), timeout=2)
            svc = requests.get(self.service_url("api/health"), timeout=2)
            # 403 from the service itself (not a 503/404 from the proxy) means it is up
            return hub.status_code == 200 and svc.status_code == 403

        try:
            wait_until(ready, timeout, f"the demo hub at {self.url}", interval=0.2)
        except TimeoutError:
            raise TimeoutError(f"demo not ready:\n{hub_lines(self.proc.log_text())}") from None
        finally:
            self.waited_seconds += time.monotonic() - began
        self.ready = True

    def service_url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{self.service_prefix}{path}"

    def hub_url(self, path: str = "") -> str:
        return urljoin(self.url, "hub/" + path)

    def log(self) -> str:
        return self.proc.log_text() if self.proc else ""

    def interrupt(self, timeout: float = 45) -> int:
        """Ctrl-C, as a person would press it."""
        assert self.proc is not None
        self.proc.proc.send_signal(signal.SIGINT)
        code = self.proc.proc.wait(timeout)
        self.proc.stop()
        return code

    def kill_hub_hard(self) -> str:
        """`kill -9` of the JupyterHub process, as a crash: what it started (proxy, service,
        servers) stays alive. The demo runner, which would clean up after the hub, is frozen
        first and killed after. Returns the crashed run's id (its processes carry it)."""
        assert self.proc is not None
        runner = self.proc.proc
        hub_pid = int((self.state / "jupyterhub.pid").read_text())
        os.kill(runner.pid, signal.SIGSTOP)
        os.kill(hub_pid, signal.SIGKILL)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(10)
        self.proc.stop()
        self.crashed_runs.append(self.run_id)
        return self.crashed_runs[-1]

    def stop(self) -> None:
        if self.proc and self.proc.alive() and not self.stopping:
            self.interrupt()
        elif self.proc:
            if self.stopping:  # Ctrl-C was pressed by begin_stop(): wait for it to take effect
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.proc.wait(45)
            self.proc.stop()

    def begin_stop(self) -> None:
        """Ctrl-C without waiting (stop() waits for it), so that several hubs stop side by side."""
        if self.proc and self.proc.alive() and not self.stopping:
            self.proc.proc.send_signal(signal.SIGINT)
            self.stopping = True

    # -- acting as a user ------------------------------------------------------------
    def login(self, name: str, password: str = PASSWORD) -> requests.Session:
        s = requests.Session()
        s.get(self.hub_url("login"), timeout=10).raise_for_status()
        xsrf = s.cookies.get("_xsrf")
        r = s.post(
            self.hub_url("login"),
            data={"username": name, "password": password, "_xsrf": xsrf},
            timeout=30,
            allow_redirects=False,
        )
        if r.status_code != 302:
            raise AssertionError(f"login of {name} failed: {r.status_code} {r.text[:500]}")
        return s

    def token(self, session: requests.Session, name: str) -> str:
        r = session.post(
            self.hub_url(f"api/users/{name}/tokens"),
            json={"note": "tests"},
            headers=self.xsrf_headers(session),
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["token"]

    @staticmethod
    def xsrf_headers(session: requests.Session) -> dict:
        return {"X-XSRFToken": session.cookies.get("_xsrf", path=None) or ""}

    def api(self, token: str) -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"token {token}"
        return s

    def spawn(self, api: requests.Session, name: str, timeout: float = 90, **options) -> dict:
        r = api.post(self.hub_url(f"api/users/{name}/server"), json=options, timeout=30)
        assert r.status_code in (201, 202), r.text
        return self.spawn_wait(api, name, timeout=timeout)

    def spawn_wait(self, api: requests.Session, name: str, server: str = "", timeout: float = 90):
        """Wait until `name`'s server is ready (started by the REST API, a form or a link)."""

        def ready() -> bool:
            servers = api.get(self.hub_url(f"api/users/{name}"), timeout=5).json()["servers"]
            return bool(servers.get(server) and servers[server]["ready"])

        try:
            wait_until(ready, timeout, f"{name}'s server {server!r}", interval=0.3)
        except TimeoutError:
            raise TimeoutError(f"server not ready:\n{self.log()[-5000:]}") from None
        return api.get(self.hub_url(f"api/users/{name}"), timeout=5).json()["servers"][server]

    def stop_server(self, api: requests.Session, name: str, server: str = "", timeout: float = 60):
        path = f"api/users/{name}/servers/{server}" if server else f"api/users/{name}/server"
        r = api.delete(self.hub_url(path), timeout=30)
        assert r.status_code in (202, 204), r.text

        def stopped() -> bool:
            servers = api.get(self.hub_url(f"api/users/{name}"), timeout=5).json()["servers"]
            return server not in servers or not servers[server].get("started")

        wait_until(stopped, timeout, f"{name}'s server {server!r} to stop")


def stop_all_demos() -> None:
    """Stop every demo the session started, and anything their runs left (a safety net for
    fixtures that failed half-way). Ctrl-C goes to all of them first: they stop side by side."""
    for demo in DemoHub.started:
        with contextlib.suppress(Exception):
            demo.begin_stop()
    for demo in DemoHub.started:
        with contextlib.suppress(Exception):
            demo.stop()
        with contextlib.suppress(OSError):
            for run_id in [*demo.crashed_runs, demo.run_id]:
                for pid in marked_processes(run_id):
                    os.kill(pid, signal.SIGKILL)
    DemoHub.started.clear()


def marked_processes(run_id: str) -> list[int]:
    """PIDs that carry a demo run's marker in their environment."""
    from hub_extensions.demo.runner import marked_pids

    return marked_pids(run_id)


NO_TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


# -- the one place tests get hubs from (conftest.py's hub_factory and make_hub) -------------
Config = str | Callable[[DemoHub], str]  # c.… lines; a callable when they need the hub's port


@dataclass(frozen=True)
class HubSpec:
    """Everything a demo hub is started with. Tests asking for equal specs may share a hub."""

    spawner: str = "local"
    base_url: str = "/"
    image: str | None = None
    config: str = ""  # loaded after the demo's own settings (`hub-extensions demo --config`)
    env: tuple[tuple[str, str], ...] = ()
    python: str | None = None


class HubFactory:
    """Starts every demo hub of a test session.

    `shared()` hands out one running hub per spec: tests that only read, or act as users of
    their own, share it (a module fixture, or a test). A released hub is kept for a later
    module with the same spec; beyond `KEEP_IDLE` idle hubs the oldest is stopped (each costs
    about 400 MB and some CPU). `new()` starts a hub for the caller alone, for tests that kill,
    restart or break it, or that must see it start."""

    KEEP_IDLE = 5

    def __init__(self, mktemp: Callable[[str], Path]):
        self._mktemp = mktemp
        self._shared: dict[HubSpec, DemoHub] = {}
        self._holders: dict[HubSpec, int] = {}
        self._idle: list[HubSpec] = []  # released shared hubs, oldest first
        self._ahead: dict[str, tuple[dict, DemoHub]] = {}  # test id -> (settings, hub)
        self.started: list[tuple[str, DemoHub]] = []  # (who asked, hub), for the summary
        self.shared_starts = 0
        self.ahead_starts = 0
        self.prefetched = 0  # shared hubs started while the module before ran
        self.reused = 0  # times a running shared hub was handed out again

    def new(
        self,
        tmpdir: Path | None = None,
        *,
        config: Config = "",
        env: dict | None = None,
        wait: bool = True,
        who: str = "",
        **settings,
    ) -> DemoHub:
        """A hub of the caller's own, started (ready when `wait`); the caller stops it."""
        tmpdir = tmpdir or self._mktemp("hub")
        tmpdir.mkdir(parents=True, exist_ok=True)
        demo = DemoHub(tmpdir, env=env, **settings)
        if config:
            extra = tmpdir / "hub-config.py"
            extra.write_text(config if isinstance(config, str) else config(demo))
            demo.cmd += ["--config", str(extra)]
        self.started.append((who, demo))
        return demo.start(wait=wait)

    def start_ahead_for(self, test: str, **settings) -> None:
        """Start the hub a test marked `hub_ahead(**settings)` will ask make_hub for, while the
        tests before it run (conftest.py looks ahead). It is the test's alone, as if started
        when asked; `for_test()` hands it over."""
        if test not in self._ahead:
            self._ahead[test] = (settings, self.new(wait=False, who=f"{test} (ahead)", **settings))
            self.ahead_starts += 1

    def for_test(self, test: str, settings: dict) -> DemoHub | None:
        """The hub started ahead for `test` with exactly these settings, if there is one."""
        ahead = self._ahead.pop(test, None)
        if ahead is None:
            return None
        if ahead[0] != settings:  # the marker and the call disagree: this one is of no use
            ahead[1].begin_stop()
            return None
        return ahead[1]

    def ahead_count(self) -> int:
        return len(self._ahead)

    def prefetch(self, who: str = "", *, config: str = "", env: dict | None = None, **settings):
        """Start the shared hub for these settings now, without waiting for it: it boots while
        other tests run, and `shared()` waits for what is left (conftest.py calls this for the
        next module's `HUB`)."""
        spec = HubSpec(config=config, env=tuple(sorted((env or {}).items())), **settings)
        if spec not in self._shared:
            self._shared[spec] = self.new(config=config, env=env, wait=False, who=who, **settings)
            self.shared_starts += 1
            self.prefetched += 1

    def shared(self, request, *, config: str = "", env: dict | None = None, **settings) -> DemoHub:
        """The running hub for these settings, started if there is none; held until
        `request` (a fixture's or test's) ends."""
        spec = HubSpec(config=config, env=tuple(sorted((env or {}).items())), **settings)
        demo = self._shared.get(spec)
        if demo is not None and demo.proc is not None and (demo.proc.alive() or not demo.ready):
            if demo.ready:
                self.reused += 1
            demo.wait_ready()  # a prefetched hub may still be starting (or have failed: says why)
        else:
            demo = self.new(config=config, env=env, who=request.node.nodeid, **settings)
            self._shared[spec] = demo
            self.shared_starts += 1
        if spec in self._idle:
            self._idle.remove(spec)
        self._holders[spec] = self._holders.get(spec, 0) + 1
        request.addfinalizer(lambda: self._release(spec))
        return demo

    def _release(self, spec: HubSpec) -> None:
        self._holders[spec] -= 1
        if self._holders[spec]:
            return
        self._idle.append(spec)
        while len(self._idle) > self.KEEP_IDLE:
            self._shared.pop(self._idle.pop(0)).begin_stop()  # collected by stop_all_demos()

    def summary(self) -> list[str]:
        """Lines for the end of the run: how many hubs started, and what their starts took."""
        if not self.started:
            return []
        total = sum(demo.waited_seconds for _, demo in self.started)
        return [
            f"demo hubs: {len(self.started)} started, tests waited {total:.0f}s for them: "
            f"{self.shared_starts} shared ({self.prefetched} started while the module before "
            f"ran; handed out again {self.reused} times), {self.ahead_starts} of a test's own "
            "started while the tests before it ran"
        ]
