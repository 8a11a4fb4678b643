"""A hub that uses KubeSpawner's or DockerSpawner's own class works with hub-extensions installed.

JupyterHub loads every installed `jupyterhub.spawners` entry point (ours included) before
`jupyterhub_config.py` runs. A config that sets `KUBECONFIG` or `DOCKER_HOST` in `os.environ`
must still be what the backend reads. Each hub here is plain `python -m jupyterhub` (not our
demo, no `setup(c)`), with the DummyAuthenticator; both start side by side.
Not covered: a real cluster or engine behind those addresses (nothing listens there): the
spawn page renders KubeSpawner's own profile form, which needs the kube config loaded, and a
Docker start fails on the configured address, which shows the address was the one read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
import requests

from .infra.common import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.hub

PASSWORD = "entry-points-test"
PROFILES = ["Small profile from the config", "Large profile from the config"]


class PlainHub:
    """`python -m jupyterhub -f jupyterhub_config.py` in a directory of its own."""

    def __init__(self, workdir: Path, config: str, dead_port: int):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.dead_port = dead_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hub/"
        (workdir / "jupyterhub_config.py").write_text(
            dedent(f"""
            c.JupyterHub.ip = "127.0.0.1"
            c.JupyterHub.port = {self.port}
            c.JupyterHub.hub_port = {free_port()}
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
            c.JupyterHub.db_url = "sqlite:///:memory:"
            c.JupyterHub.authenticator_class = "dummy"
            c.DummyAuthenticator.password = {PASSWORD!r}
            c.Authenticator.allow_all = True
            """)
            + dedent(config)
        )
        env = {**os.environ, "HOME": str(workdir)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        for name in ("KUBECONFIG", "DOCKER_HOST"):
            env.pop(name, None)  # only the config file sets them
        self.proc = ManagedProcess(
            f"hub-{workdir.name}",
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            workdir,
            cwd=workdir,
            env=env,
        )

    def wait_ready(self) -> None:
        def up() -> bool:
            assert self.proc.alive(), self.proc.log_text()[-3000:]
            try:
                return requests.get(self.url + "health", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(up, 60, f"JupyterHub at {self.url}", interval=0.2)

    def login(self, name: str) -> requests.Session:
        s = requests.Session()
        s.get(self.url + "login", timeout=10)
        r = s.post(
            self.url + "login",
            data={"username": name, "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf")},
            timeout=30,
        )
        assert r.status_code == 200, f"login of {name}: {r.status_code}\n{self.log()[-3000:]}"
        return s

    def log(self) -> str:
        return self.proc.log_text()


@pytest.fixture(scope="module")
def hubs(tmp_path_factory) -> Iterator[dict[str, PlainHub]]:
    root = tmp_path_factory.mktemp("entry-points")
    kubeconfig = root / "kubeconfig"
    # bound, never listening: connections are refused, and no hub or proxy can take the port
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    dead = holder.getsockname()[1]  # no cluster, no Docker engine
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        f"clusters: [{{name: nowhere, cluster: {{server: 'https://127.0.0.1:{dead}'}}}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody, namespace: hub}}]\n"
        "users: [{name: nobody, user: {token: not-a-token}}]\n"
    )
    profiles = [{"display_name": PROFILES[0], "slug": "small", "default": True}]
    profiles += [{"display_name": PROFILES[1], "slug": "large"}]
    hubs = {
        "kubespawner": PlainHub(
            root / "kubespawner",
            f"""
            import os
            os.environ["KUBECONFIG"] = {str(kubeconfig)!r}
            c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
            c.KubeSpawner.profile_list = {profiles!r}
            """,
            dead,
        ),
        "dockerspawner": PlainHub(
            root / "dockerspawner",
            f"""
            import os
            os.environ["DOCKER_HOST"] = "tcp://127.0.0.1:{dead}"
            c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
            c.DockerSpawner.options_form = "<input name='flavour' value='plain-docker-form'>"
            """,
            dead,
        ),
    }
    try:
        for hub in hubs.values():
            hub.wait_ready()
        yield hubs
    finally:
        for hub in hubs.values():  # both shut down at once, then each is waited for
            with contextlib.suppress(ProcessLookupError):
                os.killpg(hub.proc.proc.pid, signal.SIGTERM)
        for hub in hubs.values():
            hub.proc.stop()
        holder.close()


def test_kubespawner_own_form_with_kubeconfig_set_in_the_config(hubs):
    hub = hubs["kubespawner"]
    session = hub.login("kim")
    page = session.get(hub.url + "spawn", timeout=30)
    assert page.status_code == 200, hub.log()[-3000:]
    for name in PROFILES:
        assert name in page.text  # KubeSpawner's built-in profile form
    assert "kube-config" not in hub.log()
    assert "Traceback" not in hub.log()


def test_dockerspawner_with_docker_host_set_in_the_config(hubs):
    hub = hubs["dockerspawner"]
    session = hub.login("dana")
    page = session.get(hub.url + "spawn", timeout=30)
    assert page.status_code == 200, hub.log()[-3000:]
    assert "plain-docker-form" in page.text
    assert "Traceback" not in hub.log()
    # a start goes to the address the config set, not the default socket
    session.post(
        hub.url + "spawn",
        data={"flavour": "x", "_xsrf": session.cookies.get("_xsrf")},
        timeout=30,
    )
    wait_until(
        lambda: f"port={hub.dead_port}" in hub.log() or f":{hub.dead_port}" in hub.log(),
        20,
        "the Docker start refused at the configured DOCKER_HOST, in the hub's log",
    )
