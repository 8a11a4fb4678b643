"""Reads of the daily roll-ups shaped for the usage page's charts: one row per day, no gaps."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..store.models import DailyUsage

DAILY = DailyUsage.__table__


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def daily_by_profile(
    engine: Engine, start: date, end: date, user: str | None = None
) -> dict[str, Any]:
    """Sessions requested and hours up per day from start to end (inclusive), per profile.

    Days without usage are zeros, so a chart draws every day of the range; `user` keeps one
    user's rows only. Reads `daily_usage` (one scan of the range), never the sessions table.
    """
    if end < start:
        raise ValueError(f"end: {end} is before start {start}")
    query = (
        select(
            DAILY.c.day,
            DAILY.c.profile_slug,
            func.sum(DAILY.c.sessions).label("sessions"),
            func.sum(DAILY.c.seconds).label("seconds"),
        )
        .where(DAILY.c.day.between(start, end))
        .group_by(DAILY.c.day, DAILY.c.profile_slug)
    )
    if user is not None:
        query = query.where(DAILY.c.user == user)
    days = days_between(start, end)
    index = {d: i for i, d in enumerate(days)}
    sessions = [0] * len(days)
    hours: dict[str, list[float]] = {}
    with engine.connect() as conn:
        for day, profile, n, seconds in conn.execute(query):
            i = index[day]
            sessions[i] += int(n or 0)
            per_profile = hours.setdefault(profile, [0.0] * len(days))
            per_profile[i] += float(seconds or 0.0) / 3600
    return {
        "days": [d.isoformat() for d in days],
        "sessions": sessions,
        "hours": {p: [round(h, 4) for h in hours[p]] for p in sorted(hours)},
    }
