"""The heartbeat's bulk statements, one way per backend, each one round trip per chunk.

SQLite runs in-process, so SQLAlchemy's executemany of one cached statement is fast. PostgreSQL
would run an executemany statement by statement, and SQLAlchemy takes longer to compile a
2,000-row VALUES list than the server takes to run it, so there psycopg2's execute_values sends
one multi-row statement per chunk.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from .models import ActiveDay, DailyUsage, UsageSession

SESSIONS = UsageSession.__table__
DAILY = DailyUsage.__table__
ACTIVE = ActiveDay.__table__
PAGE = 5000  # rows per PostgreSQL statement

Accrued = tuple[int, float, float]  # session id, active seconds, idle seconds
Daily = tuple[str, date, str, int, float, float]  # user, day, profile, sessions, seconds, idle
Marker = tuple[str, date, str]  # group_name, day, user


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def accrue_sessions(conn: Connection, now: datetime, rows: list[Accrued]) -> None:
    """Add accrued seconds to sessions and set their last_seen_at to `now`."""
    # by id alone: with `ended_at IS NULL` PostgreSQL walks the partial index of running
    # sessions for every row; callers read the rows as open in the same transaction
    if _is_postgres(conn):
        _execute_values(
            conn,
            "UPDATE sessions AS s SET last_seen_at = v.now, active_seconds = s.active_seconds"
            " + v.active, idle_seconds = s.idle_seconds + v.idle"
            " FROM (VALUES %s) AS v(id, active, idle, now) WHERE s.id = v.id",
            [(i, a, d, _naive_utc(now)) for i, a, d in rows],
            "(%s::bigint, %s::float8, %s::float8, %s::timestamp)",
        )
        return
    stmt = (
        update(SESSIONS)
        .where(SESSIONS.c.id == bindparam("b_id"))
        .values(
            last_seen_at=now,
            active_seconds=SESSIONS.c.active_seconds + bindparam("b_active"),
            idle_seconds=SESSIONS.c.idle_seconds + bindparam("b_idle"),
        )
    )
    conn.execute(stmt, [{"b_id": i, "b_active": a, "b_idle": d} for i, a, d in rows])


def add_daily(conn: Connection, rows: list[Daily]) -> None:
    """Add to the (user, day, profile) roll-ups; keys must be unique within `rows`."""
    if not rows:
        return
    if _is_postgres(conn):
        _execute_values(
            conn,
            'INSERT INTO daily_usage ("user", day, profile_slug, sessions, seconds, idle_seconds)'
            ' VALUES %s ON CONFLICT ("user", day, profile_slug) DO UPDATE SET'
            " sessions = daily_usage.sessions + EXCLUDED.sessions,"
            " seconds = daily_usage.seconds + EXCLUDED.seconds,"
            " idle_seconds = daily_usage.idle_seconds + EXCLUDED.idle_seconds",
            rows,
            "(%s, %s::date, %s, %s, %s::float8, %s::float8)",
        )
        return
    ins = sqlite.insert(DAILY)
    stmt = ins.on_conflict_do_update(
        index_elements=["user", "day", "profile_slug"],
        set_={
            "sessions": DAILY.c.sessions + ins.excluded.sessions,
            "seconds": DAILY.c.seconds + ins.excluded.seconds,
            "idle_seconds": DAILY.c.idle_seconds + ins.excluded.idle_seconds,
        },
    )
    keys = ("user", "day", "profile_slug", "sessions", "seconds", "idle_seconds")
    conn.execute(stmt, [dict(zip(keys, row, strict=True)) for row in rows])


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
    keys = ("group_name", "day", "user")
    conn.execute(
        sqlite.insert(ACTIVE).on_conflict_do_nothing(),
        [dict(zip(keys, row, strict=True)) for row in rows],
    )


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _execute_values(conn: Connection, sql: str, rows: list[tuple], template: str) -> None:
    from psycopg2.extras import execute_values

    cursor = conn.connection.dbapi_connection.cursor()  # the transaction's own connection
    try:
        execute_values(cursor, sql, rows, template=template, page_size=PAGE)
    finally:
        cursor.close()
