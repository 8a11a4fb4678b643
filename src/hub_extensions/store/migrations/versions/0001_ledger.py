"""The ledger: sessions, daily roll-ups per user and profile, active-day markers.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

SessionId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RUNNING = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", SessionId, primary_key=True, autoincrement=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("server_name", sa.String(255), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("ready_at", sa.DateTime(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
        sa.Column("end_inferred", sa.Boolean(), nullable=False),
        sa.Column("profile_slug", sa.String(255), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("image", sa.String(1024), nullable=True),
        sa.Column("build_repo", sa.String(1024), nullable=True),
        sa.Column("build_ref", sa.String(255), nullable=True),
        sa.Column("cpu_request", sa.Float(), nullable=True),
        sa.Column("cpu_limit", sa.Float(), nullable=True),
        sa.Column("mem_request_bytes", sa.BigInteger(), nullable=True),
        sa.Column("mem_limit_bytes", sa.BigInteger(), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("gpu_type", sa.String(255), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("active_seconds", sa.Float(), nullable=False),
        sa.Column("idle_seconds", sa.Float(), nullable=False),
        sa.Column("spawner_class", sa.String(255), nullable=True),
    )
    op.create_index("ix_sessions_user_requested_at", "sessions", ["user", "requested_at"])
    op.create_index("ix_sessions_requested_at", "sessions", ["requested_at"])
    op.create_index(
        "ix_sessions_profile_requested_at", "sessions", ["profile_slug", "requested_at"]
    )
    op.create_index(
        "ix_sessions_running",
        "sessions",
        ["user", "server_name"],
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )
    op.create_table(
        "daily_usage",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("profile_slug", sa.String(255), primary_key=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("idle_seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_daily_usage_day", "daily_usage", ["day"])
    op.create_table(
        "active_days",
        sa.Column("group_name", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user", sa.String(255), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("active_days")
    op.drop_index("ix_daily_usage_day", table_name="daily_usage")
    op.drop_table("daily_usage")
    op.drop_index("ix_sessions_running", table_name="sessions")
    op.drop_index("ix_sessions_profile_requested_at", table_name="sessions")
    op.drop_index("ix_sessions_requested_at", table_name="sessions")
    op.drop_index("ix_sessions_user_requested_at", table_name="sessions")
    op.drop_table("sessions")
