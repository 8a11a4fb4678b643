"""Shared helpers for the real-stack fixtures: free ports, waiting, process groups."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


class GiveUp(Exception):
    """Raised inside a wait_until check to stop waiting at once (e.g. the process died)."""


class Unavailable(Exception):
    """Infrastructure a tier needs is missing; conftest turns this into a skip (or a failure in CI)."""


def is_root() -> bool:
    return os.geteuid() == 0


def require_binary(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise Unavailable(f"{name} not found on PATH ({hint})")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except GiveUp:
            raise
        except Exception:  # noqa: S110 - the check is retried until the deadline
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_for_http(url: str, timeout: float = 30, ok_statuses: Sequence[int] = (200,), **kw) -> None:
    wait_until(
        lambda: (
            requests.get(url, timeout=2, allow_redirects=False, **kw).status_code in ok_statuses
        ),
        timeout,
        url,
    )


class ManagedProcess:
    """A child process in its own process group, stopped (group and all) by stop()."""

    def __init__(self, name: str, cmd: Sequence[str], log_dir: Path, **popen_kw):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # closed in stop()
        self.proc = subprocess.Popen(
            list(cmd),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **popen_kw,
        )

    def log_text(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # whatever is left in the group (children that ignored the signal) is killed
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()
