"""The hub fixture: `hub-extensions demo` as a subprocess (JupyterHub + proxy + service)."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from urllib.parse import urljoin

import requests

from .common import GiveUp, ManagedProcess, free_port, wait_until

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
        def ready() -> bool:
            if not self.proc.alive():
                raise GiveUp(f"demo exited early:\n{self.proc.log_text()[-4000:]}")
            hub = requests.get(urljoin(self.url, "hub/health"), timeout=2)
            svc = requests.get(self.service_url("api/health"), timeout=2)
            # 403 from the service itself (not a 503/404 from the proxy) means it is up
            return hub.status_code == 200 and svc.status_code == 403

        try:
            wait_until(ready, timeout, f"the demo hub at {self.url}", interval=0.2)
        except TimeoutError:
            raise TimeoutError(f"demo not ready:\n{self.proc.log_text()[-4000:]}") from None

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
        if self.proc and self.proc.alive():
            self.interrupt()
        elif self.proc:
            self.proc.stop()

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
    fixtures that failed half-way)."""
    import contextlib
    import os

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
