"""The local repo2docker executor against the real engine, a git daemon and a local registry."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from hub_extensions.builds.executors import (
    JOB_LABEL,
    BuildJob,
    BuildResult,
    LocalRepo2DockerExecutor,
    image_exists,
)

from .infra.buildx_adapter import install_buildx_adapter
from .infra.git_repos import GitDaemon, make_repo

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def adapter_env(tmp_path_factory) -> dict[str, str]:
    return install_buildx_adapter(tmp_path_factory.mktemp("docker-config"))


@pytest.fixture(scope="module")
def git_daemon(tmp_path_factory):
    repos = tmp_path_factory.mktemp("repos")
    daemon = GitDaemon(repos, tmp_path_factory.mktemp("git-daemon-logs")).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module", autouse=True)
def _remove_test_images(docker_engine):
    """The images these tests built go when the module ends (the base image stays cached)."""
    yield
    for img in docker_engine.client.images.list(filters={"label": JOB_LABEL}):
        for tag in img.tags:
            if "hubext-test/" in tag:
                docker_engine.client.images.remove(tag, force=True)


@pytest.fixture
def executor(adapter_env) -> LocalRepo2DockerExecutor:
    return LocalRepo2DockerExecutor(env=adapter_env, kill_grace=5)


def dockerfile_repo(daemon: GitDaemon, name: str, base: str, body: str, **files: str):
    """A repository with a Dockerfile ``FROM base`` + ``body``; returns (url, sha, path)."""
    dockerfile = f"FROM {base}\nARG NB_USER=jovyan\nARG NB_UID=1000\n{body}\n"
    path, sha = make_repo(daemon.base_path / name, {"Dockerfile": dockerfile, **files})
    return daemon.repo_url(name), sha, path


def job_for(url: str, sha: str, image: str, **kw) -> BuildJob:
    return BuildJob(
        job_id=f"t-{uuid.uuid4().hex[:12]}", repo_url=url, ref=sha, image_name=image, **kw
    )


async def run_build(executor, job) -> tuple[BuildResult, list[dict]]:
    events: list[dict] = []
    result = await executor.build(job, events.append)
    return result, events


def phases(events: list[dict]) -> list[str | None]:
    """Event phases (None for repo2docker's phase-less events), consecutive repeats collapsed."""
    out: list[str | None] = []
    for event in events:
        if not out or out[-1] != event.get("phase"):
            out.append(event.get("phase"))
    return out


def processes_mentioning(*needles: str) -> list[str]:
    """Command lines of live processes that contain any needle (excluding ourselves)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(n in cmdline for n in needles):
            found.append(f"{pid}: {cmdline}")
    return found


def assert_no_leftovers(docker_engine, job: BuildJob, *markers: str, timeout: float = 15) -> None:
    """No container with the job's label, and (soon) no process naming the job or a marker."""
    containers = docker_engine.client.containers.list(
        all=True, filters={"label": f"{JOB_LABEL}={job.job_id}"}
    )
    assert containers == []
    deadline = time.monotonic() + timeout
    while (procs := processes_mentioning(job.job_id, *markers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert procs == [], procs


async def test_happy_path_builds_pushes_and_runs(
    executor, git_daemon, base_image, registry, docker_engine, artifacts
):
    """One build of a new commit, pushed to the local registry, then run. The executor's
    overhead against repo2docker's CLI run by hand is measured by benchmarks/bench_builds.py."""
    content = f"hello from the executor {uuid.uuid4()}\n"
    body = "COPY --chown=1000:1000 hello.txt /home/jovyan/hello.txt"
    url, sha, _ = dockerfile_repo(git_daemon, "happy", base_image, body, **{"hello.txt": content})
    image = f"{registry.host}/hubext-test/happy:{sha}"
    job = job_for(url, sha, image, push=True, timeout=300, labels={"test": "happy"})
    result, events = await run_build(executor, job)
    assert result.status == "built", "\n".join(result.log_tail)
    (artifacts / "builds-executor-happy-events.json").write_text(json.dumps(events, indent=1))

    # repo2docker's events as they came ("Picked Git content provider." has no phase), the
    # push marked; no `built`: the result says it
    assert phases(events) == [None, "fetching", "building", "pushing"], phases(events)
    assert events[0] == {"message": "Picked Git content provider.\n"}
    assert result.image_name == image
    assert all(e["message"].endswith("\n") for e in events)
    assert await image_exists(image, registry.url)
    assert await image_exists(image, registry.host)
    assert not await image_exists(f"{registry.host}/hubext-test/happy:nope", registry.url)
    assert await image_exists(image)  # the local engine has it too (built there)
    out = subprocess.run(
        ["/usr/bin/docker", "run", "--rm", image, "cat", "/home/jovyan/hello.txt"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == content
    labels = docker_engine.client.images.get(image).labels
    assert labels[JOB_LABEL] == job.job_id
    assert labels["test"] == "happy"
    assert_no_leftovers(docker_engine, job)


async def test_keeps_the_image_local_without_push(executor, git_daemon, base_image, docker_engine):
    url, sha, _ = dockerfile_repo(git_daemon, "local", base_image, f"RUN echo {uuid.uuid4()}")
    image = f"hubext-test/local:{sha}"
    result, events = await run_build(executor, job_for(url, sha, image, timeout=300))
    assert result.status == "built", "\n".join(result.log_tail)
    assert "pushing" not in phases(events)
    assert await image_exists(image)


async def test_broken_dockerfile_fails_with_log_tail(
    executor, git_daemon, base_image, docker_engine
):
    marker = f"broken-{uuid.uuid4().hex[:8]}"
    url, sha, _ = dockerfile_repo(git_daemon, "broken", base_image, f"RUN echo {marker} && exit 3")
    job = job_for(url, sha, f"hubext-test/broken:{sha}", timeout=300)
    result, events = await run_build(executor, job)
    assert result.status == "failed"
    assert [e.get("phase") for e in events].count("failed") == 1
    assert events[-1]["phase"] == "failed"
    # repo2docker's own error event is the last one, traceback and all (BinderHub's texts)
    assert events[-1]["message"].startswith("Error during build: Command '['docker', 'buildx'")
    assert events[-1]["message"].endswith("returned non-zero exit status 1.")
    assert events[-1]["exc_info"].startswith("Traceback (most recent call last)")
    assert result.reason == events[-1]["message"]
    assert events[-1]["logTail"] == result.log_tail
    assert any(marker in line for line in result.log_tail), result.log_tail
    assert not await image_exists(job.image_name)
    assert_no_leftovers(docker_engine, job, marker)


async def test_timeout_kills_the_build(executor, git_daemon, base_image, docker_engine):
    marker = f"slow-{uuid.uuid4().hex[:8]}"
    url, sha, _ = dockerfile_repo(git_daemon, "slow", base_image, f"RUN sleep 60 && echo {marker}")
    job = job_for(url, sha, f"hubext-test/slow:{sha}", timeout=5)
    t0 = time.monotonic()
    result, events = await run_build(executor, job)
    took = time.monotonic() - t0
    print(f"\nTIMING timeout build returned after {took:.2f} s (timeout 5 s)")
    assert result.status == "failed"
    assert "build timed out after 5 s" in events[-1]["message"]
    assert result.log_tail
    assert took < 5 + executor.kill_grace + 5
    assert_no_leftovers(docker_engine, job, marker)


async def test_cancel_mid_build(executor, git_daemon, base_image, docker_engine):
    marker = f"cancel-{uuid.uuid4().hex[:8]}"
    url, sha, _ = dockerfile_repo(
        git_daemon, "cancel", base_image, f"RUN sleep 60 && echo {marker}"
    )
    job = job_for(url, sha, f"hubext-test/cancel:{sha}", timeout=300)
    events: list[dict] = []
    task = asyncio.ensure_future(executor.build(job, events.append))
    deadline = time.monotonic() + 60
    # Cancel once the slow RUN step is under way.
    while not any("sleep 60" in e["message"] for e in events):
        assert not task.done(), events
        assert time.monotonic() < deadline, events
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    t0 = time.monotonic()
    assert await executor.cancel(job.job_id)
    result = await task
    print(f"\nTIMING cancel took {time.monotonic() - t0:.2f} s")
    assert result.status == "cancelled"
    assert events[-1]["phase"] == "failed"
    assert "cancelled" in events[-1]["message"]
    assert not await executor.cancel(job.job_id)
    assert_no_leftovers(docker_engine, job, marker)


async def test_refuses_option_like_url_and_non_sha_ref(executor):
    bad = [
        ("--upload-pack=touch /tmp/x", "a" * 40),
        ("/etc", "a" * 40),  # a host directory: repo2docker's Local provider would build it
        ("ext::sh -c touch% /tmp/x", "a" * 40),
        ("git://h/r", "--help"),
        ("git://h/r", "main"),
    ]
    for url, ref in bad:
        result, events = await run_build(executor, job_for(url, ref, "hubext-test/x:y"))
        assert result.status == "failed"
        assert events == [{"phase": "failed", "message": events[0]["message"], "logTail": []}]
        assert "refusing" in events[0]["message"] or "SHA" in events[0]["message"]


async def test_extra_ca_certs_reach_a_dockerfile_that_asks(
    executor, git_daemon, base_image, docker_engine, tmp_path
):
    trustme = pytest.importorskip("trustme")
    ca_file = tmp_path / "extra-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    body = (
        "ARG HUB_EXTENSIONS_EXTRA_CA_CERTS\n"
        'RUN printf "%s" "$HUB_EXTENSIONS_EXTRA_CA_CERTS" > /home/jovyan/extra-ca.pem'
    )
    url, sha, _ = dockerfile_repo(git_daemon, "ca", base_image, body)
    job = job_for(url, sha, f"hubext-test/ca:{sha}", timeout=300, extra_ca_certs=[str(ca_file)])
    result, _ = await run_build(executor, job)
    assert result.status == "built", "\n".join(result.log_tail)
    out = subprocess.run(
        ["/usr/bin/docker", "run", "--rm", job.image_name, "cat", "/home/jovyan/extra-ca.pem"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == ca_file.read_text()


ALLOCATE = (
    'RUN python3 -c "import sys; b = bytearray(300 * 2**20); '
    "b[::4096] = b'x' * len(b[::4096]); print('OK-' + 'ALLOCATED', sys.argv[1:])\" {marker}"
)


async def test_memory_limit_kills_a_step_over_it_and_lets_the_same_build_pass_without(
    adapter_env, git_daemon, base_image, docker_engine, tmp_path
):
    """The executor gives the build a cgroup with the limit and passes it to buildx.

    Debian's Docker 20.10 here runs BuildKit steps outside a requested cgroup parent
    (moby#45796; BuildKit >= 0.10 with buildx >= 0.11.1 honour it), so this test runs the
    step with the classic builder, which does: what is covered is our cgroup, the argument
    reaching `docker buildx build`, the kill, and the cleanup; not BuildKit's side.
    """
    from hub_extensions.builds.executors.memory_limit import CGROUP_ROOT, PARENT, cgroup_version

    record = tmp_path / "buildx-args.jsonl"
    env = {**adapter_env, "HUB_EXTENSIONS_TEST_BUILDKIT": "0"}
    executor = LocalRepo2DockerExecutor(
        env={**env, "HUB_EXTENSIONS_TEST_BUILDX_ARGS": str(record)}, kill_grace=5
    )
    marker = f"mem-{uuid.uuid4().hex[:8]}"
    body = ALLOCATE.format(marker=marker)
    url, sha, _ = dockerfile_repo(git_daemon, "memory-hungry", base_image, body)
    limited = job_for(url, sha, f"hubext-test/mem:{sha}", timeout=300, memory_limit=128 * 2**20)
    result, events = await run_build(executor, limited)
    assert result.status == "failed", result.log_tail
    assert events[-1]["phase"] == "failed"
    assert not any("OK-ALLOCATED" in line for line in result.log_tail)
    assert any("137" in line or "Killed" in line for line in result.log_tail), result.log_tail
    assert not await image_exists(limited.image_name)
    [args] = [json.loads(line) for line in record.read_text().splitlines()]
    parent = args[args.index("--cgroup-parent") + 1]
    assert parent == f"/{PARENT}/{limited.job_id}"
    base = CGROUP_ROOT / PARENT if cgroup_version() == 2 else CGROUP_ROOT / "memory" / PARENT
    assert not (base / limited.job_id).exists()  # the build's cgroup went with it
    assert_no_leftovers(docker_engine, limited, marker)

    free = job_for(url, sha, f"hubext-test/mem:{sha}", timeout=300)  # same repository, no limit
    result, _ = await run_build(executor, free)
    assert result.status == "built", result.log_tail
    assert any("OK-ALLOCATED" in line for line in result.log_tail)


def test_a_memory_limit_that_cannot_be_enforced_fails_the_build_with_the_fix(tmp_path):
    from hub_extensions.builds.executors.memory_limit import MemoryLimitError, make_build_cgroup

    (tmp_path / "cpu").mkdir()  # a cgroup v1 tree without the memory controller
    with pytest.raises(MemoryLimitError) as err:
        make_build_cgroup("b1", 2**30, root=tmp_path)
    assert str(err.value).startswith(
        "HubExtensionsBuilds.build_memory_limit: no memory cgroup controller"
    )
    assert "HubExtensionsBuilds.build_memory_limit = 0" in str(err.value)


def test_the_next_start_removes_what_a_previous_run_left(
    adapter_env, base_image, docker_engine, tmp_path, monkeypatch
):
    """A service that died with its machine (no supervisor could clean up) left a work
    directory and a container; the next start of the same service removes them, and leaves
    another service's alone (several hubs may share one engine)."""
    from hub_extensions.builds.executors.local_repo2docker import INSTANCE_LABEL, WORKDIR_PREFIX

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    mine = LocalRepo2DockerExecutor(env=adapter_env, instance=f"t{uuid.uuid4().hex[:11]}")
    other = f"o{uuid.uuid4().hex[:11]}"
    left = tmp_path / f"{WORKDIR_PREFIX}{mine.instance}-b123-xyz"
    (left / "repo").mkdir(parents=True)
    kept = tmp_path / f"{WORKDIR_PREFIX}{other}-b456-xyz"
    kept.mkdir()
    containers = [
        docker_engine.client.containers.create(
            base_image, "sleep 60", labels={INSTANCE_LABEL: instance, JOB_LABEL: "b123"}
        )
        for instance in (mine.instance, other)
    ]
    try:
        assert mine.clean_previous_run() == (1, 1)
        assert not left.exists()
        assert kept.exists()
        remaining = docker_engine.client.containers.list(
            all=True, filters={"label": f"{INSTANCE_LABEL}={other}"}
        )
        assert [c.id for c in remaining] == [containers[1].id]
    finally:
        for container in containers:
            with contextlib.suppress(Exception):
                container.remove(force=True)


async def test_a_submodule_cannot_reach_a_scheme_that_is_not_allowed(
    adapter_env, git_daemon, base_image, docker_engine, tmp_path
):
    """repo2docker clones submodules too: one pointing at an internal http server must meet
    the same scheme list (GIT_ALLOW_PROTOCOL) as the repository, not git's defaults. Not
    covered: a submodule on an allowed scheme and an internal host (docs/builds.md)."""
    from .infra.git_repos import git as run_git

    seen: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        inner = f"http://127.0.0.1:{server.server_address[1]}/internal.git"
        url, _, path = dockerfile_repo(
            git_daemon,
            "with-submodule",
            base_image,
            "RUN true",
            **{".gitmodules": f'[submodule "sub"]\n\tpath = sub\n\turl = {inner}\n'},
        )
        run_git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},sub", cwd=path)
        run_git("commit", "-q", "-m", "add a submodule", cwd=path)
        sha = run_git("rev-parse", "HEAD", cwd=path)
        executor = LocalRepo2DockerExecutor(env=adapter_env, allowed_schemes=("https", "git"))
        result, events = await run_build(executor, job_for(url, sha, f"hubext-test/sub:{sha}"))
        assert result.status == "failed"
        log = "".join(str(e.get("message", "")) for e in events)
        assert "transport 'http' not allowed" in log
        assert seen == []  # the internal server was never asked
    finally:
        server.shutdown()


async def test_the_clone_follows_no_redirect_to_another_server(adapter_env, docker_engine):
    """repo2docker's `git clone` runs after the service checked the host: a server that
    answered the check could send the clone elsewhere with a redirect. Not covered: github.com
    and gitlab.com, whose renamed repositories redirect and are still followed."""
    from .infra.git_repos import redirect_to_internal

    with redirect_to_internal() as (url, seen):
        executor = LocalRepo2DockerExecutor(env=adapter_env, allowed_schemes=("https", "http"))
        result, _ = await run_build(executor, job_for(url, "a" * 40, "hubext-test/redirect:x"))
        assert result.status == "failed"
        assert seen == []


async def test_the_clone_is_checked_and_pinned_to_the_checked_addresses(
    adapter_env, docker_engine, monkeypatch
):
    """With the admin's host list, the executor checks the clone's host itself (refused:
    the generic message, nothing asked) and pins git's http(s) to the addresses it checked
    (DNS rebinding: git's own lookup of this name would fail, yet the clone reaches the
    checked address)."""
    from .infra.git_repos import Counting, rebinding_dns

    Counting.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        strict = LocalRepo2DockerExecutor(env=adapter_env, internal_hosts=())
        job = job_for(f"http://127.0.0.1:{port}/r.git", "a" * 40, "hubext-test/pin:x")
        result, events = await run_build(strict, job)
        assert result.status == "failed"
        assert events[-1]["message"] == (
            "The repository could not be read; check the URL and that the repository is public.\n"
        )
        assert Counting.seen == []

        rebinding_dns(monkeypatch, "rebind.invalid", "127.0.0.1")
        listed = LocalRepo2DockerExecutor(env=adapter_env, internal_hosts=("127.0.0.1",))
        job = job_for(f"http://rebind.invalid:{port}/r.git", "a" * 40, "hubext-test/pin:y")
        result, _ = await run_build(listed, job)
        assert result.status == "failed"  # a 404 page is not a repository
        assert "/r.git/info/refs?service=git-upload-pack" in Counting.seen
    finally:
        server.shutdown()
