"""A throw-away PostgreSQL cluster on 127.0.0.1 for the `postgres` tier.

As root the cluster runs as the ``postgres`` system user (PostgreSQL refuses to run as root); its
files then live in a private directory under the system temp dir, because pytest's ``tmp_path``
sits below a 0700 root-owned directory the ``postgres`` user cannot enter. The server log is copied
into ``tmpdir`` when the server stops.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .common import Unavailable, free_port, is_root, wait_until

SUPERUSER = "postgres"


def find_pg_bin() -> Path:
    """The directory with initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, else PATH."""

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb).parent
    raise Unavailable("PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)")


class PostgresServer:
    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = Path(tmpdir)
        self.bin = find_pg_bin()
        self.port = 0
        self.start_seconds: float | None = None
        self._prefix: list[str] = []
        self._base: Path = self.tmpdir
        self._private_base = False
        self._started = False
        if is_root():
            try:
                self._pw = pwd.getpwnam("postgres")
            except KeyError as e:
                raise Unavailable("running as root but there is no 'postgres' system user") from e
            if shutil.which("runuser"):
                self._prefix = ["runuser", "-u", "postgres", "--"]
            elif shutil.which("setpriv"):
                self._prefix = ["setpriv", "--reuid=postgres", "--regid=postgres"]
                self._prefix += ["--init-groups", "--"]
            else:
                raise Unavailable("running as root but neither runuser nor setpriv is available")

    @property
    def datadir(self) -> Path:
        return self._base / "data"

    @property
    def logfile(self) -> Path:
        return self._base / "postgres.log"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [*self._prefix, *args]
        res = subprocess.run(
            cmd, cwd=self._base, capture_output=True, text=True, timeout=timeout, check=False
        )
        if res.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
            raise RuntimeError(
                f"{cmd} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}\n--- log ---\n{log}"
            )
        return res

    def start(self, timeout: float = 60) -> None:
        t0 = time.monotonic()
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        if self._prefix:
            self._base = Path(tempfile.mkdtemp(prefix="hubext-pg-"))
            self._private_base = True
            os.chown(self._base, self._pw.pw_uid, self._pw.pw_gid)
        sockdir = self._base / "sock"
        sockdir.mkdir()
        if self._prefix:
            os.chown(sockdir, self._pw.pw_uid, self._pw.pw_gid)
        initdb = str(self.bin / "initdb")
        self._run(initdb, "-D", str(self.datadir), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
        self.port = free_port()
        opts = (
            f"-k {sockdir} -p {self.port} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._started = True
        self._run(str(self.bin / "pg_ctl"), "start", "-w", "-t", str(int(timeout)),
                  "-D", str(self.datadir), "-l", str(self.logfile), "-o", opts)  # fmt: skip
        self.start_seconds = time.monotonic() - t0

    def url(self, dbname: str = "postgres") -> str:
        # explicit driver: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg (3), not psycopg2
        return f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):  # -> psycopg2 connection
        try:
            import psycopg2
        except ImportError as e:
            raise Unavailable("psycopg2 is not installed (pip install psycopg2-binary)") from e
        return psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname)

    def create_database(self, name: str) -> str:
        """Create database `name` and return its SQLAlchemy URL."""
        from psycopg2 import sql

        conn = self.connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url(name)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self._started:
            self._started = False
            pid = self._postmaster_pid()
            try:
                self._run(str(self.bin / "pg_ctl"), "stop", "-w", "-m", "fast",
                          "-D", str(self.datadir), timeout=60)  # fmt: skip
            except (RuntimeError, subprocess.TimeoutExpired):
                if pid:  # last resort: SIGQUIT is postgres' immediate shutdown
                    _signal(pid, signal.SIGQUIT)
            if pid:
                try:
                    wait_until(lambda: not _alive(pid), 10, f"postmaster {pid} to exit")
                except TimeoutError:
                    _signal(pid, signal.SIGKILL)
        if self.logfile.exists() and self._private_base:
            shutil.copy(self.logfile, self.tmpdir / "postgres.log")
        if self._private_base:
            shutil.rmtree(self._base, ignore_errors=True)
            self._private_base = False

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); treat it as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True
