"""The heartbeat's bulk statements, one way per backend, each one round trip per chunk.

A heartbeat over 2,000 servers must hold the GIL (and so the hub's event loop) as little as
possible, and SQLAlchemy's per-row parameter processing cost more than the database work. So
these statements go to the DBAPI directly, with parameters prepared as each driver takes
them: on SQLite an executemany of plain tuples (times in SQLAlchemy's own text format, so its
reads parse them), on PostgreSQL psycopg2's execute_values, one multi-row statement per chunk.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from ..store.models import ActiveDay, DailyUsage, UsageSession

SESSIONS = UsageSession.__table__
DAILY = DailyUsage.__table__
ACTIVE = ActiveDay.__table__
PAGE = 5000  # rows per PostgreSQL statement

Accrued = tuple[int, float, float, float]  # session id, active seconds, idle seconds, cost
#: user, day, profile, sessions, seconds, idle seconds, cost
Daily = tuple[str, date, str, int, float, float, float]
GroupDaily = tuple[str, date, float, float]  # group_name, day, seconds, cost
Marker = tuple[str, date, str]  # group_name, day, user


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def _sqlite_time(t: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text (naive UTC, always with microseconds)."""
    return _naive_utc(t).strftime("%Y-%m-%d %H:%M:%S.%f")


def _parse_time(value: Any) -> datetime | None:
    """A stored time (SQLite text or a driver's datetime) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=4096)
def _groups(raw: str) -> tuple[str, ...]:
    """A stored groups snapshot; cached, as many sessions share the same few."""
    value = json.loads(raw)
    return tuple(value) if isinstance(value, list) else ()


class OpenRow(tuple):
    """A row of `open_rows` seen through attributes (as Pricing reads it): id, user,
    profile_slug, groups, last_seen_at, ready_at, then what it is billed for: cpu_request,
    cpu_limit, mem_request_bytes, mem_limit_bytes, gpu_count, gpu_type."""

    __slots__ = ()
    id = property(lambda self: self[0])
    user = property(lambda self: self[1])
    profile_slug = property(lambda self: self[2])
    groups = property(lambda self: self[3])
    last_seen_at = property(lambda self: self[4])
    ready_at = property(lambda self: self[5])
    cpu_request = property(lambda self: self[6])
    cpu_limit = property(lambda self: self[7])
    mem_request_bytes = property(lambda self: self[8])
    mem_limit_bytes = property(lambda self: self[9])
    gpu_count = property(lambda self: self[10])
    gpu_type = property(lambda self: self[11])


def open_rows(conn: Connection, ids: list[int]) -> list[tuple]:
    """The sessions among `ids` that have not ended, read straight from the driver, as plain
    tuples of atoms in OpenRow's order. (A tuple subclass would stay tracked by the garbage
    collector; plain ones it drops at its first look. See timeutil.accrue_days.)"""
    rows: list[tuple] = []
    for i in range(0, len(ids), 900):  # stays below every backend's bound-parameter limit
        chunk = ids[i : i + 900]
        marks = ", ".join(["%s" if _is_postgres(conn) else "?"] * len(chunk))
        # only placeholders are formatted in; the ids are bound parameters
        sql = (
            'SELECT id, "user", profile_slug, CAST(groups AS TEXT), last_seen_at, ready_at,'
            " cpu_request, cpu_limit, mem_request_bytes, mem_limit_bytes, gpu_count, gpu_type"
            " FROM sessions"
        )
        sql += " WHERE ended_at IS NULL AND id IN (" + marks + ")"
        result = conn.exec_driver_sql(sql, tuple(chunk))
        for sid, user, profile, groups, seen, ready, *billed in result:
            groups = _groups(groups) if groups else ()  # as text: one shared tuple per value
            times = (_parse_time(seen), _parse_time(ready))
            rows.append((sid, user, profile, groups, *times, *billed))
    return rows


def accrue_sessions(conn: Connection, now: datetime, rows: list[Accrued]) -> None:
    """Add accrued seconds to sessions and set their last_seen_at to `now`."""
    # by id alone: with `ended_at IS NULL` PostgreSQL walks the partial index of running
    # sessions for every row; callers read the rows as open in the same transaction
    if _is_postgres(conn):
        _execute_values(
            conn,
            "UPDATE sessions AS s SET last_seen_at = v.now, active_seconds = s.active_seconds"
            " + v.active, idle_seconds = s.idle_seconds + v.idle, cost = s.cost + v.cost"
            " FROM (VALUES %s) AS v(id, active, idle, cost, now) WHERE s.id = v.id",
            [(i, a, d, c, _naive_utc(now)) for i, a, d, c in rows],
            "(%s::bigint, %s::float8, %s::float8, %s::float8, %s::timestamp)",
        )
        return
    seen = _sqlite_time(now)
    conn.exec_driver_sql(
        "UPDATE sessions SET last_seen_at = ?, active_seconds = active_seconds + ?,"
        " idle_seconds = idle_seconds + ?, cost = cost + ? WHERE id = ?",
        [(seen, a, d, c, i) for i, a, d, c in rows],
    )


def add_daily(conn: Connection, rows: list[Daily]) -> None:
    """Add to the (user, day, profile) roll-ups; keys must be unique within `rows`."""
    if not rows:
        return
    if _is_postgres(conn):
        _execute_values(
            conn,
            'INSERT INTO daily_usage ("user", day, profile_slug, sessions, seconds, idle_seconds,'
            ' cost) VALUES %s ON CONFLICT ("user", day, profile_slug) DO UPDATE SET'
            " sessions = daily_usage.sessions + EXCLUDED.sessions,"
            " seconds = daily_usage.seconds + EXCLUDED.seconds,"
            " idle_seconds = daily_usage.idle_seconds + EXCLUDED.idle_seconds,"
            " cost = daily_usage.cost + EXCLUDED.cost",
            rows,
            "(%s, %s::date, %s, %s, %s::float8, %s::float8, %s::float8)",
        )
        return
    conn.exec_driver_sql(
        'INSERT INTO daily_usage ("user", day, profile_slug, sessions, seconds, idle_seconds,'
        ' cost) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("user", day, profile_slug) DO UPDATE'
        " SET sessions = sessions + excluded.sessions, seconds = seconds + excluded.seconds,"
        " idle_seconds = idle_seconds + excluded.idle_seconds, cost = cost + excluded.cost",
        [(u, d.isoformat(), p, n, sec, idle, c) for u, d, p, n, sec, idle, c in rows],
    )


def add_group_daily(conn: Connection, rows: list[GroupDaily]) -> None:
    """Add to the (group, day) roll-ups; keys must be unique within `rows`."""
    if not rows:
        return
    if _is_postgres(conn):
        _execute_values(
            conn,
            "INSERT INTO group_daily_usage (group_name, day, seconds, cost) VALUES %s"
            " ON CONFLICT (group_name, day) DO UPDATE SET"
            " seconds = group_daily_usage.seconds + EXCLUDED.seconds,"
            " cost = group_daily_usage.cost + EXCLUDED.cost",
            rows,
            "(%s, %s::date, %s::float8, %s::float8)",
        )
        return
    conn.exec_driver_sql(
        "INSERT INTO group_daily_usage (group_name, day, seconds, cost) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (group_name, day) DO UPDATE SET seconds = seconds + excluded.seconds,"
        " cost = cost + excluded.cost",
        [(g, d.isoformat(), sec, c) for g, d, sec, c in rows],
    )


def mark_active(conn: Connection, rows: list[Marker]) -> None:
    """Insert active-day markers that are not there yet."""
    if not rows:
        return
    if _is_postgres(conn):
        _execute_values(
            conn,
            'INSERT INTO active_days (group_name, day, "user") VALUES %s ON CONFLICT DO NOTHING',
            rows,
            "(%s, %s::date, %s)",
        )
        return
    conn.exec_driver_sql(
        'INSERT INTO active_days (group_name, day, "user") VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [(g, d.isoformat(), u) for g, d, u in rows],
    )


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _execute_values(conn: Connection, sql: str, rows: list[tuple], template: str) -> None:
    from psycopg2.extras import execute_values

    dbapi = conn.connection.dbapi_connection  # the transaction's own connection
    assert dbapi is not None  # a connection in a transaction is checked out
    cursor = dbapi.cursor()
    try:
        execute_values(cursor, sql, rows, template=template, page_size=PAGE)
    finally:
        cursor.close()
