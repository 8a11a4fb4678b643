"""No process outlives its parent: `kill -9` of the hub, of the service, and SIGTERM, on a real
hub (JupyterHub + configurable-http-proxy + the managed service, spawning local processes).

Each demo here runs with a fixed service port (as every real deployment has), its own TMPDIR
for the hub and the service, and a unique state directory; what a run leaves behind is found
by the run marker every process it starts carries (see `marked_processes`), by port and by
TMPDIR. Not covered here: builds (their processes and temp directories are the builds tier's)
and Docker containers (tests/test_lifecycle_docker.py).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from .infra.common import free_port, wait_until
from .infra.hub import DemoHub, marked_processes

pytestmark = pytest.mark.hub

#: JupyterHub polls a managed service every 30 s (not configurable); the test config makes it
#: 1 s so that a killed service is restarted at once (the restart itself is what is tested).
CONFIG = """
from jupyterhub.services import service
from traitlets import Integer


class QuickPolledServiceSpawner(service._ServiceSpawner):
    poll_interval = Integer(1)


service._ServiceSpawner = QuickPolledServiceSpawner
c.HubExtensions.service_url = "http://127.0.0.1:{port}"
c.HubExtensions.service_environment.update({{"TMPDIR": "{tmp}"}})
c.Spawner.environment.update({{"TMPDIR": "{tmp}"}})
"""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def service_pids(run_id: str) -> list[int]:
    return [p for p in marked_processes(run_id) if "-m hub_extensions.service" in cmdline(p)]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind; TIME_WAIT ok
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def make_demo(make_hub, tmp_path: Path, service_port: int) -> DemoHub:
    """A started hub of the test's own, in tmp_path (its state survives a restart)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    config = CONFIG.format(port=service_port, tmp=tmp)
    return make_hub(tmp_path, config=config, env={"TMPDIR": str(tmp)})


def health(demo: DemoHub, token: str) -> requests.Response:
    return requests.get(
        demo.service_url("api/health"), headers={"Authorization": f"token {token}"}, timeout=10
    )


def assert_nothing_left(demo: DemoHub, service_port: int, tmp_path: Path) -> None:
    for run_id in [*demo.crashed_runs, demo.run_id]:
        left = {p: cmdline(p) for p in marked_processes(run_id)}
        assert left == {}, f"processes of run {run_id} left behind: {left}"
    assert port_free(service_port), "the service port is still taken"
    assert port_free(demo.port), "the hub's public port is still taken"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_kill_9_of_the_service_then_of_the_hub_then_a_restart_on_the_same_port(make_hub, tmp_path):
    """The hub restarts a killed service on its fixed port; after the hub's own kill -9, its
    service exits by itself (it used to stay, holding the port: the next hub's service then
    crash-looped on "Address already in use"), and a restarted hub gets a working service."""
    service_port = free_port()
    demo = make_demo(make_hub, tmp_path, service_port)
    token = demo.token(demo.login("demo"), "demo")
    [first] = service_pids(demo.run_id)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: [p for p in service_pids(demo.run_id) if p != first], 15, "a new service")
    wait_until(lambda: health(demo, token).status_code == 200, 15, "the restarted service")
    [service] = service_pids(demo.run_id)

    crashed = demo.kill_hub_hard()
    started = time.monotonic()
    wait_until(lambda: not alive(service), 5, "the orphaned service to exit")
    took = time.monotonic() - started
    assert port_free(service_port)
    # what JupyterHub itself leaves after a kill -9: the proxy, which the next start removes
    # (through its pid file); and the servers, which it adopts (none here)
    left = [cmdline(p) for p in marked_processes(crashed)]
    assert all("configurable-http-proxy" in c for c in left), left

    crashed_runs = demo.crashed_runs
    demo = make_demo(make_hub, tmp_path, service_port)  # same state; a new public port
    demo.crashed_runs = crashed_runs
    try:
        r = health(demo, token)  # the token of the first run: same hub database
        assert r.status_code == 200, r.text
        assert marked_processes(crashed) == []
        assert "Address already in use" not in demo.log()
        assert len(service_pids(demo.run_id)) == 1
    finally:
        code = demo.interrupt()
    assert code == 0
    wait_until(lambda: marked_processes(demo.run_id) == [], 10, "every process of the run to exit")
    assert_nothing_left(demo, service_port, tmp_path)
    print(f"orphaned service exited {took:.2f}s after the hub's kill -9")


def test_sigterm_stops_the_hub_and_its_service_in_the_hubs_own_time(make_hub, tmp_path):
    """Also when the hub was started with SIGINT ignored (a background job of a shell without
    job control: the CI starts the suite that way). The service inherited that, ignored the
    SIGINT with which JupyterHub stops it, and stopped only after JupyterHub's 30 s timeout."""
    service_port = free_port()
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        demo = make_demo(make_hub, tmp_path, service_port)
    finally:
        signal.signal(signal.SIGINT, handler)
    try:
        api = demo.api(demo.token(demo.login("demo"), "demo"))
        demo.spawn(api, "demo")
        assert len(marked_processes(demo.run_id)) == 4  # hub, proxy, service, the server
        hub_pid = int((demo.state / "jupyterhub.pid").read_text())
        started = time.monotonic()
        os.kill(hub_pid, signal.SIGTERM)
        wait_until(
            lambda: marked_processes(demo.run_id) == [], 40, "the hub and its children to exit"
        )
        took = time.monotonic() - started
    finally:
        demo.stop()
    assert took < 8, f"SIGTERM took {took:.1f}s to stop the hub"
    log = demo.log()
    assert "hub-extensions service stopping (received SIGINT)" in log
    assert "hub-extensions service stopped" in log
    assert_nothing_left(demo, service_port, tmp_path)
    print(f"SIGTERM: hub, proxy, service and server gone in {took:.2f}s")
