"""The ledger's tables: one row per server session, plus daily roll-ups for fast reads.

Times are stored as timezone-naive UTC on every backend (`UTCDateTime`) and read back as aware
UTC datetimes, so SQLite and PostgreSQL behave alike. Days (`date` columns) are calendar days in
the configured `HubExtensionsUsage.timezone`.

"Real activity" (what makes a user active on a day): the user had a session whose server was up
during that day and was not idle for all of it, i.e. the session accrued `active_seconds` > 0
within that day. Idle time is the time since the server's last activity as reported by the hub.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: 64-bit ids made by the ledger itself (see ledger.new_session_id), an alias of SQLite's rowid.
SessionId = BigInteger().with_variant(Integer(), "sqlite")


class EndReason(str, enum.Enum):
    """Why a session ended."""

    user_stop = "user_stop"
    cull = "cull"
    found_dead = "found_dead"
    spawn_failed = "spawn_failed"
    hub_down = "hub_down"
    reconciled = "reconciled"
    over_budget = (
        "over_budget"  # stopped by HubExtensionsCost.stop_over_budget after its grace period
    )


class UTCDateTime(TypeDecorator):
    """Naive UTC in the database; aware UTC in Python. Naive inputs are taken as UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class UsageSession(Base):
    """One server session, from spawn request to end; `active_seconds + idle_seconds` is up time."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(SessionId, primary_key=True, autoincrement=False)
    user: Mapped[str] = mapped_column(String(255))
    server_name: Mapped[str] = mapped_column(String(255), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[EndReason | None] = mapped_column(
        SAEnum(EndReason, native_enum=False, length=20, validate_strings=True)
    )
    end_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    profile_slug: Mapped[str] = mapped_column(String(255), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image: Mapped[str | None] = mapped_column(String(1024))
    build_repo: Mapped[str | None] = mapped_column(String(1024))
    build_ref: Mapped[str | None] = mapped_column(String(255))
    cpu_request: Mapped[float | None] = mapped_column(Float)
    cpu_limit: Mapped[float | None] = mapped_column(Float)
    mem_request_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mem_limit_bytes: Mapped[int | None] = mapped_column(BigInteger)
    gpu_count: Mapped[int] = mapped_column(Integer, default=0)
    gpu_type: Mapped[str | None] = mapped_column(String(255))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    idle_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    spawner_class: Mapped[str | None] = mapped_column(String(255))
    #: what the accrued time cost, each stretch priced when it accrued (0 without prices)
    cost: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    __table_args__ = (
        Index("ix_sessions_user_requested_at", "user", "requested_at"),
        Index("ix_sessions_requested_at", "requested_at"),
        Index("ix_sessions_profile_requested_at", "profile_slug", "requested_at"),
        # only running sessions: what reconciliation and "who is running" read
        Index(
            "ix_sessions_running",
            "user",
            "server_name",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    @property
    def seconds(self) -> float:
        """Accrued up time, the base of cost."""
        return self.active_seconds + self.idle_seconds

    def to_dict(self) -> dict[str, Any]:
        out = {c.key: getattr(self, c.key) for c in self.__table__.columns}
        out["end_reason"] = self.end_reason.value if self.end_reason else None
        out["seconds"] = self.seconds
        return out


class DailyUsage(Base):
    """Per (day, user, profile): sessions requested that day and time accrued within it."""

    __tablename__ = "daily_usage"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    profile_slug: Mapped[str] = mapped_column(String(255), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    idle_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    __table_args__ = (Index("ix_daily_usage_day", "day"),)


class GroupDailyUsage(Base):
    """Per (group, day): time and cost of the sessions of the group's members (as they were
    when each session started), for pooled group budgets and the cost report by group."""

    __tablename__ = "group_daily_usage"

    group_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    cost: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    __table_args__ = (Index("ix_group_daily_usage_day", "day"),)


class ActiveDay(Base):
    """Marks a user as really active on a day: once overall (group '') and once per group."""

    __tablename__ = "active_days"

    group_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user: Mapped[str] = mapped_column(String(255), primary_key=True)


ALL_USERS = ""  # ActiveDay.group_name of the overall markers


class BuildRecord(Base):
    """A finished environment build (hub_extensions.builds), with its log, for the history
    users and admins read after the service restarts. `requesters` lists everyone who asked
    for it (one build serves all requests for the same commit)."""

    __tablename__ = "builds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(255))
    requesters: Mapped[list[str]] = mapped_column(JSON, default=list)
    repository: Mapped[str] = mapped_column(String(2048))
    ref: Mapped[str] = mapped_column(String(255))
    sha: Mapped[str] = mapped_column(String(64))
    image: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(20))
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column(Float)
    log: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_builds_created_at", "created_at"),
        Index("ix_builds_user_created_at", "user", "created_at"),
    )
