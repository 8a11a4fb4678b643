"""A Docker engine for the docker tier: reuse one that answers, or start dockerd (root only)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .common import ManagedProcess, Unavailable, is_root

DOCKER_CLI = "/usr/bin/docker"  # Debian's client, matching the Debian dockerd


def _sdk():
    try:
        import docker
    except ImportError as e:  # pragma: no cover - the docker extra is missing
        raise Unavailable("the docker Python SDK is not installed (pip install docker)") from e
    return docker


def _ping(timeout: float = 5):
    """A connected SDK client if an engine answers, else None."""
    docker = _sdk()
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception:
        return None
    return docker.from_env(timeout=300)


def _cli_answers() -> bool:
    cli = DOCKER_CLI if Path(DOCKER_CLI).exists() else shutil.which("docker")
    if not cli:
        return False
    try:
        res = subprocess.run(
            [cli, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


class DockerEngine:
    """An engine the tests talk to through ``client``; ``started`` if this run started dockerd."""

    def __init__(self, client, process: ManagedProcess | None = None):
        self.client = client
        self.process = process
        self.started = process is not None

    def stop(self) -> None:
        """Stop dockerd if (and only if) we started it."""
        try:
            self.client.close()
        except Exception:  # noqa: S110 - best effort
            pass
        if self.process is not None:
            self.process.stop(timeout=30)
            self.process = None


def ensure_docker_engine(log_dir: Path) -> DockerEngine:
    """Reuse a running engine, or start dockerd with its default data-root (images stay cached)."""
    client = _ping()
    if client is not None:
        return DockerEngine(client)
    if _cli_answers():  # never start a second dockerd next to one that runs
        raise Unavailable("the docker CLI reaches an engine the SDK cannot (check DOCKER_HOST)")
    if not is_root():
        raise Unavailable("no Docker engine answers and starting dockerd needs root")
    dockerd = shutil.which("dockerd")
    if not dockerd:
        raise Unavailable(
            "no Docker engine answers and dockerd is missing (apt-get install docker.io)"
        )
    proc = ManagedProcess("dockerd", [dockerd], Path(log_dir))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            tail = proc.log_text()[-2000:]
            proc.stop()
            raise Unavailable(f"dockerd exited early:\n{tail}")
        client = _ping(timeout=2)
        if client is not None:
            return DockerEngine(client, proc)
        time.sleep(0.25)
    tail = proc.log_text()[-2000:]
    proc.stop()
    raise Unavailable(f"dockerd did not answer within 30 s:\n{tail}")


def remove_labeled(client, label: str) -> int:
    """Force-remove every container (running or not) carrying ``label`` ("key=value" or "key")."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": label}):
        try:
            container.remove(force=True)
            removed += 1
        except Exception as e:  # already gone
            if getattr(getattr(e, "response", None), "status_code", None) != 404:
                raise
    return removed
