"""Build history: every finished environment build, with its log, kept across restarts.

Revision ID: 0003_builds
Revises: 0002_cost
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_builds"
down_revision = "0002_cost"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("requesters", sa.JSON(), nullable=False),
        sa.Column("repository", sa.String(2048), nullable=False),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("image", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("log", sa.Text(), nullable=False),
    )
    op.create_index("ix_builds_created_at", "builds", ["created_at"])
    op.create_index("ix_builds_user_created_at", "builds", ["user", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_builds_user_created_at", table_name="builds")
    op.drop_index("ix_builds_created_at", table_name="builds")
    op.drop_table("builds")
