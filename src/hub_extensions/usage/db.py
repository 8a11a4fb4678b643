"""The ledger's engine and its migrations, applied in code at start (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

MIGRATIONS = Path(__file__).with_name("migrations")


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

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # WAL: the service process reads while the hub writes
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


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
    from alembic.migration import MigrationContext

    from .migrations.env_constants import VERSION_TABLE

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()
