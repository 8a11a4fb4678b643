"""Names shared by the alembic environment and the code that inspects it."""

#: The ledger's own alembic version table, so it may share a database with the hub's alembic.
VERSION_TABLE = "hub_extensions_usage_version"
