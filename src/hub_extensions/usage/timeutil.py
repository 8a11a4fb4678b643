"""Time arithmetic of the ledger: UTC instants split into the configured time zone's days."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = timezone.utc
MONTH_RE = re.compile(r"\A(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])\Z")


def as_utc(value: datetime, name: str) -> datetime:
    """An aware UTC datetime; naive values are hub times, which are UTC."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@lru_cache(maxsize=8192)
def _day_of(instant: datetime, tz: ZoneInfo) -> tuple[date, datetime]:
    """The local day of `instant` and the UTC instant the next one starts. Cached: one tick
    asks this for the same few instants (last heartbeat, now) thousands of times."""
    day = local_day(instant, tz)
    return day, day_start(day + timedelta(days=1), tz)


def split_by_day(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, float]]:
    """Seconds of [start, end) falling in each local day of `tz`, in order."""
    out: list[tuple[date, float]] = []
    cur = start
    while cur < end:
        day, next_start = _day_of(cur, tz)
        seg_end = min(end, next_start)
        if seg_end <= cur:  # a midnight skipped by a DST change: move on by an hour
            seg_end = min(end, cur + timedelta(hours=1))
        out.append((day, (seg_end - cur).total_seconds()))
        cur = seg_end
    return out


#: (local day, active seconds, idle seconds), one per day an interval touches, in order
Part = tuple[date, float, float]


def accrue_days(
    start: datetime, end: datetime, last_activity: datetime | None, tz: ZoneInfo
) -> tuple[Part, ...]:
    """Split [start, end) into active then idle time per local day; idle runs from the last
    activity on.

    Idle time is the time since `last_activity`, capped to the interval. Without any known
    activity the whole interval is idle, so an untouched server never makes its user "active".
    The result is a tuple of tuples of atoms, which Python's garbage collector stops tracking at
    its first look: a heartbeat over thousands of sessions leaves nothing for the old
    generation, so it does not bring on a full collection (which would hold the hub's loop).
    """
    if end <= start:
        return ()
    idle_from = start if last_activity is None else min(max(last_activity, start), end)
    day, next_start = _day_of(start, tz)
    if end <= next_start:  # the usual case: one local day
        return ((day, (idle_from - start).total_seconds(), (end - idle_from).total_seconds()),)
    days: dict[date, tuple[float, float]] = {}
    for day, seconds in split_by_day(start, idle_from, tz):
        active, idle = days.get(day, (0.0, 0.0))
        days[day] = (active + seconds, idle)
    for day, seconds in split_by_day(idle_from, end, tz):
        active, idle = days.get(day, (0.0, 0.0))
        days[day] = (active, idle + seconds)
    return tuple((day, active, idle) for day, (active, idle) in days.items())


def parse_month(month: str | date) -> date:
    """The first day of `month` ('YYYY-MM' or any date in it)."""
    if isinstance(month, date):
        return month.replace(day=1)
    m = MONTH_RE.match(str(month))
    if not m:
        raise ValueError(f"month: {month!r} is not a month. Use 'YYYY-MM', e.g. '2026-11'")
    return date(int(m.group("y")), int(m.group("m")), 1)


def month_end(first: date) -> date:
    """The last day of the month starting on `first`."""
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
