"""Build images with repo2docker against the host's Docker engine, as a subprocess.

repo2docker runs as ``python -m repo2docker`` with an argument list (never a shell), in its own
process group, with ``--json-logs``. Each JSON log line is passed on as the event it is, as
BinderHub does (phase-less ones stay phase-less, ``exc_info`` stays), except that a push's output
is marked ``pushing`` and repo2docker's own ``failed`` event becomes the build's last event.
Timeouts and cancels kill the whole group and remove containers carrying the job's label.

repo2docker runs under a small supervisor (supervise.py) that stops the group, removes the
containers and the work directory when the service dies, also by `kill -9`. What a service
that died mid-build left anyway (the machine went down) is removed at the next start by
`clean_previous_run()`: work directories by their prefix, containers by this service's label.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ..events import UNKNOWN
from ..hosts import UNREADABLE, HostRefused, pin_for
from .images import _docker_client
from .memory_limit import BuildCgroup, MemoryLimitError, docker_cgroup_driver, make_build_cgroup

log = logging.getLogger(__name__)

JOB_LABEL = "hub-extensions.build-job"  # image label, also used to find leftover containers
# which service started the build (instance_id()): its next start removes what is left
INSTANCE_LABEL = "hub-extensions.build-instance"
WORKDIR_PREFIX = "hubext-build-"
CA_BUILD_ARG = "HUB_EXTENSIONS_EXTRA_CA_CERTS"  # PEM text, for Dockerfiles that declare the ARG
SHA_RE = re.compile(r"^[0-9a-f]{7,64}$")
URL_RE = re.compile(r"^([a-z][a-z0-9+.-]*)://\S+$")
# Output that marks the start of the push: buildx plain progress ("#12 pushing layers") and
# `docker push` ("The push refers to repository [...]"). repo2docker logs both as "building".
PUSH_RE = re.compile(r"^(#\d+ )?(pushing (layers|manifest)|The push refers to repository)", re.I)
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# gh/ and gl/ builds: renamed repositories answer with a redirect, on the same host
REDIRECTING_HOSTS = ("github.com", "gitlab.com")

Event = dict[str, Any]
Status = Literal["built", "failed", "cancelled"]


@dataclass
class BuildJob:
    """One build: ``ref`` is a resolved commit SHA, ``repo_url`` a URL git can clone."""

    job_id: str
    repo_url: str
    ref: str
    image_name: str
    push: bool = False
    memory_limit: int | None = None
    timeout: float = 3600.0
    extra_args: list[str] = field(default_factory=list)
    extra_ca_certs: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class BuildResult:
    status: Status
    image_name: str
    log_tail: list[str]
    duration: float
    reason: str = ""


@dataclass
class _Running:
    proc: asyncio.subprocess.Process
    cancelled: bool = False
    stopping: asyncio.Future | None = None  # cancel()'s clean-up, awaited by build()


class LocalRepo2DockerExecutor:
    """Runs repo2docker on this machine; one instance serves many concurrent jobs.

    ``env`` is merged over ``os.environ`` for the subprocess (tests point ``DOCKER_CONFIG`` at
    a buildx adapter). ``content_providers`` are names in ``repo2docker.contentproviders``:
    the default list upstream includes Zenodo, Dataverse, ..., whose detection needs internet.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        content_providers: tuple[str, ...] = ("Local", "Git"),
        user_id: int = 1000,
        user_name: str = "jovyan",
        tail_lines: int = 50,
        kill_grace: float = 10.0,
        python: str = sys.executable,
        allowed_schemes: tuple[str, ...] = ("https", "http", "git", "ssh", "file"),
        instance: str | None = None,
        internal_hosts: tuple[str, ...] | None = None,
    ):
        self.env = dict(env or {})
        if not all(name.isidentifier() for name in content_providers):
            raise ValueError(f"content provider names must be identifiers: {content_providers}")
        self.content_providers = content_providers
        self.user_id = user_id
        self.user_name = user_name
        self.tail_lines = tail_lines
        self.kill_grace = kill_grace
        self.python = python
        self.allowed_schemes = allowed_schemes
        self.instance = instance or instance_id()
        # HubExtensionsBuilds.allowed_internal_hosts: the clone's host is checked (again) and its
        # addresses pinned for git's http(s) (hosts.py); None: no check (a trusted caller, e.g.
        # tests)
        self.internal_hosts = internal_hosts
        self._running: dict[str, _Running] = {}

    def command(self, job: BuildJob, config_file: Path) -> list[str]:
        """The repo2docker argument list; the URL comes last, after ``--``."""
        # Only scheme://... URLs: a bare host path would be built in place by repo2docker's
        # Local provider, and a leading "-" would reach `git clone` as an option.
        match = URL_RE.match(job.repo_url)
        if not match or match.group(1) not in self.allowed_schemes:
            raise ValueError(f"refusing repository URL {job.repo_url!r}")
        if not SHA_RE.match(job.ref):
            raise ValueError(f"ref must be a resolved commit SHA, got {job.ref!r}")
        cmd = [self.python, "-m", "repo2docker", "--config", str(config_file), "--json-logs"]
        cmd += ["--no-run", "--user-id", str(self.user_id), "--user-name", self.user_name]
        cmd += ["--image-name", job.image_name, "--ref", job.ref]
        cmd += ["--push"] if job.push else ["--no-push"]
        labels = {**job.labels, JOB_LABEL: job.job_id, INSTANCE_LABEL: self.instance}
        for key, value in labels.items():
            cmd += ["--label", f"{key}={value}"]
        if job.extra_ca_certs:
            pem = "".join(Path(p).read_text() for p in job.extra_ca_certs)
            cmd += ["--build-arg", f"{CA_BUILD_ARG}={pem}"]
        cmd += list(job.extra_args)
        return [*cmd, "--", job.repo_url]

    def supervised(self, job: BuildJob, workdir: Path, command: list[str]) -> list[str]:
        """`command` under the supervisor that takes the build down with the service.

        Started from the event loop's thread (the service's main thread): the supervisor's
        parent-death signal follows that thread (supervise.py).
        """
        return [
            self.python, "-m", "hub_extensions.builds.executors.supervise",
            "--parent", str(os.getpid()), "--job-id", job.job_id, "--workdir", str(workdir),
            "--grace", f"{self.kill_grace:g}", "--", *command,
        ]  # fmt: skip

    def clean_previous_run(self) -> tuple[int, int]:
        """Remove what builds of an earlier run of this service left: work directories (by
        prefix) and containers (by INSTANCE_LABEL). Call at start, before any build; returns
        (directories, containers) removed."""
        prefix = f"{WORKDIR_PREFIX}{self.instance}-"
        busy = {str(r) for r in self._running}
        dirs = 0
        for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
            if path.is_dir() and not any(f"-{job}-" in path.name for job in busy):
                shutil.rmtree(path, ignore_errors=True)
                dirs += 1
        containers = remove_labelled_containers(f"{INSTANCE_LABEL}={self.instance}", self.env)
        if dirs or containers:
            log.warning(
                "removed what builds of a previous run left: %d work directories, %d containers",
                dirs,
                containers,
            )
        return dirs, containers

    def config_text(self, job: BuildJob, cgroup_parent: str | None = None) -> str:
        """A traitlets config file for repo2docker (content providers, engine flags)."""
        names = ", ".join(f"contentproviders.{n}" for n in self.content_providers)
        lines = [
            "from repo2docker import contentproviders",
            f"c.Repo2Docker.content_providers = [{names}]",
        ]
        buildx: list[str] = []
        if not job.push:
            # repo2docker passes --load only with --run; a docker-container builder would
            # otherwise keep the image in its cache instead of the engine's image store.
            buildx.append("--load")
        if cgroup_parent:
            buildx += ["--cgroup-parent", cgroup_parent]  # the build's memory limit
        if buildx:
            lines.append(f"c.DockerEngine.extra_buildx_build_args = {buildx!r}")
        return "\n".join(lines) + "\n"

    async def _pin(self, job: BuildJob) -> str | None:
        """The curl pin of the clone's checked addresses (HostRefused for an internal host)."""
        parts = urlsplit(job.repo_url)
        host = (parts.hostname or "").lower()
        if self.internal_hosts is None or parts.scheme == "file" or host in REDIRECTING_HOSTS:
            return None
        return await pin_for(job.repo_url, self.internal_hosts)

    def _env(self, job: BuildJob, workdir: Path, pin: str | None = None) -> dict[str, str]:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(workdir)}
        # git in repo2docker (the clone, submodules) speaks only the allowed schemes: a
        # submodule cannot fetch file:// from this machine when `file` is not allowed
        env["GIT_ALLOW_PROTOCOL"] = ":".join(self.allowed_schemes)
        if (urlsplit(job.repo_url).hostname or "") not in REDIRECTING_HOSTS:
            # a server that passed the host check must not send the clone on to another one
            add_git_config(env, "http.followRedirects", "false")
        if pin:  # git's http(s) connects to the addresses that were checked, and no others
            add_git_config(env, "http.curloptResolve", pin)
        if job.extra_ca_certs:
            # The fetch step (git over https) trusts the extra CAs too.
            bundle = workdir / "ca-bundle.pem"
            system = Path(SYSTEM_CA_BUNDLE)
            parts = [system.read_text()] if system.exists() else []
            parts += [Path(p).read_text() for p in job.extra_ca_certs]
            bundle.write_text("\n".join(parts))
            env.update(GIT_SSL_CAINFO=str(bundle), SSL_CERT_FILE=str(bundle))
            env["REQUESTS_CA_BUNDLE"] = str(bundle)
        return env

    async def build(self, job: BuildJob, emit: Callable[[Event], None]) -> BuildResult:
        """Run one build to the end, emitting events; never raises for build failures.

        With a memory limit the build's steps run in a cgroup made for it (memory_limit.py).
        """
        if not job.memory_limit:
            return await self._build(job, emit, None)
        try:
            cgroup = await asyncio.to_thread(self._memory_cgroup, job)
        except MemoryLimitError as err:
            emit({"phase": "failed", "message": f"{err}\n", "logTail": []})
            return BuildResult("failed", job.image_name, [], 0.0, str(err))
        try:
            return await self._build(job, emit, cgroup.parent)
        finally:
            await asyncio.to_thread(cgroup.remove)

    def _memory_cgroup(self, job: BuildJob) -> BuildCgroup:
        if docker_cgroup_driver(dict(self.env)) == "systemd":
            raise MemoryLimitError(
                "HubExtensionsBuilds.build_memory_limit: the Docker engine uses the systemd cgroup "
                "driver, "
                "under which a build's cgroup must be a systemd slice. Set "
                '"exec-opts": ["native.cgroupdriver=cgroupfs"] in daemon.json, or set '
                "HubExtensionsBuilds.build_memory_limit = 0 and limit the buildx builder itself."
            )
        assert job.memory_limit
        return make_build_cgroup(job.job_id, job.memory_limit)

    async def _build(
        self, job: BuildJob, emit: Callable[[Event], None], cgroup_parent: str | None
    ) -> BuildResult:
        start = time.monotonic()
        tail: deque[str] = deque(maxlen=self.tail_lines)
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "-", job.job_id)[:40]
        workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{self.instance}-{safe_id}-"))

        failure: Event = {}  # repo2docker's own `failed` event, if it sent one

        def finish(status: Status, reason: str = "", exited: bool = False) -> BuildResult:
            took = time.monotonic() - start
            if status != "built":
                # repo2docker's "Error during build: ..." (and exc_info), as BinderHub sends it
                event = failure if exited and failure else {"message": f"{reason}\n"}
                reason = str(event.get("message", reason)).rstrip("\n")
                emit({**event, "phase": "failed", "logTail": list(tail)})
            return BuildResult(status, job.image_name, list(tail), took, reason)

        try:
            pin = await self._pin(job)
        except HostRefused as err:  # the user hears what the service's ls-remote says
            log.warning("build %s refused: %s", job.job_id, err)
            shutil.rmtree(workdir, ignore_errors=True)
            return finish("failed", f"The repository {UNREADABLE}.")
        try:
            config = workdir / "repo2docker_config.py"
            config.write_text(self.config_text(job, cgroup_parent))
            proc = await asyncio.create_subprocess_exec(
                *self.supervised(job, workdir, self.command(job, config)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own group: docker CLI, git, plugins die with it
                env=self._env(job, workdir, pin),
                cwd=workdir,
                limit=4 * 1024 * 1024,  # JSON lines may carry long docker output
            )
        except (OSError, ValueError) as err:
            shutil.rmtree(workdir, ignore_errors=True)
            return finish("failed", str(err))
        running = self._running[job.job_id] = _Running(proc)
        try:
            await asyncio.wait_for(self._pump(proc, job, emit, tail, failure), timeout=job.timeout)
            rc = await proc.wait()
        except asyncio.TimeoutError:
            await self._stop(job.job_id, proc)
            return finish("failed", f"build timed out after {job.timeout:g} s")
        except BaseException:  # our task was cancelled, or emit() raised: stop the build
            await asyncio.shield(self._stop(job.job_id, proc))
            raise
        finally:
            self._running.pop(job.job_id, None)
            shutil.rmtree(workdir, ignore_errors=True)
        if running.cancelled:
            if running.stopping is not None:
                await running.stopping  # containers are gone before we report
            return finish("cancelled", "build cancelled")
        if rc != 0:
            await self._remove_leftovers(job.job_id)
            return finish("failed", f"repo2docker exited with status {rc}", exited=True)
        return finish("built")

    async def _pump(
        self,
        proc: asyncio.subprocess.Process,
        job: BuildJob,
        emit: Callable[[Event], None],
        tail: deque[str],
        failure: Event,
    ) -> None:
        """Pass repo2docker's JSON log lines on as events until its output closes."""
        pushing = False
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):  # stray output (e.g. a traceback): BinderHub's
                record = {"phase": UNKNOWN, "message": line + "\n"}  # phase for non-JSON lines
            message = str(record.get("message", ""))
            if record.get("phase") == "failed":
                failure.update(record)  # the last event, sent when repo2docker has exited
                continue
            # repo2docker logs the push as "building": mark it, as a registry push does
            if job.push and (pushing or PUSH_RE.match(message.strip())):
                pushing = True
                if record.get("phase") == "building":
                    record = {**record, "phase": "pushing"}
            if message.strip():
                tail.append(message.rstrip("\r\n"))
            emit(record)

    async def cancel(self, job_id: str) -> bool:
        """Stop a running build; its ``build()`` returns status "cancelled". False if unknown."""
        running = self._running.get(job_id)
        if running is None:
            return False
        running.cancelled = True
        if running.stopping is None:
            running.stopping = asyncio.ensure_future(self._stop(job_id, running.proc))
        await running.stopping
        return True

    async def _stop(self, job_id: str, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the process group, wait, SIGKILL what is left, remove labelled containers."""
        pgid = proc.pid
        _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace
        try:
            await asyncio.wait_for(proc.wait(), timeout=self.kill_grace)
        except asyncio.TimeoutError:
            pass
        # The leader is gone; give the rest of the group (the docker CLI ending its build
        # session) the remaining grace time, then kill whatever still runs.
        while time.monotonic() < deadline and _killpg(pgid, 0):
            await asyncio.sleep(0.1)
        _killpg(pgid, signal.SIGKILL)
        if proc.returncode is None:
            await proc.wait()
        await self._remove_leftovers(job_id)

    async def _remove_leftovers(self, job_id: str) -> int:
        """Force-remove containers labelled with this job (e.g. from a classic builder)."""
        return await asyncio.to_thread(remove_job_containers, job_id, self.env)


def _killpg(pgid: int, sig: int) -> bool:
    """Signal a process group; False if nothing is left in it."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def add_git_config(env: dict[str, str], key: str, value: str) -> None:
    """Add `key=value` to git's environment config (GIT_CONFIG_COUNT/KEY_n/VALUE_n), after
    what the admin set there."""
    try:
        count = max(int(env.get("GIT_CONFIG_COUNT", "0") or 0), 0)
    except ValueError:
        count = 0
    env[f"GIT_CONFIG_KEY_{count}"] = key
    env[f"GIT_CONFIG_VALUE_{count}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + 1)


def instance_id(environ: Mapping[str, str] = os.environ) -> str:
    """Names this service across its restarts: its working directory (the hub's) and name."""
    key = f"{os.getcwd()}\0{environ.get('JUPYTERHUB_SERVICE_NAME', '')}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def remove_job_containers(job_id: str, env: Mapping[str, str] | None = None) -> int:
    """Remove every container (running or exited) carrying ``JOB_LABEL=job_id``."""
    return remove_labelled_containers(f"{JOB_LABEL}={job_id}", env)


def remove_labelled_containers(label: str, env: Mapping[str, str] | None = None) -> int:
    """Remove every container (running or exited) carrying the label ``key=value``."""
    try:
        client = _docker_client(env)
    except Exception as err:  # no engine: nothing can be left in it
        log.warning("cannot reach the Docker engine to remove containers %s: %s", label, err)
        return 0
    removed = 0
    try:
        for container in client.containers.list(all=True, filters={"label": label}):
            try:
                container.remove(force=True)
                removed += 1
            except Exception as err:  # already gone
                log.debug("container %s: %s", container.id, err)
    finally:
        client.close()
    return removed
