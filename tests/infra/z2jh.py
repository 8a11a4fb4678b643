"""Zero to JupyterHub's own hub script, run on loopback with values merged as Helm merges them.

The chart's data and code (values, schema, templates, `jupyterhub_config.py`, `z2jh.py`) are
read from `../shared/z2jh/` beside the repository (see its README.md), never copied. A hub pod
gets its values as files under /usr/local/etc/jupyterhub/ (the hub Secret's `values.yaml` and
keys, the ConfigMap's resource names) and its environment from templates/hub-deployment.yaml
plus the variables Kubernetes sets for Services. `ChartHub` writes those files to a temporary
directory and starts `jupyterhub --config <the chart's jupyterhub_config.py>` through a small
loader that sends z2jh.py's reads of /usr/local/etc/jupyterhub/ there (z2jh.py hardcodes
that path; nothing else is changed), with configurable-http-proxy started with the chart's
proxy arguments.

What a cluster would give and this machine cannot, replaced and nothing more:
- Services: the hub Service is a port on 127.0.0.1 forwarded to the hub's own port
  (`ServicePort`), so what goes through the Service and what stays in the pod differ; the
  proxy's API and the service's URL are 127.0.0.1 at free ports. Two extraConfig entries do
  it, one sorted before the others ("00-...": the hub's bind URL, its connect URL and the
  proxy's API URL on 127.0.0.1) and one after ("zz-...": the snippet's http://hub:10101, which
  the snippet's hostAliases make the pod itself). No DNS or NetworkPolicy is exercised.
- KubeSpawner's cluster: a kubeconfig pointing at a dead loopback port; no pod is created.
- The chart's idle culler is off (it would call localhost:8081, someone else's port here).
"""

from __future__ import annotations

import contextlib
import copy
import os
import secrets
import shutil
import socket
import socketserver
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import yaml

from .common import ROOT, GiveUp, ManagedProcess, Unavailable, free_port, wait_until

Z2JH = ROOT.parent / "shared" / "z2jh"
HUB_SCRIPT_DIR = Z2JH / "hub"
MOUNT = "/usr/local/etc/jupyterhub"
#: ConfigMap keys (the chart's jupyterhub.name-templates, fullnameOverride "") the script reads
RESOURCE_NAMES = ["hub", "proxy-api", "proxy-public", "user-scheduler", "priority",
                  "image-pull-secret", "singleuser"]  # fmt: skip
#: What Kubernetes and the chart's templates give that is not in values.yaml
CHART = {"Name": "jupyterhub", "Version": "4.3.2-0.dev", "AppVersion": "5.5.0"}
RELEASE = {"Name": "jhub", "Namespace": "jhub", "Service": "Helm"}


def chart_path(*parts: str) -> Path:
    """A file of the pinned Z2JH checkout; Unavailable (skip, or fail in CI) when missing."""
    path = Z2JH.joinpath(*parts)
    if not path.exists():
        raise Unavailable(
            f"Zero to JupyterHub chart data missing: {path} not found. The tests read the chart "
            f"from ../shared/z2jh/ beside the repository clone ({Z2JH}); see its README.md."
        )
    return path


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def deep_merge(base: dict, *overrides: dict) -> dict:
    """Helm's merge of values files, in order: maps merge key by key, lists and scalars replace."""
    merged = copy.deepcopy(base)
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def chart_values(*layers: dict, chart: str = "main") -> dict:
    """The chart's defaults with `layers` (values files, in `--values` order) merged on top."""
    folder = () if chart == "main" else (f"chart-{chart}",)
    return deep_merge(load_yaml(chart_path(*folder, "values.yaml")), *layers)


# ------------------------------------------------------------------ the hub pod, on loopback
class ServicePort:
    """A k8s Service on loopback: 127.0.0.1:<port> forwarded to the pod's port (kube-proxy's
    job), so that what goes through the Service and what stays in the pod differ by port."""

    def __init__(self) -> None:
        self.target = 0  # the pod's port, set before the first connection
        service = self

        class Forward(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    upstream = socket.create_connection(("127.0.0.1", service.target), timeout=10)
                except OSError:
                    return
                with upstream:
                    back = threading.Thread(target=_pump, args=(upstream, self.request))
                    back.start()
                    _pump(self.request, upstream)
                    back.join()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        _HANDED_OUT.add(self.port)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_HANDED_OUT: set[int] = set()


def _port() -> int:
    """A free port no other hub of this test run was given (free_port alone can hand the same
    port to two hubs made before either listens)."""
    while (port := free_port()) in _HANDED_OUT:
        pass
    _HANDED_OUT.add(port)
    return port


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


LOADER = """
import builtins, os, sys
from types import SimpleNamespace

mount, script_dir = os.environ.pop("Z2JH_TEST_MOUNT"), os.environ.pop("Z2JH_TEST_SCRIPT_DIR")

def redirect(path):
    path = os.fspath(path)
    return mount + path[len("{MOUNT}"):] if path.startswith("{MOUNT}/") else path

# z2jh.py reads the pod's mounted files at fixed paths: only those reads are redirected
sys.path.insert(0, script_dir)
import z2jh
z2jh.open = lambda path, *a, **kw: builtins.open(redirect(path), *a, **kw)
z2jh.os = SimpleNamespace(
    environ=os.environ, path=SimpleNamespace(exists=lambda p: os.path.exists(redirect(p)))
)
from jupyterhub.app import JupyterHub
sys.argv = sys.argv[1:]
JupyterHub.launch_instance()
""".replace("{MOUNT}", MOUNT)


def _loopback_entries(hub_port: int, service_port: int) -> dict[str, str]:
    first = f"""
from urllib.parse import urlsplit

def _loopback(url):  # a Service name of the cluster is 127.0.0.1 here (same port)
    return urlsplit(url)._replace(netloc=f"127.0.0.1:{{urlsplit(url).port}}").geturl()

c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"  # the chart's :8081, on a free port
c.JupyterHub.hub_connect_url = _loopback(c.JupyterHub.hub_connect_url)
c.ConfigurableHTTPProxy.api_url = _loopback(c.ConfigurableHTTPProxy.api_url)
"""
    last = f"""
# the snippet's http://hub:10101: "hub" is 127.0.0.1 (hostAliases), 10101 a free port here
print("snippet service_url:", c.HubExtensions.service_url)
c.HubExtensions.service_url = "http://127.0.0.1:{service_port}"
"""
    return {"00-tier-loopback": first, "zz-tier-loopback": last}


class ChartHub:
    """The chart's hub (jupyterhub_config.py + z2jh.py) and configurable-http-proxy."""

    def __init__(self, tmpdir: Path, values: dict, *, name: str = "hub", env: dict | None = None):
        self.dir = Path(tmpdir)
        self.name = name
        self.hub_service = ServicePort()  # the hub's k8s Service (port 8081 in a cluster)
        self.hub_port, self.proxy_port, self.api_port = _port(), _port(), _port()
        self.service_port = _port()
        self.hub_service.target = self.hub_port
        self.values = deep_merge(
            values,
            {"cull": {"enabled": False}},
            {"hub": {"extraConfig": _loopback_entries(self.hub_port, self.service_port)}},
        )
        self.secret_keys = {
            "hub.config.ConfigurableHTTPProxy.auth_token": secrets.token_hex(32),
            "hub.config.JupyterHub.cookie_secret": secrets.token_hex(32),
            "hub.config.CryptKeeper.keys": secrets.token_hex(32),
        }
        for key in self.values["hub"].get("services") or {}:
            self.secret_keys[f"hub.services.{key}.apiToken"] = secrets.token_hex(32)
        self.extra_env = env or {}
        self.url = f"http://127.0.0.1:{self.proxy_port}/"
        self.proxy: ManagedProcess | None = None
        self.hub: ManagedProcess | None = None

    # --- the pod's files and environment ------------------------------------------------
    def write_mounts(self) -> Path:
        mount = self.dir / "mount"
        (mount / "config").mkdir(parents=True, exist_ok=True)
        (mount / "secret").mkdir(exist_ok=True)
        for name in RESOURCE_NAMES:
            (mount / "config" / name).write_text(name)
        secret_values = {**copy.deepcopy(self.values), "Chart": CHART, "Release": RELEASE}
        (mount / "secret" / "values.yaml").write_text(yaml.safe_dump(secret_values))
        for key, value in self.secret_keys.items():
            (mount / "secret" / key).write_text(value)
        return mount

    def _extra_env(self) -> dict[str, str]:
        """hub.extraEnv as the chart's jupyterhub.extraEnv helper renders it, secrets resolved."""
        extra = self.values["hub"].get("extraEnv") or {}
        items = extra.items() if isinstance(extra, dict) else [(e["name"], e) for e in extra]
        env = {}
        for name, spec in items:
            if not isinstance(spec, dict):
                env[name] = str(spec)
            elif "value" in spec:
                env[name] = str(spec["value"])
            else:
                ref = spec.get("valueFrom", {}).get("secretKeyRef", {})
                if ref.get("name") != "hub" or ref.get("key") not in self.secret_keys:
                    raise AssertionError(f"hub.extraEnv.{name}: no such key in the hub Secret")
                env[name] = self.secret_keys[ref["key"]]
        return env

    def environment(self, mount: Path) -> dict[str, str]:
        kubeconfig = self.dir / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
            "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
            "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]\n"
            "users: [{name: nobody, user: {token: not-a-token}}]\n"
        )
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.update(
            {
                # templates/hub-deployment.yaml
                "PYTHONUNBUFFERED": "1",
                "HELM_RELEASE_NAME": RELEASE["Name"],
                "POD_NAMESPACE": RELEASE["Namespace"],
                "CONFIGPROXY_AUTH_TOKEN": self.secret_keys[
                    "hub.config.ConfigurableHTTPProxy.auth_token"
                ],
                # what Kubernetes sets for the namespace's Services (ports: free ones here)
                "HUB_SERVICE_HOST": "127.0.0.1",
                "HUB_SERVICE_PORT": str(self.hub_service.port),
                "PROXY_API_SERVICE_HOST": "127.0.0.1",
                "PROXY_API_SERVICE_PORT": str(self.api_port),
                "PROXY_PUBLIC_SERVICE_HOST": "127.0.0.1",
                "PROXY_PUBLIC_SERVICE_PORT": str(self.proxy_port),
                "PROXY_PUBLIC_SERVICE_PORT_HTTP": str(self.proxy_port),
                "KUBECONFIG": str(kubeconfig),
                "no_proxy": "127.0.0.1,localhost",
                "NO_PROXY": "127.0.0.1,localhost",
                "Z2JH_TEST_MOUNT": str(mount),
                "Z2JH_TEST_SCRIPT_DIR": str(HUB_SCRIPT_DIR),
            }
        )
        env.update(self._extra_env())
        env.update(self.extra_env)
        return env

    def hub_args(self) -> list[str]:
        """The hub container's args (templates/hub-deployment.yaml)."""
        hub = self.values["hub"]
        if hub.get("args"):
            return list(hub["args"])
        args = ["jupyterhub", "--config", str(chart_path("hub", "jupyterhub_config.py"))]
        if self.values["debug"]["enabled"]:
            args.append("--debug")
        upgrade = hub["db"].get("upgrade")
        if upgrade is True or (upgrade is None and hub["db"]["type"] == "sqlite-pvc"):
            args.append("--upgrade-db")
        return args

    def proxy_args(self) -> list[str]:
        """The proxy container's command (the chart's templates/proxy/deployment.yaml, which
        the shared checkout lacks: its arguments for plain HTTP, with 8000/8001 as free ports
        and the pod's all-interfaces addresses as loopback)."""
        chp = self.values["proxy"]["chp"]
        hub = f"http://127.0.0.1:{self.hub_service.port}"  # http://hub:$(HUB_SERVICE_PORT)
        chp_command = chp.get("command") or ["configurable-http-proxy"]  # 4.3.2 has no value
        name = chp_command[0]
        found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
        if not found:
            raise Unavailable(f"{name} not found on PATH or next to Python (scripts/bootstrap)")
        command = [found, *chp_command[1:]]
        args = [
            *command,
            "--ip=127.0.0.1",
            "--api-ip=127.0.0.1",
            f"--api-port={self.api_port}",
            f"--default-target={chp.get('defaultTarget') or hub}",
            f"--error-target={chp.get('errorTarget') or hub + '/hub/error'}",
            f"--port={self.proxy_port}",
        ]
        if self.values["debug"]["enabled"]:
            args.append("--log-level=debug")
        return args + list(chp.get("extraCommandLineFlags") or [])

    # --- running -----------------------------------------------------------------------
    def start(self, timeout: float = 60) -> ChartHub:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Start the proxy and the hub without waiting (several hubs can start side by side)."""
        try:
            import pycurl  # noqa: F401 - the chart's script configures tornado's curl client
        except ImportError:
            raise Unavailable(
                "pycurl is not installed: the chart's jupyterhub_config.py makes tornado use "
                "its curl client (the hub image has pycurl). pip install pycurl"
            ) from None
        mount = self.write_mounts()
        env = self.environment(mount)
        state = self.dir / "srv-jupyterhub"  # the hub's working directory (/srv/jupyterhub)
        state.mkdir(exist_ok=True)
        proxy_env = {"PATH": env["PATH"], "CONFIGPROXY_AUTH_TOKEN": env["CONFIGPROXY_AUTH_TOKEN"]}
        self.proxy = ManagedProcess(f"{self.name}-chp", self.proxy_args(), self.dir, env=proxy_env)
        cmd = [sys.executable, "-c", LOADER, *self.hub_args()]
        self.hub = ManagedProcess(f"{self.name}-hub", cmd, self.dir, env=env, cwd=state)

    def wait_ready(self, timeout: float) -> None:
        def ready() -> bool:
            for proc in (self.hub, self.proxy):
                assert proc is not None
                if not proc.alive():
                    raise GiveUp(f"{proc.name} exited:\n{self.log()[-6000:]}")
            hub = requests.get(self.hub_url("health"), timeout=2)
            svc = requests.get(self.service_url("api/health"), timeout=2)
            return hub.status_code == 200 and svc.status_code == 403

        try:
            wait_until(ready, timeout, f"the chart's hub at {self.url}", interval=0.2)
        except TimeoutError:
            raise TimeoutError(f"hub not ready:\n{self.log()[-6000:]}") from None

    def log(self) -> str:
        return self.hub.log_text() if self.hub else ""

    def stop(self) -> None:
        running = [p for p in (self.hub, self.proxy) if p is not None]
        with ThreadPoolExecutor() as pool:  # the hub takes a few seconds to shut down
            list(pool.map(ManagedProcess.stop, running))
        self.hub_service.close()

    def hub_url(self, path: str = "") -> str:
        return f"{self.url}hub/{path}"

    def service_url(self, path: str = "") -> str:
        return f"{self.url}services/hub-extensions/{path}"

    # --- acting as a user (DummyAuthenticator, the chart's default) ----------------------
    def login(self, name: str) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        s.get(self.hub_url("login"), timeout=10).raise_for_status()
        r = s.post(
            self.hub_url("login"),
            data={"username": name, "password": "any", "_xsrf": s.cookies.get("_xsrf")},
            timeout=30,
            allow_redirects=False,
        )
        if r.status_code != 302:
            raise AssertionError(f"login of {name} failed: {r.status_code} {r.text[:500]}")
        return s

    def token(self, session: requests.Session, name: str) -> str:
        # a page first: JupyterHub 5.4 binds the XSRF cookie to the session id the login set
        session.get(self.hub_url("home"), timeout=10).raise_for_status()
        r = session.post(
            self.hub_url(f"api/users/{name}/tokens"),
            json={"note": "z2jh tier"},
            headers={"X-XSRFToken": session.cookies.get("_xsrf", path=None) or ""},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["token"]

    def service_environment(self) -> dict[str, str]:
        """The environment of the hub-extensions service process (a child of the hub)."""
        assert self.hub is not None
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid != self.hub.proc.pid:
                    continue
                raw = (proc / "environ").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            env = dict(e.split("=", 1) for e in raw.decode().split("\0") if "=" in e)
            if env.get("JUPYTERHUB_SERVICE_NAME") == "hub-extensions":
                return env
        raise AssertionError(f"no hub-extensions service process under the hub:\n{self.log()}")
