"""Session capture on a real hub (LocalProcessSpawner; DockerSpawner in the docker tier).

What an admin would check is asserted: the ledger's rows (read from its database, as the
service does) and the hub's `/hub/metrics` text.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from hub_extensions.usage import Ledger

from .infra.common import wait_until
from .infra.hub import DemoHub, marked_processes

UTC = timezone.utc
HEARTBEAT = 1.0
CULLER_TOKEN = "culler-token-0123456789abcdef"
CONFIG = f"""
import sys
c.HubExtensionsUsage.heartbeat_interval = {HEARTBEAT}
c.HubExtensionsUsage.active_users_refresh_interval = 1
c.Spawner.poll_interval = 1
c.JupyterHub.authenticate_prometheus = False
c.JupyterHub.allow_named_servers = True
c.JupyterHub.services = [{{"name": "idle-culler", "api_token": {CULLER_TOKEN!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users", "servers"],
    "services": ["idle-culler"],
}}]
c.ProfilesSimpleLocalProcessSpawner.profile_list = [
    {{"display_name": "Python", "default": True}},
    {{"display_name": "Teaching", "slug": "teaching"}},
    {{
        "display_name": "Broken",
        "slug": "broken",
        # starts a process that never answers: the hub gives up after http_timeout
        "kubespawner_override": {{
            "cmd": [sys.executable, "-c", "import time; time.sleep(60)"],
            "http_timeout": 2,
        }},
    }},
]
"""


def ledger_of(demo: DemoHub) -> Ledger:
    return Ledger(f"sqlite:///{demo.state / 'hub-extensions-usage.sqlite'}")


def sessions(demo: DemoHub, user: str) -> list[dict]:
    ledger = ledger_of(demo)
    try:
        return ledger.sessions(user=user)
    finally:
        ledger.close()


def wait_for_session(demo: DemoHub, user: str, check, timeout: float = 30) -> dict:
    """The user's newest session once `check(row)` holds."""
    found: list[dict] = []

    def ready() -> bool:
        rows = sessions(demo, user)
        if rows and check(rows[0]):
            found.append(rows[0])
            return True
        return False

    try:
        wait_until(ready, timeout, f"a session of {user}", interval=0.3)
    except TimeoutError:
        raise AssertionError(f"{sessions(demo, user)}\n{demo.log()[-4000:]}") from None
    return found[0]


def metrics(demo: DemoHub) -> str:
    r = requests.get(demo.hub_url("metrics"), timeout=10)
    r.raise_for_status()
    return r.text


def metric_value(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def server_pids(run_id: str, user: str) -> list[int]:
    """PIDs of `user`'s single-user server processes of a demo run."""
    pids = []
    for pid in marked_processes(run_id):
        proc = Path(f"/proc/{pid}")
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"JUPYTERHUB_USER={user}".encode() in env:
            pids.append(pid)
    return pids


def post_activity(demo: DemoHub, api: requests.Session, user: str) -> None:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = {"last_activity": now, "servers": {"": {"last_activity": now}}}
    r = api.post(demo.hub_url(f"api/users/{user}/activity"), json=body, timeout=10)
    assert r.status_code == 200, r.text


HUB = {"config": CONFIG}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    demo.admin = demo.api(demo.token(demo.login("demo"), "demo"))
    return demo


@pytest.mark.hub
def test_spawn_and_stop_make_one_closed_session_with_what_was_asked(hub):
    admin = hub.admin
    r = admin.post(hub.hub_url("api/groups/physics"), json={"users": []}, timeout=10)
    assert r.status_code in (201, 409), r.text
    admin.post(hub.hub_url("api/users/ann"), timeout=10)
    admin.post(hub.hub_url("api/groups/physics/users"), json={"users": ["ann"]}, timeout=10)
    hub.spawn(admin, "ann", profile="teaching")
    hub.stop_server(admin, "ann")
    row = wait_for_session(hub, "ann", lambda r: r["ended_at"] is not None)
    assert len(sessions(hub, "ann")) == 1
    assert row["end_reason"] == "user_stop"
    assert row["end_inferred"] is False
    assert row["ready_at"] is not None
    assert row["requested_at"] <= row["ready_at"]
    assert row["ready_at"] <= row["ended_at"]
    assert row["profile_slug"] == "teaching"
    assert row["options"] == {"profile": "teaching"}
    assert row["groups"] == ["physics"]
    assert row["spawner_class"] == "ProfilesSimpleLocalProcessSpawner"
    assert row["image"] is None  # a local process has no image
    text = metrics(hub)
    series = (
        'hub_extensions_session_duration_seconds_count{end_reason="user_stop",profile="teaching"}'
    )
    assert metric_value(text, series) == 1.0


@pytest.mark.hub
def test_heartbeat_accrues_time_and_activity_makes_the_user_active(hub):
    admin = hub.admin
    admin.post(hub.hub_url("api/users/bo"), timeout=10)
    admin.post(hub.hub_url("api/groups/biology"), json={"users": ["bo"]}, timeout=10)
    hub.spawn(admin, "bo")
    first = wait_for_session(hub, "bo", lambda r: r["ready_at"] is not None)
    post_activity(hub, admin, "bo")

    def became_active(r: dict) -> bool:
        if r["active_seconds"] > 0 and r["seconds"] >= 2:
            return True
        # activity keeps coming, as a working user's does: a heartbeat that falls between a
        # post's timestamp and its arrival at the hub counts that post's instant as idle
        post_activity(hub, admin, "bo")
        return False

    row = wait_for_session(hub, "bo", became_active)
    assert row["ended_at"] is None
    assert row["id"] == first["id"]
    assert row["last_seen_at"] > first["last_seen_at"]
    text = metrics(hub)
    assert metric_value(text, 'hub_extensions_running_sessions{profile="python"}') == 1.0

    def active() -> bool:
        text = metrics(hub)
        by_group = 'hub_extensions_active_users_by_group{group="biology",window="daily"}'
        return (metric_value(text, 'hub_extensions_active_users{window="daily"}') or 0) >= 1 and (
            metric_value(text, by_group) == 1.0
        )

    wait_until(active, 20, "bo counted as active", interval=0.5)
    text = metrics(hub)
    assert metric_value(text, 'hub_extensions_active_users{window="monthly"}') >= 1
    assert "hub_extensions_ledger_write_failures_total 0.0" in text
    assert "hub_extensions_user_running_sessions" not in text  # per-user series are opt-in
    hub.stop_server(admin, "bo")
    row = wait_for_session(hub, "bo", lambda r: r["ended_at"] is not None)
    assert row["seconds"] == pytest.approx(
        (row["ended_at"] - row["ready_at"]).total_seconds(), abs=0.01
    )


@pytest.mark.hub
def test_a_stop_by_the_idle_culler_service_is_a_cull(hub):
    hub.admin.post(hub.hub_url("api/users/cid"), timeout=10)
    hub.spawn(hub.admin, "cid")
    culler = hub.api(CULLER_TOKEN)
    hub.stop_server(culler, "cid")
    row = wait_for_session(hub, "cid", lambda r: r["ended_at"] is not None)
    assert row["end_reason"] == "cull"


@pytest.mark.hub
def test_a_server_killed_outside_the_hub_is_found_dead(hub):
    hub.admin.post(hub.hub_url("api/users/dee"), timeout=10)
    hub.spawn(hub.admin, "dee")
    wait_for_session(hub, "dee", lambda r: r["ready_at"] is not None)
    pids = server_pids(hub.run_id, "dee")
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    killed = datetime.now(UTC)
    row = wait_for_session(hub, "dee", lambda r: r["ended_at"] is not None)
    assert row["end_reason"] == "found_dead"
    assert row["end_inferred"] is True
    # noticed by the hub's poll (every second here), not much later
    assert 0 <= (row["ended_at"] - killed).total_seconds() < 5


@pytest.mark.hub
def test_a_server_that_never_answers_is_a_failed_spawn(hub):
    hub.admin.post(hub.hub_url("api/users/eve"), timeout=10)
    r = hub.admin.post(hub.hub_url("api/users/eve/server"), json={"profile": "broken"}, timeout=30)
    # the hub gives up within the request (a 500 naming no cause), or after it (202)
    assert r.status_code in (202, 500), r.text
    row = wait_for_session(hub, "eve", lambda r: r["ended_at"] is not None, timeout=60)
    assert row["end_reason"] == "spawn_failed"
    assert row["ready_at"] is None
    assert row["seconds"] == 0
    assert row["profile_slug"] == "broken"


@pytest.mark.hub
def test_named_servers_are_sessions_of_their_own(hub):
    admin = hub.admin
    admin.post(hub.hub_url("api/users/fay"), timeout=10)
    r = admin.post(hub.hub_url("api/users/fay/servers/lab"), json={"profile": "python"}, timeout=30)
    assert r.status_code in (201, 202), r.text
    hub.spawn_wait(admin, "fay", server="lab")
    hub.stop_server(admin, "fay", server="lab")
    row = wait_for_session(hub, "fay", lambda r: r["ended_at"] is not None)
    assert (row["server_name"], row["end_reason"]) == ("lab", "user_stop")


def kill_leftovers(run_id: str, keep: list[int]) -> None:
    """After a crash: the proxy and service of the old run go (the restart brings its own)."""
    for pid in marked_processes(run_id):
        if pid not in keep:
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: set(marked_processes(run_id)) <= set(keep), 10, "leftovers gone")


@pytest.mark.hub
@pytest.mark.hub_ahead(config=CONFIG)
def test_kill_9_of_the_hub_then_restart_reconciles_and_adopts(make_hub):
    demo = make_hub(config=CONFIG)
    state = demo.log_dir  # the restarted hub's too
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    for user in ("gone", "stays"):
        admin.post(demo.hub_url(f"api/users/{user}"), timeout=10)
        demo.spawn(admin, user)
    for user in ("gone", "stays"):
        wait_for_session(demo, user, lambda r: r["seconds"] >= 2 * HEARTBEAT)
    crashed = demo.kill_hub_hard()
    killed = datetime.now(UTC)
    gone, stays = server_pids(crashed, "gone"), server_pids(crashed, "stays")
    for pid in gone:  # this server dies with the machine; the other one survives the hub
        os.kill(pid, signal.SIGKILL)
    kill_leftovers(crashed, keep=stays)
    time.sleep(3 * HEARTBEAT)  # a downtime longer than a heartbeat
    # the same state, on another public port (the old one lingers in TIME_WAIT)
    crashed_runs = demo.crashed_runs
    demo = make_hub(state, config=CONFIG)
    demo.crashed_runs = crashed_runs  # swept at the session's end if anything is left
    admin = demo.api(demo.token(demo.login("demo"), "demo"))

    row = wait_for_session(demo, "gone", lambda r: r["ended_at"] is not None)
    assert row["end_reason"] == "reconciled"
    assert row["end_inferred"] is True
    assert row["ended_at"] == row["last_seen_at"]  # at its last-seen time, not at restart
    assert 0 <= (killed - row["ended_at"]).total_seconds() <= HEARTBEAT + 0.5
    real = (killed - row["ready_at"]).total_seconds()
    assert abs(real - row["seconds"]) <= HEARTBEAT + 0.5

    before = wait_for_session(demo, "stays", lambda r: r["last_seen_at"] > killed)
    assert before["ended_at"] is None  # adopted: the same session goes on
    demo.stop_server(admin, "stays")
    row = wait_for_session(demo, "stays", lambda r: r["ended_at"] is not None)
    assert len(sessions(demo, "stays")) == 1
    assert row["end_reason"] == "user_stop"
    # up the whole time, the hub's downtime included; counted once
    up = (row["ended_at"] - row["ready_at"]).total_seconds()
    assert row["seconds"] == pytest.approx(up, abs=0.01)
    ledger = ledger_of(demo)
    try:
        summary = ledger.summary("stays")
    finally:
        ledger.close()
    assert summary["sessions"] == 1
    assert summary["seconds"] == pytest.approx(row["seconds"], abs=0.01)

    # a clean shutdown with cleanup_servers stops the running servers: hub_down
    demo.spawn(admin, "gone")
    wait_for_session(demo, "gone", lambda r: r["ended_at"] is None and r["ready_at"] is not None)
    demo.stop()
    row = wait_for_session(demo, "gone", lambda r: r["ended_at"] is not None)
    assert row["end_reason"] == "hub_down"
    assert len(sessions(demo, "gone")) == 2


def own_ledger(demo: DemoHub) -> str:
    """CONFIG with a ledger database in a directory of the hub's own (the test locks it)."""
    db = demo.log_dir / "ledger" / "usage.sqlite"
    db.parent.mkdir(exist_ok=True)
    return CONFIG + f"\nc.HubExtensionsUsage.db_url = {f'sqlite:///{db}'!r}\n"


@pytest.mark.hub
@pytest.mark.hub_ahead(config=own_ledger)
def test_with_the_ledger_database_locked_spawns_work_and_writes_land_later(make_hub):
    demo = make_hub(config=own_ledger)
    db = demo.log_dir / "ledger" / "usage.sqlite"
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    admin.post(demo.hub_url("api/users/gil"), timeout=10)
    wait_until(db.exists, 20, "the ledger database")
    # another writer holds the database: every write of the hub fails (after its busy timeout)
    lock = sqlite3.connect(db, isolation_level=None, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.monotonic()
        demo.spawn(admin, "gil")
        # the spawn did not wait for the ledger (which stays locked until we let go)
        assert time.monotonic() - t0 < 30

        def failures() -> float:
            value = metric_value(metrics(demo), "hub_extensions_ledger_write_failures_total")
            return value or 0.0

        wait_until(lambda: failures() >= 1, 30, "a ledger write failure counted", interval=0.5)
        assert sessions_at(db, "gil") == []
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    ledger = Ledger(f"sqlite:///{db}")
    try:

        def landed() -> bool:
            rows = ledger.sessions(user="gil")
            return bool(rows) and rows[0]["ready_at"] is not None and rows[0]["seconds"] > 0

        wait_until(landed, 30, "the queued writes to land", interval=0.5)
        demo.stop_server(admin, "gil")
        wait_until(
            lambda: ledger.sessions(user="gil")[0]["end_reason"] == "user_stop", 30, "the stop"
        )
        assert len(ledger.sessions(user="gil")) == 1
    finally:
        ledger.close()
        demo.stop()


def sessions_at(db: Path, user: str) -> list[dict]:
    ledger = Ledger(f"sqlite:///{db}")
    try:
        return ledger.sessions(user=user)
    finally:
        ledger.close()


@pytest.mark.docker
def test_docker_kill_of_a_server_container_is_found_dead(make_hub, base_image):
    import docker

    demo = make_hub(
        spawner="docker",
        image=base_image,
        config=f"c.HubExtensionsUsage.heartbeat_interval = {HEARTBEAT}\n"
        "c.Spawner.poll_interval = 1\nc.JupyterHub.authenticate_prometheus = False\n",
    )
    try:
        admin = demo.api(demo.token(demo.login("demo"), "demo"))
        admin.post(demo.hub_url("api/users/hal"), timeout=10)
        demo.spawn(admin, "hal", profile="small")
        row = wait_for_session(demo, "hal", lambda r: r["ready_at"] is not None)
        assert row["image"] == base_image
        assert row["cpu_limit"] == 1.0
        assert row["mem_limit_bytes"] == 2**30
        client = docker.from_env()
        (container,) = client.containers.list(
            filters={"label": f"org.hub-extensions.demo-run={demo.run_id}"}
        )
        container.kill()
        row = wait_for_session(demo, "hal", lambda r: r["ended_at"] is not None)
        assert row["end_reason"] == "found_dead"
        assert row["end_inferred"] is True
        assert "found_dead" in metrics(demo)
    finally:
        demo.stop()
