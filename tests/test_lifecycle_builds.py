"""Builds die with the service (issue #13, deliverable 4): `kill -9` of the service mid-build,
then of the hub mid-build.

A real hub (JupyterHub, configurable-http-proxy, the managed service), a git daemon, real
repo2docker and the Docker engine (through the buildx adapter). The build's `RUN` step prints a
marker and sleeps; when the marker reaches the client, the service is killed with SIGKILL.
Checked: no process of that build is left (supervisor, repo2docker, docker CLI: by the build id
in their command lines), no work directory in the service's TMPDIR, no container with the
build's label; the hub restarts the service (polled every second here), whose history shows
the build failed with the reason, and so the build that was queued behind it (it was only in
memory before); a new request builds once (two requests share one build); a request over the
queue cap gets BinderHub's rate-limit answer (HTTP 200, `failed` with `status_code: 429`,
`Retry-After`).
Not covered: a machine reboot (the next start's clean_previous_run() sweep, tested on its own
in test_builds_executor.py), the `binderhub` executor (its builds run in BinderHub).
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from pathlib import Path
from urllib.parse import quote

import docker
import pytest
import requests

from hub_extensions.builds import history
from hub_extensions.builds.events import parse_sse
from hub_extensions.builds.executors.local_repo2docker import JOB_LABEL

from .infra.buildx_adapter import install_buildx_adapter
from .infra.common import wait_until
from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo
from .infra.hub import DemoHub, marked_processes

pytestmark = pytest.mark.docker

#: JupyterHub polls a managed service every 30 s; 1 s here, so the killed one is restarted soon
QUICK_POLL = """
from jupyterhub.services import service
from traitlets import Integer


class QuickPolledServiceSpawner(service._ServiceSpawner):
    poll_interval = Integer(1)


service._ServiceSpawner = QuickPolledServiceSpawner
"""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def processes_with(marker: str) -> dict[int, str]:
    """Live processes whose command line contains `marker` (zombies excluded)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        line = cmdline(int(entry.name))
        if marker in line and state != "Z":
            found[int(entry.name)] = line[:300]
    return found


def service_pids(demo: DemoHub) -> list[int]:
    return [p for p in marked_processes(demo.run_id) if "-m hub_extensions.service" in cmdline(p)]


@pytest.fixture(scope="module")
def stack(docker_engine, base_image, hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lifecycle-builds")
    service_tmp = tmp / "service-tmp"
    service_tmp.mkdir()
    env = {**install_buildx_adapter(tmp / "docker-config"), "TMPDIR": str(service_tmp)}
    marker = f"SLOW-{uuid.uuid4().hex[:8]}"
    for name in ("slow", "other", "third"):
        make_repo(
            tmp / "repos" / name,
            {"Dockerfile": f"FROM {base_image}\nRUN echo {marker} {name} && sleep 300\n"},
        )
    daemon = GitDaemon(tmp / "repos", log_dir=tmp).start()
    config = (
        QUICK_POLL
        + f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        + "c.HubExtensionsBuilds.keepalive_interval = 0.5\n"
        + "c.HubExtensionsBuilds.max_queued_builds_per_user = 1\n"  # a user's second build waits, a third: 429
        + LOOPBACK_BUILDS_CONFIG
    )
    # the module's own: its tests kill its service and then the hub
    demo = hub_factory.new(tmp / "hub", config=config, who=request.node.nodeid)
    try:
        yield demo, daemon, marker, service_tmp
    finally:
        demo.stop()
        daemon.stop()


def repo_url(demo: DemoHub, daemon: GitDaemon, name: str) -> str:
    return demo.service_url(f"build/git/{quote(daemon.repo_url(name), safe='')}/HEAD")


def first_event(response: requests.Response) -> dict:
    lines = response.iter_lines(decode_unicode=True)
    for line in lines:
        if line.startswith("data:"):
            return json.loads(line[5:])
    raise AssertionError("the stream ended without an event")


def test_kill_9_of_the_service_mid_build_leaves_nothing_and_the_history_says_why(stack):
    demo, daemon, marker, service_tmp = stack
    token = demo.token(demo.login("kim"), "kim")
    auth = {"Authorization": f"token {token}"}
    url = demo.service_url(f"build/git/{quote(daemon.repo_url('slow'), safe='')}/HEAD")
    [service] = service_pids(demo)

    with requests.get(url, headers=auth, stream=True, timeout=120) as r:
        # the panel ends a stream after 3 of these without a chunk (frontend client.ts)
        assert r.headers["X-Keepalive-Interval"] == "0.5"
        lines: list[str] = []
        for line in r.iter_lines(decode_unicode=True):
            lines.append(line)
            if marker in line and "RUN" not in line:  # the step runs (not its announcement)
                break
        build_id = next(parse_sse(lines)).extra["buildId"]
        assert processes_with(build_id), "the build's processes should be running"
        # the user's one build slot is taken: a second build waits in the queue
        with requests.get(
            repo_url(demo, daemon, "other"), headers=auth, stream=True, timeout=60
        ) as w:
            queued_id = first_event(w)["buildId"]
        os.kill(service, signal.SIGKILL)

    client = docker.from_env()
    try:
        wait_until(lambda: not processes_with(build_id), 30, "the build's processes to end")
        assert not list(service_tmp.glob("hubext-build-*")), "work directory left behind"
        left = client.containers.list(all=True, filters={"label": f"{JOB_LABEL}={build_id}"})
        assert left == []
    finally:
        for pid in processes_with(build_id):  # do not leave them to the next tests
            os.kill(pid, signal.SIGKILL)
        client.close()

    # the hub restarts its service; the history says what happened to the build
    wait_until(lambda: [p for p in service_pids(demo) if p != service], 30, "a new service")

    def restarted_and_recorded() -> bool:
        r = requests.get(demo.service_url(f"api/builds/{build_id}"), headers=auth, timeout=10)
        return r.status_code == 200 and r.json()["status"] == "failed"

    wait_until(restarted_and_recorded, 30, "the interrupted build in the history")
    shown = requests.get(demo.service_url(f"api/builds/{build_id}"), headers=auth, timeout=10)
    assert "The build service restarted during this build" in "".join(shown.json()["log"])
    listed = requests.get(demo.service_url("api/builds"), headers=auth, timeout=10).json()
    entries = {b["id"]: b for b in listed["builds"]}
    assert entries[queued_id]["status"] == "failed"  # queued when the service died
    assert entries[queued_id]["message"] == history.INTERRUPTED_WAITING.strip()
    assert entries[build_id]["message"] == history.INTERRUPTED.strip()

    # a new request builds again, once: a second request attaches to the same build
    with (
        requests.get(url, headers=auth, stream=True, timeout=120) as one,
        requests.get(url, headers=auth, stream=True, timeout=120) as two,
    ):
        first, second = first_event(one), first_event(two)
        assert first["buildId"] == second["buildId"] != build_id
        assert first["phase"] == "waiting"
        wait_until(lambda: processes_with(first["buildId"]), 30, "the new build to run")
        new_build = processes_with(first["buildId"]).values()
        supervisors = [line for line in new_build if "executors.supervise" in line]
        running = requests.get(demo.service_url("api/builds"), headers=auth, timeout=10).json()
        building = [b for b in running["builds"] if b["status"] == "building"]
        assert [b["id"] for b in building] == [first["buildId"]]
        assert len(supervisors) == 1
        # the user's one build slot is taken and one build waits: BinderHub's rate-limit answer
        with requests.get(
            repo_url(demo, daemon, "other"), headers=auth, stream=True, timeout=60
        ) as w:
            waiting = first_event(w)["buildId"]
        refused = requests.get(repo_url(demo, daemon, "third"), headers=auth, timeout=30)
        assert refused.status_code == 200
        assert refused.headers["Retry-After"] == "60"
        [event] = list(parse_sse(refused.text.splitlines()))
        assert event.phase == "failed"
        assert event.extra["status_code"] == 429
        assert event.message.endswith("Try again in 60 seconds.\n")
        for cancel in (waiting, first["buildId"]):
            r = requests.delete(demo.service_url(f"api/builds/{cancel}"), headers=auth, timeout=60)
            assert r.status_code in (200, 204), r.text
    wait_until(lambda: not processes_with(first["buildId"]), 30, "the cancelled build to end")


def test_kill_9_of_the_hub_mid_build_takes_the_build_down_with_the_service(stack):
    """The chain: the hub dies (kill -9), its service exits (it watches the hub), and the
    build goes with it. The service exits gracefully here, cancelling its builds itself, so
    this guards the chain rather than the supervisor (the service's own kill -9, above, needs
    the supervisor). Runs last: the demo is gone after it (its proxy is removed with the
    crashed run's processes at the session's end)."""
    demo, daemon, marker, service_tmp = stack
    token = demo.token(demo.login("lou"), "lou")
    url = demo.service_url(f"build/git/{quote(daemon.repo_url('other'), safe='')}/HEAD")
    with requests.get(
        url, headers={"Authorization": f"token {token}"}, stream=True, timeout=120
    ) as r:
        lines: list[str] = []
        for line in r.iter_lines(decode_unicode=True):
            lines.append(line)
            if f"{marker} other" in line and "RUN" not in line:
                break
        build_id = next(parse_sse(lines)).extra["buildId"]
        assert processes_with(build_id)
        crashed = demo.kill_hub_hard()
    try:
        wait_until(lambda: not processes_with(build_id), 30, "the build's processes to end")

        def service_gone() -> bool:
            return not [
                p for p in marked_processes(crashed) if "hub_extensions.service" in cmdline(p)
            ]

        wait_until(service_gone, 30, "the crashed hub's service to exit")
        assert not list(service_tmp.glob("hubext-build-*")), "work directory left behind"
        client = docker.from_env()
        try:
            left = client.containers.list(all=True, filters={"label": f"{JOB_LABEL}={build_id}"})
        finally:
            client.close()
        assert left == []
    finally:
        for pid in processes_with(build_id):
            os.kill(pid, signal.SIGKILL)
