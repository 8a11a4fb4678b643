"""What users and groups spent: reads of the ledger's cost roll-ups (fast on a year of data).

Costs are written by the ledger as time accrues (hub_extensions.cost.pricing), so these reads
only add up day roll-ups: one user's spend is one indexed range scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from ..store.models import DailyUsage, GroupDailyUsage, UsageSession

DAILY = DailyUsage.__table__
Bind = Engine | Connection


@contextmanager
def connected(bind: Bind) -> Iterator[Connection]:
    """A connection of `bind`: a new one from an engine, or the caller's own (one connection
    for several reads, as the widget does, saves a pool checkout per read)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


GROUPS = GroupDailyUsage.__table__
SESSIONS = UsageSession.__table__


def user_spend(engine: Bind, user: str, first: date, last: date) -> float:
    """What `user` spent from `first` to `last` (local days, inclusive)."""
    query = select(func.coalesce(func.sum(DAILY.c.cost), 0.0)).where(
        DAILY.c.user == user, DAILY.c.day.between(first, last)
    )
    with connected(engine) as conn:
        return float(conn.execute(query).scalar_one())


def user_daily_costs(engine: Bind, user: str, first: date, last: date) -> dict[date, float]:
    query = (
        select(DAILY.c.day, func.sum(DAILY.c.cost))
        .where(DAILY.c.user == user, DAILY.c.day.between(first, last))
        .group_by(DAILY.c.day)
    )
    with connected(engine) as conn:
        return {day: float(cost) for day, cost in conn.execute(query)}


def group_daily_costs(
    engine: Bind, groups: list[str], first: date, last: date
) -> dict[str, dict[date, float]]:
    """Per group, what its members' sessions cost per day (pooled group budgets)."""
    if not groups:
        return {}
    query = select(GROUPS.c.group_name, GROUPS.c.day, GROUPS.c.cost).where(
        GROUPS.c.group_name.in_(groups), GROUPS.c.day.between(first, last)
    )
    out: dict[str, dict[date, float]] = {g: {} for g in groups}
    with connected(engine) as conn:
        for group, day, cost in conn.execute(query):
            out[group][day] = float(cost)
    return out


def costs_by_user(engine: Bind, first: date, last: date) -> list[dict[str, Any]]:
    """Every user's spend in the range, by profile, biggest spenders first."""
    query = (
        select(
            DAILY.c.user, DAILY.c.profile_slug, func.sum(DAILY.c.cost), func.sum(DAILY.c.seconds)
        )
        .where(DAILY.c.day.between(first, last))
        .group_by(DAILY.c.user, DAILY.c.profile_slug)
    )
    users: dict[str, dict[str, Any]] = {}
    with connected(engine) as conn:
        for user, profile, cost, seconds in conn.execute(query):
            entry = users.setdefault(
                user, {"user": user, "cost": 0.0, "hours": 0.0, "profiles": {}}
            )
            entry["cost"] += float(cost)
            entry["hours"] += float(seconds) / 3600
            entry["profiles"][profile] = float(cost)
    return sorted(users.values(), key=lambda u: (-u["cost"], u["user"]))


def costs_by_group(engine: Bind, first: date, last: date) -> list[dict[str, Any]]:
    query = (
        select(GROUPS.c.group_name, func.sum(GROUPS.c.cost), func.sum(GROUPS.c.seconds))
        .where(GROUPS.c.day.between(first, last))
        .group_by(GROUPS.c.group_name)
    )
    with connected(engine) as conn:
        rows = [
            {"group": g, "cost": float(c), "hours": float(s) / 3600}
            for g, c, s in conn.execute(query)
        ]
    return sorted(rows, key=lambda r: (-r["cost"], r["group"]))


def daily_totals(
    engine: Bind, first: date, last: date, user: str | None = None
) -> list[tuple[date, float]]:
    """Cost per day over the range (everyone's, or one user's), for trend charts."""
    query = select(DAILY.c.day, func.sum(DAILY.c.cost)).where(DAILY.c.day.between(first, last))
    if user is not None:
        query = query.where(DAILY.c.user == user)
    query = query.group_by(DAILY.c.day).order_by(DAILY.c.day)
    by_day: dict[date, float] = defaultdict(float)
    with connected(engine) as conn:
        for day, cost in conn.execute(query):
            by_day[day] = float(cost)
    return sorted(by_day.items())


def running_session(engine: Bind, user: str, server_name: str = "") -> dict[str, Any] | None:
    """The user's open session of that server (its cost so far, what it runs with), if any."""
    cols = [SESSIONS.c[k] for k in (
        "id", "profile_slug", "ready_at", "cost", "active_seconds", "idle_seconds", "cpu_request",
        "cpu_limit", "mem_request_bytes", "mem_limit_bytes", "gpu_count", "gpu_type",
    )]  # fmt: skip
    query = (
        select(*cols)
        .where(SESSIONS.c.user == user, SESSIONS.c.server_name == server_name)
        .where(SESSIONS.c.ended_at.is_(None))
        .order_by(SESSIONS.c.requested_at.desc())
        .limit(1)
    )
    with connected(engine) as conn:
        row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None
