"""Cost: what accrued time cost, on sessions and day roll-ups, and per group and day.

Each heartbeat prices the time it accrues with the price version in force that day, so the
stored cost never changes when prices do (issue #7).

Revision ID: 0002_cost
Revises: 0001_ledger
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_cost"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("cost", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("daily_usage") as batch:
        batch.add_column(sa.Column("cost", sa.Float(), nullable=False, server_default="0"))
    op.create_table(
        "group_daily_usage",
        sa.Column("group_name", sa.String(255), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("cost", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index("ix_group_daily_usage_day", "group_daily_usage", ["day"])


def downgrade() -> None:
    op.drop_index("ix_group_daily_usage_day", table_name="group_daily_usage")
    op.drop_table("group_daily_usage")
    with op.batch_alter_table("daily_usage") as batch:
        batch.drop_column("cost")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("cost")
