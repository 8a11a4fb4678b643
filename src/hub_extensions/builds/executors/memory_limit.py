"""A memory limit for one build: a cgroup that the build's RUN steps run under.

repo2docker 2024+ refuses `--build-memory-limit` (BuildKit has no per-build memory option), so
the local executor enforces `HubExtensionsBuilds.build_memory_limit` itself: it makes a cgroup with
the limit and passes it to `docker buildx build --cgroup-parent`, under which the Docker engine's
BuildKit runs every RUN step (and the classic builder every step container). A step that needs more
memory is killed by the kernel and the build fails, like a server over its limit.

This needs the Docker engine's `cgroupfs` cgroup driver (with the `systemd` driver a parent
must be a systemd slice, which the service cannot create) and write access to the cgroup
filesystem (the service runs as root, or with a delegated cgroup subtree). Both are checked
before the build and a failure names `HubExtensionsBuilds.build_memory_limit` and the fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "hub-extensions-builds"  # all build cgroups live under this one


class MemoryLimitError(RuntimeError):
    """The limit cannot be enforced here; the message names the option and the fix."""


@dataclass
class BuildCgroup:
    """The cgroup of one build: `parent` goes to `--cgroup-parent`; `remove()` when done."""

    parent: str
    paths: list[Path]

    def remove(self) -> None:
        """Remove the cgroup (and what BuildKit left inside it), deepest first; best effort."""
        for path in self.paths:
            if not path.is_dir():
                continue
            for sub in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                if sub.is_dir():
                    try:
                        sub.rmdir()
                    except OSError:
                        pass
            try:
                path.rmdir()
            except OSError:
                pass


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    """2 for the unified hierarchy, 1 for the legacy per-controller mounts."""
    return 2 if (root / "cgroup.controllers").exists() else 1


def make_build_cgroup(job_id: str, limit: int, root: Path = CGROUP_ROOT) -> BuildCgroup:
    """A cgroup for build `job_id` whose memory (and swap) may not exceed `limit` bytes."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", job_id)[:60] or "build"
    fix = (
        "Run the service as root on a host whose Docker engine uses the cgroupfs driver, or "
        "set HubExtensionsBuilds.build_memory_limit = 0 and limit the buildx builder itself "
        "(`docker buildx create --driver docker-container --driver-opt memory=...`)."
    )
    try:
        if cgroup_version(root) == 2:
            base = root / PARENT
            base.mkdir(exist_ok=True)
            _enable_memory(root)
            _enable_memory(base)
            path = base / name
            path.mkdir(exist_ok=True)
            (path / "memory.max").write_text(str(limit))
            swap = path / "memory.swap.max"
            if swap.exists():
                swap.write_text("0")
            return BuildCgroup(f"/{PARENT}/{name}", [path])
        memory = root / "memory"
        if not memory.is_dir():
            raise MemoryLimitError(
                f"HubExtensionsBuilds.build_memory_limit: no memory cgroup controller at {memory}. "
                f"{fix}"
            )
        path = memory / PARENT / name
        path.mkdir(parents=True, exist_ok=True)
        (path / "memory.limit_in_bytes").write_text(str(limit))
        memsw = path / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            memsw.write_text(str(limit))  # memory + swap: no escaping into swap
        return BuildCgroup(f"/{PARENT}/{name}", [path])
    except MemoryLimitError:
        raise
    except OSError as err:
        raise MemoryLimitError(
            "HubExtensionsBuilds.build_memory_limit: cannot create the build's cgroup "
            f"({err.strerror}). {fix}"
        ) from None


def _enable_memory(path: Path) -> None:
    control = path / "cgroup.subtree_control"
    if "memory" not in control.read_text().split():
        control.write_text("+memory")


def docker_cgroup_driver(env: dict[str, str] | None = None) -> str:
    """The Docker engine's cgroup driver ("cgroupfs" or "systemd"), "" if it cannot be asked."""
    try:
        import docker

        client = docker.from_env(environment={**os.environ, **(env or {})}, timeout=20)
        try:
            return str(client.info().get("CgroupDriver", ""))
        finally:
            client.close()
    except Exception:
        return ""
