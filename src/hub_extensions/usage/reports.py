"""Reads of the ledger: session lists, month-to-date summaries, active-user counts.

Summaries and counts read the daily roll-ups only, never the sessions table, so they stay fast on
a year of sessions. Roll-ups hold time up to the last heartbeat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..store.models import ALL_USERS, ActiveDay, DailyUsage, EndReason, UsageSession
from .timeutil import UTC, as_utc, day_start, local_day, month_end, parse_month

SESSIONS = UsageSession.__table__
DAILY = DailyUsage.__table__
ACTIVE = ActiveDay.__table__
#: Window lengths in days, each ending on (and including) the day asked for.
WINDOWS = {"daily": 1, "weekly": 7, "monthly": 30}
MAX_LIMIT = 1000
UTC_ZONE = ZoneInfo("UTC")


def sessions(
    engine: Engine,
    tz: ZoneInfo,
    *,
    user: str | None = None,
    profile: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    reason: EndReason | str | None = None,
    running: bool | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Sessions overlapping [start, end), newest request first, as dicts of their columns.

    `running=True` keeps only sessions not ended yet, False only ended ones. `limit=None`
    returns all (for internal use; APIs pass a limit of at most 1000).
    """
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= MAX_LIMIT):
        raise ValueError(f"limit: {limit!r} must be a whole number from 1 to {MAX_LIMIT}")
    if not (isinstance(offset, int) and offset >= 0):
        raise ValueError(f"offset: {offset!r} must be a whole number >= 0")
    query = select(UsageSession)
    if user is not None:
        query = query.where(SESSIONS.c.user == user)
    if profile is not None:
        query = query.where(SESSIONS.c.profile_slug == profile)
    if end is not None:
        query = query.where(SESSIONS.c.requested_at < as_utc(end, "end"))
    if start is not None:
        start = as_utc(start, "start")
        query = query.where(or_(SESSIONS.c.ended_at.is_(None), SESSIONS.c.ended_at >= start))
    if reason is not None:
        try:
            reason = EndReason(reason)
        except ValueError:
            choices = ", ".join(r.value for r in EndReason)
            raise ValueError(f"reason: {reason!r} is not one of {choices}") from None
        query = query.where(SESSIONS.c.end_reason == reason)
    if running is not None:
        query = query.where(
            SESSIONS.c.ended_at.is_(None) if running else SESSIONS.c.ended_at.is_not(None)
        )
    query = query.order_by(SESSIONS.c.requested_at.desc(), SESSIONS.c.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as db:
        return [s.to_dict() for s in db.scalars(query)]


def month_days(tz: ZoneInfo, month: str | date | None, now: datetime | None) -> tuple[date, date]:
    """First and last day to read: the whole month, or up to today for the current month."""
    today = local_day(as_utc(now, "now") if now else datetime.now(UTC), tz)
    first = parse_month(month if month is not None else today)
    last = month_end(first)
    if first <= today <= last:
        last = today
    return first, last


def _totals(rows: Sequence[Any]) -> dict[str, Any]:
    profiles: dict[str, dict[str, float]] = {}
    for row in rows:
        profiles[row.profile_slug] = {
            "sessions": int(row.sessions),
            "seconds": float(row.seconds),
            "idle_seconds": float(row.idle_seconds),
            "cost": float(row.cost),
        }
    return {
        "sessions": sum(p["sessions"] for p in profiles.values()),
        "seconds": sum(p["seconds"] for p in profiles.values()),
        "idle_seconds": sum(p["idle_seconds"] for p in profiles.values()),
        "cost": sum(p["cost"] for p in profiles.values()),
        "profiles": profiles,
    }


def _sums():
    return (
        func.sum(DAILY.c.sessions).label("sessions"),
        func.sum(DAILY.c.seconds).label("seconds"),
        func.sum(DAILY.c.idle_seconds).label("idle_seconds"),
        func.sum(DAILY.c.cost).label("cost"),
    )


def summary(
    engine: Engine, tz: ZoneInfo, user: str, month: str | date | None, now: datetime | None
) -> dict[str, Any]:
    """One user's month to date: sessions requested, seconds up, idle seconds, per profile."""
    first, last = month_days(tz, month, now)
    query = (
        select(DAILY.c.profile_slug, *_sums())
        .where(DAILY.c.user == user, DAILY.c.day.between(first, last))
        .group_by(DAILY.c.profile_slug)
        .order_by(DAILY.c.profile_slug)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {"user": user, "month": first.strftime("%Y-%m"), "first_day": first,
            "last_day": last, **_totals(rows)}  # fmt: skip


def all_users_summary(
    engine: Engine, tz: ZoneInfo, month: str | date | None, now: datetime | None
) -> dict[str, Any]:
    """Every user's month to date (as `summary`), plus totals per profile; one scan."""
    first, last = month_days(tz, month, now)
    query = (
        select(DAILY.c.user, DAILY.c.profile_slug, *_sums())
        .where(DAILY.c.day.between(first, last))
        .group_by(DAILY.c.user, DAILY.c.profile_slug)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    per_user: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        per_user[row.user].append(row)
    users = [{"user": u, **_totals(per_user[u])} for u in sorted(per_user)]
    profiles: dict[str, dict[str, float]] = defaultdict(
        lambda: {"sessions": 0, "seconds": 0.0, "idle_seconds": 0.0, "cost": 0.0, "users": 0}
    )
    for entry in users:
        for slug, p in entry["profiles"].items():
            totals = profiles[slug]
            for key in ("sessions", "seconds", "idle_seconds", "cost"):
                totals[key] += p[key]
            totals["users"] += 1
    return {"month": first.strftime("%Y-%m"), "first_day": first, "last_day": last,
            "users": users, "profiles": dict(sorted(profiles.items()))}  # fmt: skip


def _window(window: str) -> int:
    if window not in WINDOWS:
        raise ValueError(f"window: {window!r} is not one of {', '.join(WINDOWS)}")
    return WINDOWS[window]


def active_users(
    engine: Engine,
    day: date,
    window: str,
    group: str | None,
    today: date | None = None,
    tz: ZoneInfo = UTC_ZONE,
) -> int:
    """Users with real activity in the window ending on `day` (7 or 30 days for weekly/monthly).

    Real activity is defined in models.py; with `group`, only users who were in that group
    in the session that made them active. When the window holds `today` (in `tz`), users with a
    server up now count too (see `running_users`).
    """
    first = day - timedelta(days=_window(window) - 1)
    markers = and_(ACTIVE.c.group_name == (group or ALL_USERS), ACTIVE.c.day.between(first, day))
    with engine.connect() as conn:
        if today is None or not first <= today <= day:
            count = select(func.count(func.distinct(ACTIVE.c.user))).where(markers)
            return int(conn.execute(count).scalar_one())
        users = set(conn.execute(select(ACTIVE.c.user).where(markers).distinct()).scalars())
    return len(users | running_users(engine, today, tz, group))


def running_users(engine: Engine, today: date, tz: ZoneInfo, group: str | None) -> set[str]:
    """Users with a server up now (ready, not ended) that the hub has seen `today`.

    They count as active today as soon as their server is up: the ledger learns of activity
    only when the server reports it (every 5 minutes by default), and until then a heartbeat
    counts the time as idle. The day's final count is the activity markers'. With `group`,
    only sessions whose user was in that group when it started.
    """
    query = select(SESSIONS.c.user, SESSIONS.c.groups).where(
        SESSIONS.c.ended_at.is_(None),
        SESSIONS.c.ready_at.is_not(None),
        SESSIONS.c.last_seen_at >= day_start(today, tz),
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {user for user, groups in rows if group is None or group in (groups or [])}


def active_users_series(
    engine: Engine,
    start: date,
    end: date,
    window: str,
    group: str | None,
    today: date | None = None,
    tz: ZoneInfo = UTC_ZONE,
) -> list[tuple[date, int]]:
    """`active_users` for every day from start to end, for charts; one query (two when the
    range holds `today`: users with a server up now count for today, see `running_users`)."""
    if end < start:
        raise ValueError(f"end: {end} is before start {start}")
    length = _window(window)
    query = (
        select(ACTIVE.c.day, ACTIVE.c.user)
        .where(ACTIVE.c.group_name == (group or ALL_USERS))
        .where(ACTIVE.c.day.between(start - timedelta(days=length - 1), end))
        .order_by(ACTIVE.c.day)
    )
    by_day: dict[date, list[str]] = defaultdict(list)
    with engine.connect() as conn:
        for day, user in conn.execute(query):
            by_day[day].append(user)
    if today is not None and start - timedelta(days=length - 1) <= today <= end:
        marked = set(by_day[today])
        by_day[today] += sorted(running_users(engine, today, tz, group) - marked)
    # sliding window: a user counts until `length` days after their latest active day
    latest: dict[str, date] = {}
    expiring: dict[date, int] = defaultdict(int)  # latest active day -> users
    count, out = 0, []
    day = start - timedelta(days=length - 1)
    while day <= end:
        count -= expiring.pop(day - timedelta(days=length), 0)
        for user in by_day.get(day, ()):
            previous = latest.get(user)
            if previous is not None and previous > day - timedelta(days=length):
                expiring[previous] -= 1
            else:
                count += 1
            latest[user] = day
            expiring[day] += 1
        if day >= start:
            out.append((day, count))
        day += timedelta(days=1)
    return out
