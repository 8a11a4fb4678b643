"""The ledger: record sessions, accrue their time at each heartbeat, roll it up per day.

`Ledger` methods are synchronous and short (one transaction each, bulk statements). The hub
calls them in a thread executor, or directly when a few milliseconds on its event loop are
acceptable. An in-process lock serialises them, so one Ledger may be shared by threads. For
fail-open behaviour wrap it in `FailOpenLedger`.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.engine import Connection, Engine

from ..store.db import make_engine, migrate
from ..store.models import ALL_USERS, EndReason, UsageSession
from . import bulk, reports
from .config import HubExtensionsUsage, resolve_db_url, timezone_problem
from .timeutil import UTC, Part, accrue_days, as_utc, local_day

SESSIONS = cast(Table, UsageSession.__table__)
_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00Z
_counter = itertools.count(random.getrandbits(12))
MARKER_CACHE_MAX = 200_000
#: Session fields mark_ready may set: final only once the server runs.
READY_DETAILS = ("image", "build_repo", "build_ref", "cpu_request", "cpu_limit",
                 "mem_request_bytes", "mem_limit_bytes", "gpu_count", "gpu_type")  # fmt: skip


def new_session_id() -> int:
    """A unique id made before any database round trip (so a queued write can use it).

    Milliseconds since 2024 shifted by 12 bits plus a per-process counter: sortable by time,
    and below 2**53 (exact in JavaScript) until about 2093.
    """
    ms = int(time.time() * 1000) - _EPOCH_MS
    return (ms << 12) | (next(_counter) & 0xFFF)


@dataclass
class ReconcileResult:
    """What reconciliation did: sessions closed, and running servers' sessions to adopt."""

    closed: list[int] = field(default_factory=list)
    #: (user, server_name) -> id of the open session of a server still running
    adopted: dict[tuple[str, str], int] = field(default_factory=dict)
    #: running servers the ledger has no open session for
    unknown: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class TickTally:
    """What the last heartbeat accrued, summed for the cost metrics while still in the
    ledger's thread (so the hub's loop only sets a few series). Dicts of atoms only."""

    #: profile -> what its running sessions cost per hour
    rates: dict[str, float] = field(default_factory=dict)
    #: (profile, group) -> cost accrued; group "" is every user
    costs: dict[tuple[str, str], float] = field(default_factory=dict)
    #: user -> cost accrued
    user_costs: dict[str, float] = field(default_factory=dict)

    def add(self, user: str, profile: str, groups: tuple[str, ...], cost: float, secs: float):
        if secs > 0:
            self.rates[profile] = self.rates.get(profile, 0.0) + cost / secs * 3600
        if cost > 0:
            for group in ("", *groups):
                key = (profile, group)
                self.costs[key] = self.costs.get(key, 0.0) + cost
            self.user_costs[user] = self.user_costs.get(user, 0.0) + cost


#: An accrual: (open row from bulk.open_rows, its (day, active, idle) parts, their costs)
Accrued = tuple[tuple, tuple[Part, ...], tuple[float, ...]]
ZERO3 = (0.0, 0.0, 0.0)


def _check(cond: bool, name: str, fix: str) -> None:
    if not cond:
        raise ValueError(f"{name}: {fix}")


def _number(value: Any, name: str, *, integer: bool = False) -> None:
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool) and value >= 0
    _check(ok, name, f"{value!r} must be a {'whole ' if integer else ''}number >= 0")


#: Sessions per heartbeat transaction (see Ledger._heartbeat_chunk).
HEARTBEAT_CHUNK = 250


class Ledger:
    """Storage, roll-ups and queries of the activity ledger on SQLite or PostgreSQL."""

    def __init__(self, db_url: str | Engine, timezone: str = "UTC") -> None:
        problem = timezone_problem(timezone)
        if problem:
            raise ValueError(f"timezone: {problem}")
        self.engine = db_url if isinstance(db_url, Engine) else make_engine(db_url)
        self.tz = ZoneInfo(timezone)
        self.started = False
        self._lock = threading.RLock()
        self._marked: set[tuple[date, str]] = set()  # active-day markers known to be written
        #: prices accrued time (hub_extensions.cost.pricing.Pricing); None: nothing is priced
        self.pricing: Any = None
        #: what the last heartbeat accrued, for the cost metrics (only with pricing)
        self.last_tally = TickTally()

    @classmethod
    def from_config(
        cls, usage: HubExtensionsUsage, hub_db_url: str = "", cwd: str | None = None
    ) -> Ledger:
        return cls(resolve_db_url(usage, hub_db_url, cwd), timezone=usage.timezone)

    def start(self) -> None:
        """Apply pending migrations; call once before anything else."""
        with self._lock:
            migrate(self.engine)
            self.started = True

    def close(self) -> None:
        self.engine.dispose()

    # --- writes -------------------------------------------------------------------------------

    def open_session(self, **fields: Any) -> int:
        """Record a spawn request; returns the session's id. Counts a session for its day.

        Fields: see `session_row`; `user` and `requested_at` are required.
        """
        row = self.session_row(**fields)
        with self._lock, self.engine.begin() as conn:
            conn.execute(SESSIONS.insert(), row)
            day = local_day(row["requested_at"], self.tz)
            bulk.add_daily(conn, [(row["user"], day, row["profile_slug"], 1, 0.0, 0.0, 0.0)])
        return row["id"]

    def session_row(
        self,
        *,
        user: str,
        requested_at: datetime,
        server_name: str = "",
        profile_slug: str = "",
        options: dict[str, Any] | None = None,
        image: str | None = None,
        build_repo: str | None = None,
        build_ref: str | None = None,
        cpu_request: float | None = None,
        cpu_limit: float | None = None,
        mem_request_bytes: int | None = None,
        mem_limit_bytes: int | None = None,
        gpu_count: int = 0,
        gpu_type: str | None = None,
        groups: Iterable[str] = (),
        spawner_class: str | None = None,
        session_id: int | None = None,
    ) -> dict[str, Any]:
        """The sessions row of a spawn request, with every field checked (messages name it)."""
        _check(isinstance(user, str) and user != "", "user", "must be a non-empty string")
        _check(isinstance(server_name, str), "server_name", "must be a string ('' = default)")
        _check(isinstance(profile_slug, str), "profile_slug", "must be a string")
        for name, value in (("cpu_request", cpu_request), ("cpu_limit", cpu_limit)):
            _number(value, name)
        for name, value in (
            ("mem_request_bytes", mem_request_bytes),
            ("mem_limit_bytes", mem_limit_bytes),
            ("gpu_count", gpu_count),
        ):
            _number(value, name, integer=True)
        group_list = sorted({str(g) for g in groups})
        at = as_utc(requested_at, "requested_at")
        sid = session_id if session_id is not None else new_session_id()
        return dict(
            id=sid, user=user, server_name=server_name, requested_at=at, last_seen_at=at,
            ready_at=None, ended_at=None, end_reason=None, end_inferred=False,
            profile_slug=profile_slug, options=dict(options or {}), image=image,
            build_repo=build_repo, build_ref=build_ref, cpu_request=cpu_request,
            cpu_limit=cpu_limit, mem_request_bytes=mem_request_bytes,
            mem_limit_bytes=mem_limit_bytes, gpu_count=gpu_count, gpu_type=gpu_type,
            groups=group_list, active_seconds=0.0, idle_seconds=0.0, spawner_class=spawner_class,
        )  # fmt: skip

    def mark_ready(
        self, session_id: int, at: datetime, details: dict[str, Any] | None = None
    ) -> bool:
        """The server answered: time accrues from `at` on. False if unknown, ended or ready.

        `details` updates what is only final once the server runs (a KubeSpawner applies its
        profile in start()): any of READY_DETAILS, checked as in `session_row`.
        """
        at = as_utc(at, "at")
        extra = self.ready_details(details or {})
        stmt = (
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id, SESSIONS.c.ended_at.is_(None))
            .where(SESSIONS.c.ready_at.is_(None))
            # never back: a replayed mark_ready may follow a heartbeat that already accrued
            .values(
                ready_at=at,
                last_seen_at=case(
                    (SESSIONS.c.last_seen_at < at, at), else_=SESSIONS.c.last_seen_at
                ),
                **extra,
            )
        )
        with self._lock, self.engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1

    def ready_details(self, details: dict[str, Any]) -> dict[str, Any]:
        """`details` checked for mark_ready: only READY_DETAILS keys, valid values."""
        unknown = sorted(set(details) - set(READY_DETAILS))
        _check(not unknown, "details", f"{unknown} cannot change; use {', '.join(READY_DETAILS)}")
        row = self.session_row(user="-", requested_at=datetime.now(UTC), **details)
        return {key: row[key] for key in details}

    def heartbeat(self, now: datetime, running: Iterable[tuple[int, datetime | None]]) -> int:
        """Accrue time since each running session's last heartbeat; returns how many accrued.

        `running` holds (session id, the server's last activity or None). Idle time is the time
        since the last activity, capped to the interval since the session was last seen. Ended,
        unknown and not yet ready sessions are skipped, so nothing is counted twice. One
        transaction per HEARTBEAT_CHUNK sessions (each session's update and roll-ups in one).
        """
        now = as_utc(now, "now")
        items = list(running)
        self.last_tally = TickTally()
        accrued = 0
        for i in range(0, len(items), HEARTBEAT_CHUNK):
            accrued += self._heartbeat_chunk(now, items[i : i + HEARTBEAT_CHUNK])
        return accrued

    def _heartbeat_chunk(self, now: datetime, running: list[tuple[int, datetime | None]]) -> int:
        """One transaction over a few hundred sessions.

        A tick holds the hub's event loop only while it holds the GIL, and the worst of that is
        a full garbage collection, which takes as long as the whole hub's heap (tens of ms and
        more) and which any code may set off once enough objects have survived into the old
        generation. So the tick keeps nothing the collector keeps tracking: rows, parts and keys
        are tuples of atoms (untracked at the collector's first look), sums are replaced rather
        than mutated, and chunks bound what is alive at once.
        """
        activity = {
            sid: (as_utc(la, "last_activity") if la is not None else None) for sid, la in running
        }
        if not activity:
            return 0
        with self._lock, self.engine.begin() as conn:
            accruals: list[Accrued] = []
            updates: list[tuple[int, float, float, float]] = []
            for row in bulk.open_rows(conn, list(activity)):
                sid, seen, ready = row[0], row[4], row[5]
                if ready is None or now <= seen:
                    continue  # time accrues from ready on; a pending spawn accrues nothing
                parts = accrue_days(seen, now, activity[sid], self.tz)
                costs = self._costs(row, parts)
                accruals.append((row, parts, costs))
                active = idle = 0.0
                for _, a, i in parts:
                    active += a
                    idle += i
                updates.append((sid, active, idle, sum(costs)))
            if not updates:
                return 0
            bulk.accrue_sessions(conn, now, updates)
            marked = self._roll_up(conn, accruals)
        self._remember(marked)
        if self.pricing is not None:
            tally = self.last_tally
            for (row, _, _), (_, active, idle, cost) in zip(accruals, updates, strict=True):
                tally.add(row[1], row[2], row[3], cost, active + idle)
        return len(updates)

    def close_session(
        self,
        session_id: int,
        at: datetime,
        reason: EndReason | str,
        inferred: bool = False,
        last_activity: datetime | None = None,
    ) -> bool:
        """End a session, accruing its last stretch; False if it is unknown or already ended.

        The end is never before the session was last seen (a heartbeat saw it up then). A
        session that never became ready (e.g. a failed spawn) accrues nothing.
        """
        try:
            reason = EndReason(reason)
        except ValueError:
            choices = ", ".join(r.value for r in EndReason)
            raise ValueError(f"reason: {reason!r} is not one of {choices}") from None
        at = as_utc(at, "at")
        la = as_utc(last_activity, "last_activity") if last_activity is not None else None
        with self._lock, self.engine.begin() as conn:
            rows = bulk.open_rows(conn, [session_id])
            if not rows:
                return False
            row = rows[0]
            seen, ready = row[4], row[5]
            end = max(at, seen)
            parts = accrue_days(seen, end, la, self.tz) if ready is not None else ()
            costs = self._costs(row, parts)
            conn.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == session_id)
                .values(
                    ended_at=end,
                    last_seen_at=end,
                    end_reason=reason,
                    end_inferred=inferred,
                    active_seconds=SESSIONS.c.active_seconds + sum(p[1] for p in parts),
                    idle_seconds=SESSIONS.c.idle_seconds + sum(p[2] for p in parts),
                    cost=SESSIONS.c.cost + sum(costs),
                )
            )
            marked = self._roll_up(conn, [(row, parts, costs)])
        self._remember(marked)
        return True

    def reconcile(self, now: datetime, running: Iterable[tuple[str, str]]) -> ReconcileResult:
        """At hub start: close sessions whose server is gone, at their last-seen time.

        `running` holds the (user, server_name) of servers the hub finds running. Their newest
        open session is adopted (its time accrues again from its last-seen time at the next
        heartbeat); any older open session of the same server is closed too. Sessions
        requested after `now` belong to spawns started since and are left alone.
        """
        now = as_utc(now, "now")
        keys = {(u, s) for u, s in running}
        result = ReconcileResult()
        query = (
            select(SESSIONS.c.id, SESSIONS.c.user, SESSIONS.c.server_name)
            .where(SESSIONS.c.ended_at.is_(None), SESSIONS.c.requested_at <= now)
            .order_by(SESSIONS.c.requested_at.desc(), SESSIONS.c.id.desc())
        )
        with self._lock, self.engine.begin() as conn:
            for sid, user, server in conn.execute(query):
                key = (user, server)
                if key in keys and key not in result.adopted:
                    result.adopted[key] = sid
                else:
                    result.closed.append(sid)
            if result.closed:
                # closed at last_seen_at: nothing accrues, so the roll-ups stay as they are
                conn.execute(
                    update(SESSIONS)
                    .where(SESSIONS.c.id == bindparam("b_id"))
                    .values(
                        ended_at=SESSIONS.c.last_seen_at,
                        end_reason=EndReason.reconciled,
                        end_inferred=True,
                    ),
                    [{"b_id": sid} for sid in result.closed],
                )
        result.unknown = sorted(keys - set(result.adopted))
        return result

    # --- roll-ups -----------------------------------------------------------------------------

    def _costs(self, row: tuple, parts: tuple[Part, ...]) -> tuple[float, ...]:
        """What each part cost under the pricing; () when nothing is priced."""
        if self.pricing is None or not parts:
            return ()
        return self.pricing.day_costs(bulk.OpenRow(row), parts)

    def _roll_up(self, conn: Connection, accruals: list[Accrued]) -> set:
        """Add accrued time (and cost) to the day roll-ups, per user and profile and per group,
        and mark active days; returns the markers written."""
        daily: dict[tuple[str, date, str], tuple[float, float, float]] = {}
        by_group: dict[tuple[str, date], tuple[float, float]] = {}
        markers: dict[tuple[date, str], tuple[str, ...]] = {}
        for row, parts, costs in accruals:
            user, profile, groups = row[1], row[2], row[3]
            for k, (day, active, idle) in enumerate(parts):
                cost = costs[k] if costs else 0.0
                key = (user, day, profile)
                seconds, idle_sum, cost_sum = daily.get(key, ZERO3)
                daily[key] = (seconds + active + idle, idle_sum + idle, cost_sum + cost)
                for group in groups:
                    gkey = (group, day)
                    seconds, cost_sum = by_group.get(gkey, (0.0, 0.0))
                    by_group[gkey] = (seconds + active + idle, cost_sum + cost)
                mkey = (day, user)
                if active > 0 and mkey not in self._marked:
                    markers[mkey] = markers.get(mkey, ()) + groups
        bulk.add_daily(conn, [(u, d, p, 0, s, i, c) for (u, d, p), (s, i, c) in daily.items()])
        bulk.add_group_daily(conn, [(g, d, s, c) for (g, d), (s, c) in by_group.items()])
        if markers:
            rows = [
                (g, day, user)
                for (day, user), groups in markers.items()
                for g in sorted({ALL_USERS, *groups})
            ]
            bulk.mark_active(conn, rows)
        return set(markers)

    def _remember(self, marked: set) -> None:
        # only after commit: a rolled-back marker must be written again
        if len(self._marked) + len(marked) > MARKER_CACHE_MAX:
            self._marked.clear()
        self._marked |= marked

    # --- reads (see reports.py) ---------------------------------------------------------------

    def sessions(self, **filters: Any) -> list[dict[str, Any]]:
        """Sessions, newest first; see reports.sessions for the filters."""
        return reports.sessions(self.engine, self.tz, **filters)

    def running_sessions(self) -> list[dict[str, Any]]:
        return reports.sessions(self.engine, self.tz, running=True, limit=None)

    def summary(self, user: str, month: str | date | None = None, now: datetime | None = None):
        return reports.summary(self.engine, self.tz, user, month, now)

    def all_users_summary(self, month: str | date | None = None, now: datetime | None = None):
        return reports.all_users_summary(self.engine, self.tz, month, now)

    def today(self) -> date:
        """Today in the ledger's time zone."""
        return local_day(datetime.now(UTC), self.tz)

    def active_users(
        self,
        day: date,
        window: str = "daily",
        group: str | None = None,
        today: date | None = None,
    ) -> int:
        """See reports.active_users; `today` (default: the real one) counts running servers."""
        today = today or self.today()
        return reports.active_users(self.engine, day, window, group, today, self.tz)

    def active_users_series(
        self,
        start: date,
        end: date,
        window: str = "daily",
        group: str | None = None,
        today: date | None = None,
    ) -> list[tuple[date, int]]:
        today = today or self.today()
        return reports.active_users_series(self.engine, start, end, window, group, today, self.tz)
