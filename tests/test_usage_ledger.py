"""The activity ledger on SQLite; the same behaviours run on PostgreSQL in test_usage_postgres.py.

Each behaviour is a function of `make(timezone) -> started Ledger`, listed in BEHAVIOURS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from hub_extensions.store.db import alembic_config, migrate
from hub_extensions.store.migrations.env_constants import VERSION_TABLE
from hub_extensions.store.models import ActiveDay, Base, DailyUsage, UsageSession
from hub_extensions.usage import EndReason, FailOpenLedger, Ledger

pytestmark = pytest.mark.unit

UTC = timezone.utc
Make = Callable[..., Ledger]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily_rows(ledger: Ledger) -> dict[tuple[date, str, str], tuple[int, float, float]]:
    t = DailyUsage.__table__
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(t)).all()
    return {(r.day, r.user, r.profile_slug): (r.sessions, r.seconds, r.idle_seconds) for r in rows}


def active_rows(ledger: Ledger) -> set[tuple[str, date, str]]:
    t = ActiveDay.__table__
    with ledger.engine.connect() as conn:
        return {(r.group_name, r.day, r.user) for r in conn.execute(select(t))}


def one(ledger: Ledger, sid: int) -> dict:
    [row] = [s for s in ledger.sessions(limit=1000) if s["id"] == sid]
    return row


# --- behaviours shared by both backends ------------------------------------------------------


def lifecycle_records_times_resources_and_roll_ups(make: Make) -> None:
    ledger = make("UTC")
    sid = ledger.open_session(
        user="alice", server_name="gpu", requested_at=at(2026, 3, 10, 9, 0),
        profile_slug="gpu-large", options={"image": "pytorch"}, image="quay.io/x/torch:1",
        build_repo="https://github.com/org/repo", build_ref="abc123", cpu_request=2.0,
        cpu_limit=4.0, mem_request_bytes=8 * 2**30, mem_limit_bytes=16 * 2**30, gpu_count=1,
        gpu_type="nvidia-t4", groups=["physics", "admins", "physics"],
        spawner_class="KubeSpawner",
    )  # fmt: skip
    assert ledger.mark_ready(sid, at(2026, 3, 10, 9, 2)) is True
    assert ledger.mark_ready(sid, at(2026, 3, 10, 9, 3)) is False  # ready once
    # busy until 9:10, then idle: 8 min active + 2 min idle
    assert ledger.heartbeat(at(2026, 3, 10, 9, 12), [(sid, at(2026, 3, 10, 9, 10))]) == 1
    # the tick after: activity at 9:11 is before last_seen (9:12), so the whole minute is idle
    assert ledger.heartbeat(at(2026, 3, 10, 9, 13), [(sid, at(2026, 3, 10, 9, 11))]) == 1
    assert ledger.close_session(sid, at(2026, 3, 10, 9, 20), "user_stop", last_activity=None)
    assert ledger.close_session(sid, at(2026, 3, 10, 9, 30), "cull") is False  # once

    row = one(ledger, sid)
    assert row["requested_at"] == at(2026, 3, 10, 9, 0)
    assert row["ready_at"] == at(2026, 3, 10, 9, 2)
    assert row["ended_at"] == row["last_seen_at"] == at(2026, 3, 10, 9, 20)
    assert row["end_reason"] == "user_stop"
    assert row["end_inferred"] is False
    assert row["active_seconds"] == 8 * 60
    assert row["idle_seconds"] == 2 * 60 + 60 + 7 * 60
    assert row["seconds"] == 18 * 60
    assert row["groups"] == ["admins", "physics"]
    assert row["options"] == {"image": "pytorch"}
    assert (row["image"], row["build_repo"], row["build_ref"]) == (
        "quay.io/x/torch:1", "https://github.com/org/repo", "abc123")  # fmt: skip
    assert (row["cpu_request"], row["cpu_limit"], row["gpu_count"], row["gpu_type"]) == (
        2.0, 4.0, 1, "nvidia-t4")  # fmt: skip
    assert (row["mem_request_bytes"], row["mem_limit_bytes"]) == (8 * 2**30, 16 * 2**30)
    assert row["spawner_class"] == "KubeSpawner"
    assert daily_rows(ledger) == {(date(2026, 3, 10), "alice", "gpu-large"): (1, 1080.0, 600.0)}
    assert active_rows(ledger) == {
        (g, date(2026, 3, 10), "alice") for g in ("", "admins", "physics")
    }


def times_are_naive_utc_in_the_database_and_aware_utc_when_read(make: Make) -> None:
    ledger = make("UTC")
    auckland = timezone(timedelta(hours=13))
    sid = ledger.open_session(user="bob", requested_at=datetime(2026, 1, 2, 8, 30, tzinfo=auckland))
    ledger.mark_ready(sid, datetime(2026, 1, 1, 19, 31))  # naive: a hub time, i.e. UTC
    with ledger.engine.connect() as conn:
        raw = conn.execute(text("SELECT requested_at, ready_at FROM sessions")).one()
    # SQLite hands back the stored text, PostgreSQL a naive datetime: both UTC wall time
    assert str(raw[0]).startswith("2026-01-01 19:30:00")
    assert str(raw[1]).startswith("2026-01-01 19:31:00")
    if isinstance(raw[0], datetime):
        assert raw[0].tzinfo is None
    row = one(ledger, sid)
    assert row["requested_at"] == at(2026, 1, 1, 19, 30)
    assert row["requested_at"].tzinfo is UTC
    assert row["ready_at"] == at(2026, 1, 1, 19, 31)


def heartbeats_split_across_midnight_and_month_end_in_the_ledger_timezone(make: Make) -> None:
    # Auckland is UTC+13 in summer: Dec 1 00:00 local is Nov 30 11:00 UTC.
    ledger = make("Pacific/Auckland")
    sid = ledger.open_session(user="carol", requested_at=at(2026, 11, 30, 10, 20),
                              profile_slug="small", groups=["g"])  # fmt: skip
    ledger.mark_ready(sid, at(2026, 11, 30, 10, 30))  # 23:30 local, Nov 30
    # active until 11:20 UTC (00:20 local Dec 1), idle until the tick at 11:30
    ledger.heartbeat(at(2026, 11, 30, 11, 30), [(sid, at(2026, 11, 30, 11, 20))])
    assert daily_rows(ledger) == {
        (date(2026, 11, 30), "carol", "small"): (1, 1800.0, 0.0),
        (date(2026, 12, 1), "carol", "small"): (0, 1800.0, 600.0),
    }
    assert ledger.summary("carol", "2026-11", now=at(2026, 12, 5))["seconds"] == 1800.0
    december = ledger.summary("carol", "2026-12", now=at(2026, 12, 5))
    assert (december["sessions"], december["seconds"], december["idle_seconds"]) == (0, 1800, 600)
    assert december["profiles"] == {
        "small": {"sessions": 0, "seconds": 1800.0, "idle_seconds": 600.0, "cost": 0.0}
    }
    assert {d for g, d, u in active_rows(ledger) if g == ""} == {
        date(2026, 11, 30),
        date(2026, 12, 1),
    }

    # Los Angeles leaves DST on Nov 1 2026: that local day lasts 25 hours
    la = make("America/Los_Angeles")
    sid = la.open_session(user="dan", requested_at=at(2026, 10, 31, 12, 0))
    la.mark_ready(sid, at(2026, 10, 31, 12, 0))  # 05:00 PDT Oct 31
    la.heartbeat(at(2026, 11, 2, 12, 0), [(sid, at(2026, 11, 2, 12, 0))])  # 04:00 PST Nov 2
    assert daily_rows(la) == {
        (date(2026, 10, 31), "dan", ""): (1, 19 * 3600.0, 0.0),
        (date(2026, 11, 1), "dan", ""): (0, 25 * 3600.0, 0.0),
        (date(2026, 11, 2), "dan", ""): (0, 4 * 3600.0, 0.0),
    }
    assert la.summary("dan", "2026-11", now=at(2026, 11, 2, 12, 0))["seconds"] == 29 * 3600
    assert la.summary("dan", "2026-10", now=at(2026, 11, 2, 12, 0))["sessions"] == 1


def a_day_spent_idle_does_not_make_a_user_active(make: Make) -> None:
    ledger = make("UTC")
    sid = ledger.open_session(user="erin", requested_at=at(2026, 5, 1, 22, 0))
    ledger.mark_ready(sid, at(2026, 5, 1, 22, 0))
    # last activity 23:00 on May 1; up all of May 2 without touching it
    ledger.heartbeat(at(2026, 5, 3, 0, 0), [(sid, at(2026, 5, 1, 23, 0))])
    assert active_rows(ledger) == {("", date(2026, 5, 1), "erin")}
    assert daily_rows(ledger)[(date(2026, 5, 2), "erin", "")] == (0, 86400.0, 86400.0)
    assert ledger.active_users(date(2026, 5, 2), "daily") == 0
    assert ledger.active_users(date(2026, 5, 2), "weekly") == 1
    # no activity reported at all: idle too
    sid2 = ledger.open_session(user="fay", requested_at=at(2026, 5, 3, 0, 0))
    ledger.mark_ready(sid2, at(2026, 5, 3, 0, 0))
    ledger.heartbeat(at(2026, 5, 3, 1, 0), [(sid2, None)])
    assert one(ledger, sid2)["idle_seconds"] == 3600.0
    assert ledger.active_users(date(2026, 5, 3), "daily") == 0


def reconcile_closes_at_last_seen_and_adopts_running_servers(make: Make) -> None:
    ledger = make("UTC")
    t0 = at(2026, 6, 1, 8, 0)
    gone = ledger.open_session(user="gus", requested_at=t0)
    old_dup = ledger.open_session(user="hal", requested_at=t0)
    alive = ledger.open_session(user="hal", requested_at=t0 + timedelta(minutes=1))
    for sid in (gone, old_dup, alive):
        ledger.mark_ready(sid, t0 + timedelta(minutes=2))
    busy = t0 + timedelta(minutes=30)
    ledger.heartbeat(t0 + timedelta(minutes=30), [(s, busy) for s in (gone, old_dup, alive)])
    before = daily_rows(ledger)

    # the hub was down for hours; at start it finds only hal's default server and ivy's
    now = t0 + timedelta(hours=5)
    result = ledger.reconcile(now, [("hal", ""), ("ivy", "")])
    assert sorted(result.closed) == sorted([gone, old_dup])
    assert result.adopted == {("hal", ""): alive}
    assert result.unknown == [("ivy", "")]
    for sid in (gone, old_dup):
        row = one(ledger, sid)
        assert row["ended_at"] == t0 + timedelta(minutes=30)  # last seen, not now
        assert (row["end_reason"], row["end_inferred"]) == ("reconciled", True)
        assert row["seconds"] == 28 * 60
    assert daily_rows(ledger) == before  # closing at last_seen adds nothing

    # a stale heartbeat naming the closed sessions accrues only the adopted one
    assert ledger.heartbeat(now, [(gone, now), (old_dup, now), (alive, now)]) == 1
    assert one(ledger, alive)["seconds"] == 28 * 60 + 4.5 * 3600
    assert one(ledger, gone)["seconds"] == 28 * 60
    assert ledger.reconcile(now, [("hal", "")]).closed == []  # twice: nothing more
    sessions = ledger.sessions(limit=1000)
    total = sum(s["seconds"] for s in sessions)
    assert sum(v[1] for v in daily_rows(ledger).values()) == pytest.approx(total)
    assert sum(v[0] for v in daily_rows(ledger).values()) == len(sessions) == 3


def active_users_per_window_and_group(make: Make) -> None:
    ledger = make("UTC")
    plan = {  # user: (groups, days of May with activity)
        "u1": (["g1"], [1, 2, 3]),
        "u2": (["g1", "g2"], [3]),
        "u3": (["g2"], [10]),
        "u4": ([], [28]),
    }
    for user, (groups, days) in plan.items():
        for d in days:
            sid = ledger.open_session(user=user, requested_at=at(2026, 5, d, 9), groups=groups)
            ledger.mark_ready(sid, at(2026, 5, d, 9))
            ledger.heartbeat(at(2026, 5, d, 10), [(sid, at(2026, 5, d, 10))])
            ledger.close_session(sid, at(2026, 5, d, 10), EndReason.cull)
    day = date(2026, 5, 3)
    assert ledger.active_users(day, "daily") == 2
    assert ledger.active_users(date(2026, 5, 2), "daily") == 1
    assert ledger.active_users(day, "daily", group="g2") == 1
    assert ledger.active_users(date(2026, 5, 9), "weekly") == 2  # May 3..9: u1, u2
    assert ledger.active_users(date(2026, 5, 10), "weekly") == 1  # May 4..10: u3
    assert ledger.active_users(date(2026, 5, 28), "monthly") == 4
    assert ledger.active_users(date(2026, 5, 31), "monthly") == 4  # May 2..31
    assert ledger.active_users(date(2026, 6, 2), "monthly") == 2  # May 4..Jun 2: u3, u4
    assert ledger.active_users(date(2026, 6, 2), "monthly", group="g2") == 1
    assert ledger.active_users(date(2026, 5, 31), "monthly", group="g1") == 2
    assert ledger.active_users(date(2026, 5, 31), "monthly", group="g2") == 2
    assert ledger.active_users(date(2026, 5, 31), "monthly", group="nobody") == 0
    series = ledger.active_users_series(date(2026, 5, 1), date(2026, 5, 11), "weekly")
    assert series == [
        (date(2026, 5, d), n)
        for d, n in zip(range(1, 12), [1, 1, 2, 2, 2, 2, 2, 2, 2, 1, 1], strict=True)
    ]
    assert ledger.active_users_series(date(2026, 5, 1), date(2026, 5, 4), "daily", "g2") == [
        (date(2026, 5, 1), 0), (date(2026, 5, 2), 0), (date(2026, 5, 3), 1), (date(2026, 5, 4), 0)
    ]  # fmt: skip
    for d in (1, 9, 10, 20, 28, 31):
        for window in ("daily", "weekly", "monthly"):
            expected = ledger.active_users(date(2026, 5, d), window)
            [(_, got)] = ledger.active_users_series(date(2026, 5, d), date(2026, 5, d), window)
            assert got == expected


def session_filters_and_summaries(make: Make) -> None:
    ledger = make("UTC")
    ids = {}
    for i, (user, profile, reason) in enumerate(
        [
            ("ann", "small", "user_stop"),
            ("ann", "large", "cull"),
            ("ben", "small", "spawn_failed"),
            ("ben", "small", None),
        ]
    ):
        start = at(2026, 7, 1 + i, 12)
        sid = ledger.open_session(user=user, requested_at=start, profile_slug=profile)
        ids[(user, profile, reason)] = sid
        if reason != "spawn_failed":
            ledger.mark_ready(sid, start)
            ledger.heartbeat(start + timedelta(hours=1), [(sid, start + timedelta(hours=1))])
        if reason:
            ledger.close_session(sid, start + timedelta(hours=1), reason)

    def names(**kw):
        return [(s["user"], s["profile_slug"], s["end_reason"]) for s in ledger.sessions(**kw)]

    assert names() == [("ben", "small", None), ("ben", "small", "spawn_failed"),
                       ("ann", "large", "cull"), ("ann", "small", "user_stop")]  # fmt: skip
    assert names(user="ann") == [("ann", "large", "cull"), ("ann", "small", "user_stop")]
    assert names(profile="large") == [("ann", "large", "cull")]
    assert names(reason="spawn_failed") == [("ben", "small", "spawn_failed")]
    assert names(running=True) == [("ben", "small", None)]
    # overlapping [Jul 2 13:00, Jul 3 12:30): ann's large (ended 13:00) and ben's failed spawn
    assert names(start=at(2026, 7, 2, 13), end=at(2026, 7, 3, 12, 30)) == [
        ("ben", "small", "spawn_failed"), ("ann", "large", "cull")]  # fmt: skip
    assert names(limit=2, offset=1) == [("ben", "small", "spawn_failed"), ("ann", "large", "cull")]
    with pytest.raises(ValueError, match="reason: 'bored' is not one of user_stop"):
        ledger.sessions(reason="bored")
    with pytest.raises(ValueError, match="limit: 0 must be"):
        ledger.sessions(limit=0)
    with pytest.raises(ValueError, match="user: must be a non-empty string"):
        ledger.open_session(user="", requested_at=at(2026, 7, 1))
    with pytest.raises(ValueError, match="gpu_count: -1 must be a whole number >= 0"):
        ledger.open_session(user="x", requested_at=at(2026, 7, 1), gpu_count=-1)
    with pytest.raises(ValueError, match="month: '2026-13' is not a month"):
        ledger.summary("ann", "2026-13")

    ann = ledger.summary("ann", "2026-07", now=at(2026, 7, 3))
    assert (ann["sessions"], ann["seconds"], ann["idle_seconds"]) == (2, 7200.0, 0.0)
    assert ann["profiles"] == {
        "large": {"sessions": 1, "seconds": 3600.0, "idle_seconds": 0.0, "cost": 0.0},
        "small": {"sessions": 1, "seconds": 3600.0, "idle_seconds": 0.0, "cost": 0.0},
    }
    # month to date: on Jul 3, ben's Jul 4 session does not count
    assert ledger.summary("ben", "2026-07", now=at(2026, 7, 3, 23))["sessions"] == 1
    everyone = ledger.all_users_summary("2026-07", now=at(2026, 8, 1))
    assert [(u["user"], u["sessions"], u["seconds"]) for u in everyone["users"]] == [
        ("ann", 2, 7200.0), ("ben", 2, 3600.0)]  # fmt: skip
    assert everyone["profiles"] == {
        "large": {"sessions": 1, "seconds": 3600.0, "idle_seconds": 0.0, "cost": 0.0, "users": 1},
        "small": {"sessions": 3, "seconds": 7200.0, "idle_seconds": 0.0, "cost": 0.0, "users": 2},
    }
    assert ledger.all_users_summary("2026-06", now=at(2026, 8, 1))["users"] == []


def migrations_match_the_models_and_run_twice(make: Make) -> None:
    ledger = make("UTC")
    sid = ledger.open_session(user="kim", requested_at=at(2026, 1, 1))
    migrate(ledger.engine)  # again: a no-op that keeps the data
    ledger.start()
    with ledger.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        version = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608
        head = ScriptDirectory.from_config(alembic_config(conn)).get_current_head()
        assert head.startswith("000")
        assert conn.execute(version).all() == [(head,)]
        assert conn.execute(select(func.count()).select_from(UsageSession)).scalar() == 1
    names = {ix["name"] for ix in inspect(ledger.engine).get_indexes("sessions")}
    assert {"ix_sessions_user_requested_at", "ix_sessions_running"} <= names
    assert one(ledger, sid)["user"] == "kim"


BEHAVIOURS = [
    lifecycle_records_times_resources_and_roll_ups,
    times_are_naive_utc_in_the_database_and_aware_utc_when_read,
    heartbeats_split_across_midnight_and_month_end_in_the_ledger_timezone,
    a_day_spent_idle_does_not_make_a_user_active,
    reconcile_closes_at_last_seen_and_adopts_running_servers,
    active_users_per_window_and_group,
    session_filters_and_summaries,
    migrations_match_the_models_and_run_twice,
]


def replay_after_an_outage(ledger: FailOpenLedger, outage: Callable[[], None],
                           recover: Callable[[], None]) -> None:  # fmt: skip
    """Writes during an outage are queued and counted, then replayed in order."""
    t0 = at(2026, 9, 1, 9)
    sid = ledger.open_session(user="lee", requested_at=t0, profile_slug="small")
    ledger.mark_ready(sid, t0)
    outage()
    down = ledger.open_session(user="mia", requested_at=t0 + timedelta(minutes=1))
    assert isinstance(down, int)
    assert ledger.mark_ready(down, t0 + timedelta(minutes=1)) is None
    ledger.heartbeat(t0 + timedelta(minutes=10), [(sid, t0 + timedelta(minutes=10)),
                                                  (down, t0 + timedelta(minutes=5))])  # fmt: skip
    ledger.close_session(sid, t0 + timedelta(minutes=15), "user_stop", last_activity=None)
    assert ledger.write_failures == 4
    assert [name for name, _ in ledger.queue] == [
        "open_session", "mark_ready", "heartbeat", "close_session"]  # fmt: skip
    assert not ledger.available
    recover()
    assert ledger.flush() is True
    assert ledger.available
    assert ledger.dropped_writes == 0
    ledger.heartbeat(t0 + timedelta(minutes=20), [(down, t0 + timedelta(minutes=20))])
    lee, mia = one(ledger.ledger, sid), one(ledger.ledger, down)
    assert (lee["active_seconds"], lee["idle_seconds"], lee["end_reason"]) == (
        600,
        300,
        "user_stop",
    )
    assert (mia["active_seconds"], mia["idle_seconds"]) == (240 + 600, 300)
    assert mia["ended_at"] is None
    assert mia["last_seen_at"] == t0 + timedelta(minutes=20)
    assert daily_rows(ledger.ledger) == {
        (date(2026, 9, 1), "lee", "small"): (1, 900.0, 300.0),
        (date(2026, 9, 1), "mia", ""): (1, 1140.0, 300.0),
    }
    assert ledger.write_failures == 4


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture
def make_sqlite(tmp_path) -> Make:
    made: list[Ledger] = []

    def make(tz: str = "UTC") -> Ledger:
        ledger = Ledger(f"sqlite:///{tmp_path / f'ledger-{len(made)}.sqlite'}", timezone=tz)
        ledger.start()
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda f: f.__name__)
def test_ledger_on_sqlite(behaviour, make_sqlite):
    behaviour(make_sqlite)


def test_writes_to_an_unreachable_sqlite_path_queue_and_replay(tmp_path):
    where = tmp_path / "not-yet"
    ledger = FailOpenLedger(Ledger(f"sqlite:///{where / 'ledger.sqlite'}"), retry_interval=0)
    assert ledger.start() is False
    sid = ledger.open_session(user="nia", requested_at=at(2026, 2, 1, 8))
    ledger.mark_ready(sid, at(2026, 2, 1, 8, 1))
    ledger.heartbeat(at(2026, 2, 1, 9, 1), [(sid, at(2026, 2, 1, 9, 1))])
    assert ledger.write_failures == 3
    assert len(ledger.queue) == 3
    where.mkdir()
    # replays the queue first (migrating the new file), then writes
    ledger.heartbeat(at(2026, 2, 1, 9, 31), [(sid, at(2026, 2, 1, 9, 1))])
    assert ledger.available
    assert ledger.write_failures == 3
    # a replayed mark_ready never moves last_seen back: nothing is counted twice
    assert ledger.ledger.mark_ready(sid, at(2026, 2, 1, 8, 1)) is False
    row = one(ledger.ledger, sid)
    assert (row["active_seconds"], row["idle_seconds"]) == (3600.0, 1800.0)
    assert ledger.summary("nia", "2026-02", now=at(2026, 2, 2))["seconds"] == 5400.0


def test_fail_open_replays_writes_made_while_the_sqlite_file_was_gone(tmp_path):
    home = tmp_path / "ledger"
    home.mkdir()
    moved = tmp_path / "moved"
    ledger = FailOpenLedger(Ledger(f"sqlite:///{home / 'ledger.sqlite'}"), retry_interval=0)
    assert ledger.start() is True

    def outage():
        ledger.ledger.engine.dispose()
        home.rename(moved)

    replay_after_an_outage(ledger, outage, lambda: moved.rename(home))


def test_the_queue_is_bounded_and_counts_what_it_drops(tmp_path):
    ledger = FailOpenLedger(Ledger(f"sqlite:///{tmp_path / 'no' / 'l.sqlite'}"), max_queued=3)
    for i in range(5):
        ledger.open_session(user=f"u{i}", requested_at=at(2026, 1, 1))
    assert (ledger.write_failures, ledger.dropped_writes, len(ledger.queue)) == (5, 2, 3)
    assert [kw["user"] for _, kw in ledger.queue] == ["u2", "u3", "u4"]
    with pytest.raises(ValueError, match="cpu_limit: -1 must be a number >= 0"):
        ledger.open_session(user="v", requested_at=at(2026, 1, 1), cpu_limit=-1)
