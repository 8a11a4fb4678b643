"""Throw-away git repositories and a ``git daemon`` serving them on loopback."""

from __future__ import annotations

import asyncio
import http.server
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .common import ManagedProcess, free_port, require_binary, wait_until

GIT_IDENTITY = ["-c", "user.name=hub-extensions tests", "-c", "user.email=tests@example.invalid"]


def git(*args: str, cwd: Path) -> str:
    """Run git with a fixed identity and no global config; return stdout."""
    res = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "PATH": "/usr/bin:/bin"},
    )
    return res.stdout.strip()


def make_repo(
    path: Path, files: dict[str, str], tag: str | None = None, message: str = "test commit"
) -> tuple[Path, str]:
    """Create (or add a commit to) a repository at ``path``; return (path, commit SHA)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        git("init", "-q", "-b", "main", cwd=path)
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git("add", "-A", cwd=path)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=path)
    if tag:
        git("tag", "-f", tag, cwd=path)
    return path, git("rev-parse", "HEAD", cwd=path)


class GitDaemon:
    """``git daemon`` exporting every repository under ``base_path`` at git://127.0.0.1:PORT/."""

    def __init__(self, base_path: Path, log_dir: Path | None = None):
        self.binary = require_binary("git", "apt-get install git")
        self.base_path = Path(base_path)
        self.log_dir = Path(log_dir) if log_dir else self.base_path.parent / "git-daemon-logs"
        self.port = free_port()
        self.url = f"git://127.0.0.1:{self.port}"
        self.process: ManagedProcess | None = None

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def start(self, probe_repo: str | None = None, timeout: float = 15) -> GitDaemon:
        """Start the daemon; wait until ``git ls-remote`` answers (for ``probe_repo`` if given)."""
        cmd = [
            self.binary,
            "daemon",
            "--export-all",
            "--reuseaddr",
            f"--base-path={self.base_path}",
            "--listen=127.0.0.1",
            f"--port={self.port}",
            "--informative-errors",
            str(self.base_path),
        ]
        self.process = ManagedProcess(f"git-daemon-{self.port}", cmd, self.log_dir)
        probe = self.repo_url(probe_repo) if probe_repo else self.url + "/"

        def answers() -> bool:
            res = subprocess.run(
                ["git", "ls-remote", probe], capture_output=True, timeout=5, check=False
            )
            # Without a probe repository, any answer from the daemon (even "not found") counts.
            return res.returncode == 0 or (not probe_repo and b"fatal: remote" in res.stderr)

        try:
            wait_until(answers, timeout, f"git daemon on port {self.port}")
        except TimeoutError:
            tail = self.process.log_text()[-2000:]
            self.stop()
            raise TimeoutError(f"git daemon did not answer:\n{tail}") from None
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> GitDaemon:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


#: Config lines a test hub needs to build from a GitDaemon (git:// on 127.0.0.1) or file://
#: repositories: both are refused by default (HubExtensionsBuilds.git_url_schemes is https only, and
#: loopback hosts need HubExtensionsBuilds.allowed_internal_hosts). All four schemes are listed so the
#: "Unsupported git url" message names the same ones as BinderHub's recording.
LOOPBACK_BUILDS_CONFIG = (
    'c.HubExtensionsBuilds.git_url_schemes = ["https", "http", "git", "file"]\n'
    'c.HubExtensionsBuilds.allowed_internal_hosts = ["127.0.0.1"]\n'
)


class Counting(http.server.BaseHTTPRequestHandler):
    """Answers 404 to everything; remembers what was asked (class-wide list `seen`)."""

    seen: list[str] = []

    def do_GET(self):
        self.seen.append(self.path)
        self.send_error(404)

    def log_message(self, *args):
        pass


def rebinding_dns(monkeypatch, name: str, address: str) -> None:
    """The check's lookup of `name` answers `address`; git's own lookup of it fails (there is
    no such name): what a rebinding DNS server does, the other way round."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def lookup(host, port, *args, **kw):
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]
        return await real(host, port, *args, **kw)

    monkeypatch.setattr(loop, "getaddrinfo", lookup)


@contextmanager
def redirect_to_internal() -> Iterator[tuple[str, list[str]]]:
    """A git-over-HTTP server on loopback (standing for a public one) whose every answer is a
    redirect to a second, "internal" server. Yields the public repository URL and the paths the
    internal server was asked for: a client that follows no redirect leaves it empty."""
    seen: list[str] = []

    class Internal(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    internal = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Internal)
    target = f"http://127.0.0.1:{internal.server_address[1]}/secret.git"

    class Redirector(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", target + self.path[len("/r.git") :])
            self.end_headers()

        def log_message(self, *args):
            pass

    public = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    for server in (internal, public):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{public.server_address[1]}/r.git", seen
    finally:
        internal.shutdown()
        public.shutdown()
