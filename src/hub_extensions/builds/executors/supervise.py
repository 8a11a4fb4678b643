"""A build's supervisor: runs repo2docker and takes it down when the service dies.

`python -m hub_extensions.builds.executors.supervise --parent PID --job-id ID --workdir DIR
-- CMD...` runs CMD (repo2docker) as its child in its own process group (the executor starts
it as a session leader) and exits with CMD's status. When the service dies, also by `kill -9`,
it stops the whole group (repo2docker, the docker CLI, git), removes the build's containers
(by `JOB_LABEL`) and its work directory, and exits. It learns of the death two ways:

- `PR_SET_PDEATHSIG`: the kernel sends SIGTERM when the thread that started it ends. The
  executor starts builds from the service's event-loop thread, so that is the service's main
  thread; a loop run in a thread that ends would stop its builds, which is also right.
- Polling: its parent pid changes (it was re-parented to init or a subreaper), checked twice
  a second, in case the signal was missed (the parent died before the prctl).

SIGTERM/SIGINT/SIGHUP from the executor (a cancel, a timeout) take the same path.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
POLL = 0.5


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` when our parent (thread) dies; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def group_members(pgid: int) -> list[int]:
    """Processes of the group `pgid` (from /proc), this one excluded."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def stop_group(child: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the group, `grace` seconds, then SIGKILL to what is left (not to us)."""
    pgid = os.getpgrp()
    for pid in group_members(pgid):
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_members(pgid):
        child.poll()  # reap it, so it does not count as a member
        time.sleep(0.1)
    for pid in group_members(pgid):
        _kill(pid, signal.SIGKILL)
    child.wait()


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def clean_up(job_id: str, workdir: str) -> None:
    from .local_repo2docker import remove_job_containers

    try:
        remove_job_containers(job_id, dict(os.environ))
    except Exception as err:  # the engine may be gone too; the next start sweeps again
        print(f"supervisor: containers of build {job_id} not removed: {err}", file=sys.stderr)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hub-extensions-build-supervisor")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--workdir", default="")
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command after --")

    stopping: list[int] = []

    def on_signal(signum, _frame) -> None:
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != args.parent:  # the service died before the prctl
        stopping.append(signal.SIGTERM)

    child = subprocess.Popen(cmd)  # inherits stdin/stdout/stderr, our group and environment
    while not stopping:
        try:
            return child.wait(timeout=POLL)
        except subprocess.TimeoutExpired:
            pass
        if os.getppid() != args.parent:
            stopping.append(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the group's SIGTERM below reaches us too
    stop_group(child, args.grace)
    clean_up(args.job_id, args.workdir)
    return 128 + stopping[0]


if __name__ == "__main__":
    sys.exit(main())
