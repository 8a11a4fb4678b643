"""Alembic environment of the ledger; run by hub_extensions.store.db.migrate, never by a CLI."""

from __future__ import annotations

from alembic import context

from hub_extensions.store.migrations.env_constants import VERSION_TABLE
from hub_extensions.store.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    # SQLite alters tables by copying them; alembic's batch mode does that
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
