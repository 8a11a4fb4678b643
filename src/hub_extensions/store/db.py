"""The ledger's engine and its migrations, applied in code at start (no alembic.ini)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from .migrations.env_constants import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")
#: The ledger's file name when no URL is configured (next to the hub's SQLite file).
DEFAULT_FILENAME = "hub-extensions-usage.sqlite"


def default_db_url(hub_db_url: str = "", cwd: str | Path | None = None) -> str:
    """The ledger's SQLite URL next to the hub's SQLite file, else in `cwd` (the hub's)."""
    base = Path(cwd if cwd is not None else os.getcwd())
    if hub_db_url:
        try:
            url = make_url(hub_db_url)
        except ArgumentError:
            url = None
        if url is not None and url.drivername.startswith("sqlite") and url.database:
            if url.database != ":memory:":
                base = (base / url.database).parent
    return f"sqlite:///{(base / DEFAULT_FILENAME).resolve()}"


def make_engine(db_url: str) -> Engine:
    """An engine tuned for the ledger's bulk writes; a bare `postgresql://` means psycopg2."""
    url = make_url(db_url)
    if url.drivername == "postgresql":
        # the `postgres` extra installs psycopg2; SQLAlchemy 2.1 would pick psycopg (3)
        url = url.set(drivername="postgresql+psycopg2")
    if url.drivername.startswith("postgresql"):
        return create_engine(
            url,
            pool_pre_ping=True,  # connections die when the server restarts; writes then resume
            # executemany of UPDATEs in pages of statements, not one round trip per row
            executemany_mode="values_plus_batch",
            connect_args={"connect_timeout": 5},
        )
    engine = create_engine(url, connect_args={"timeout": 10})
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        guard = SQLiteFileGuard(Path(url.database))
        engine.hub_extensions_file_guard = guard  # type: ignore[attr-defined]
        event.listen(engine, "do_connect", guard.before_connect)
        event.listen(engine, "connect", guard.after_connect)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # WAL: the service process reads while the hub writes
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


#: SQLite's companion files, created with the database file's permissions
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class SQLiteFileGuard:
    """Keeps a SQLite ledger file private (0600) and notices when it vanishes.

    SQLite creates a missing file at the next connection, and connections already open keep
    writing into a deleted file: a ledger deleted or moved while the hub runs would lose every
    write in silence, and the history would be gone after the next start. So the file is
    created here (0600: usage, costs and build logs are not for every account on the
    machine), and once it has been seen, a connection to a missing file is refused, with what
    to do; `problem()` tells whether the file the connections use is still the one at its path.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.identity: tuple[int, int] | None = None  # (device, inode) once connected

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino)

    def before_connect(self, dialect, conn_rec, cargs, cparams) -> None:
        if self._stat() is not None:
            return
        if self.identity is not None:
            raise sqlite3.OperationalError(self.vanished())
        try:  # first use: make it private before SQLite creates it with the umask's mode
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError:
            pass  # e.g. no such directory (yet): SQLite's own error says so, and writes queue

    def after_connect(self, dbapi_conn, conn_rec) -> None:
        self.identity = self._stat() or self.identity
        for suffix in SQLITE_COMPANIONS:  # a file made by an older version, or by hand
            companion = Path(f"{self.path}{suffix}")
            try:
                if companion.stat().st_mode & 0o077:
                    companion.chmod(0o600)
            except OSError:
                pass  # absent, or another account's: left as it is

    def problem(self) -> str | None:
        """Why the connections no longer write to the file at the ledger's path; else None."""
        if self.identity is None:
            return None
        now = self._stat()
        if now is None:
            return self.vanished()
        if now != self.identity:
            return (
                f"the usage ledger file {self.path} was replaced while in use; the hub "
                "reconnects to the new file (what was written in between went to the old one)."
            )
        return None

    def vanished(self) -> str:
        return (
            f"the usage ledger file {self.path} has vanished (deleted or moved) while in use: "
            "sessions are kept in memory, not recorded. Put the file back (e.g. from a "
            "backup) and they are written to it; or restart the hub to start an empty ledger."
        )


def file_guard(engine: Engine) -> SQLiteFileGuard | None:
    return getattr(engine, "hub_extensions_file_guard", None)


def alembic_config(engine_or_connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = engine_or_connection
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the ledger's schema to the newest revision; a no-op when it is there already."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
