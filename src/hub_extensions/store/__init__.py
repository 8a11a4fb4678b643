"""The suite's database: one schema and its alembic migrations, shared by every feature.

A core package: the usage ledger, the cost tables and the build history all live in this
database, so its models, engine and migrations sit below the features that use them.
"""
