"""The heartbeat's arithmetic and its weight on the hub: day splits, what it leaves for the garbage
collector, the cost tally, and the hub-side loop over real JupyterHub spawners.

Its event-loop lag over 2,000 servers is measured in benchmarks/bench_usage.py, not here. Not
covered here: a running hub (test_usage_hub.py drives the heartbeat inside one).
"""

from __future__ import annotations

import asyncio
import gc
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from traitlets.config import Config

from hub_extensions.cost.config import HubExtensionsCost
from hub_extensions.cost.hub import CostHooks
from hub_extensions.cost.pricing import Pricing
from hub_extensions.usage import EndReason, FailOpenLedger, Ledger, bulk
from hub_extensions.usage.capture import Tracked, UsageCapture
from hub_extensions.usage.config import HubExtensionsUsage
from hub_extensions.usage.timeutil import accrue_days
from tests.infra.jupyterhub_objects import jupyterhub_spawners

pytestmark = pytest.mark.unit
UTC = timezone.utc
GIB = 2**30
PRICES = [{"effective": "2026-01-01", "cpu_hour": 0.10, "memory_gib_hour": 0.01}]


def minute_by_minute(start: datetime, end: datetime, last_activity, tz: ZoneInfo) -> dict:
    """The reference: every minute of [start, end) put in its local day, active or idle."""
    idle_from = start if last_activity is None else min(max(last_activity, start), end)
    days: dict = {}
    t = start
    while t < end:
        day = t.astimezone(tz).date()
        active, idle = days.get(day, (0.0, 0.0))
        days[day] = (active + 60, idle) if t < idle_from else (active, idle + 60)
        t += timedelta(minutes=1)
    return days


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata"]
)
def test_day_splits_match_a_minute_by_minute_count_across_midnights_and_dst(zone):
    tz = ZoneInfo(zone)
    rng = random.Random(zone)  # noqa: S311 (a seeded sample, not a secret)
    # around the 2026 DST changes of both hemispheres, and ordinary days
    anchors = [datetime(2026, m, d, tzinfo=UTC) for m, d in [(3, 29), (4, 5), (10, 4), (11, 1)]]
    anchors.append(datetime(2026, 7, 15, tzinfo=UTC))
    for _ in range(40):
        start = rng.choice(anchors) + timedelta(minutes=rng.randrange(-36 * 60, 36 * 60))
        end = start + timedelta(minutes=rng.choice([1, 5, 59, 60, 600, 1440, 2 * 1440 + 7]))
        last_activity = rng.choice(
            [None, start - timedelta(hours=1), end, start + (end - start) * rng.random()]
        )
        if last_activity is not None:
            last_activity = last_activity.replace(second=0, microsecond=0)
        parts = accrue_days(start, end, last_activity, tz)
        # whole minutes: the sums are exact in floating point
        got = {day: (active, idle) for day, active, idle in parts}
        assert got == minute_by_minute(start, end, last_activity, tz), (
            start,
            end,
            last_activity,
        )
        assert [day for day, _, _ in parts] == sorted(got)  # in order, each day once
    assert accrue_days(start, start, None, tz) == ()


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", timezone="Europe/Paris")
    led.start()
    led.pricing = Pricing.from_config(
        HubExtensionsCost(config=Config({"HubExtensionsCost": {"prices": PRICES}}))
    )
    yield led
    led.close()


def open_ready(ledger: Ledger, user: str, at: datetime, **fields) -> int:
    sid = ledger.open_session(user=user, requested_at=at, **fields)
    ledger.mark_ready(sid, at)
    return sid


def test_what_a_tick_holds_is_dropped_by_the_garbage_collector(ledger, monkeypatch):
    """A tick over thousands of servers must not fill the old generation (which brings on a full
    collection, holding the hub's loop for as long as its whole heap takes): every row, part and
    accrual it holds is a plain tuple of atoms, which the collector stops tracking."""
    start = datetime(2026, 11, 3, 22, 30, tzinfo=UTC)
    ids = [
        open_ready(
            ledger,
            f"u{i}",
            start,
            profile_slug="small",
            groups=["class", f"g{i % 3}"],
            cpu_request=1.0,
            mem_request_bytes=2 * GIB,
        )
        for i in range(300)
    ]
    held: list = []
    roll_up = ledger._roll_up
    monkeypatch.setattr(
        ledger, "_roll_up", lambda conn, acc: (held.extend(acc), roll_up(conn, acc))[1]
    )
    now = start + timedelta(hours=2)  # across midnight in Paris: two parts per session
    assert ledger.heartbeat(now, [(sid, start + timedelta(minutes=20)) for sid in ids]) == 300
    with ledger.engine.connect() as conn:
        rows = bulk.open_rows(conn, ids)
    assert len(held) == 300
    assert len(rows) == 300
    assert all(len(parts) == 2 for _, parts, _ in held)
    for _ in range(3):  # one look per level of nesting (accrual > row > groups)
        gc.collect()
    tracked = [x for x in [*held, *rows] if gc.is_tracked(x)]
    assert tracked == [], f"{len(tracked)} still tracked, e.g. {tracked[0]!r}"


def test_the_tick_tally_sums_what_it_priced_for_the_metrics(ledger):
    start = datetime(2026, 11, 3, 9, tzinfo=UTC)
    a = open_ready(ledger, "ann", start, profile_slug="small", groups=["class"], cpu_request=1.0)
    b = open_ready(ledger, "bob", start, profile_slug="small", groups=["class", "lab"],
                   cpu_request=2.0)  # fmt: skip
    c = open_ready(ledger, "cy", start, profile_slug="big", mem_request_bytes=10 * GIB)
    ledger.heartbeat(start + timedelta(hours=1), [(a, None), (b, None), (c, None)])
    tally = ledger.last_tally
    assert tally.user_costs == pytest.approx({"ann": 0.10, "bob": 0.20, "cy": 0.10})
    assert tally.costs == pytest.approx(
        {("small", ""): 0.30, ("small", "class"): 0.30, ("small", "lab"): 0.20, ("big", ""): 0.10}
    )
    assert tally.rates == pytest.approx({"small": 0.30, "big": 0.10})  # per hour
    # what the sessions say agrees
    costs = {s["user"]: s["cost"] for s in ledger.sessions()}
    assert costs == pytest.approx(tally.user_costs)
    ledger.heartbeat(start + timedelta(hours=2), [(a, None)])  # a new tick starts a new tally
    assert ledger.last_tally.user_costs == pytest.approx({"ann": 0.10})


async def test_the_hub_side_loop_yields_and_skips_servers_stopped_meanwhile(ledger, monkeypatch):
    """UsageCapture.heartbeat over real JupyterHub spawners (in-memory hub database), looking at
    LOOP_SLICE servers between yields: a server closed by its stop hook during a yield is not
    touched again, a server gone unseen is closed as found dead, the rest accrue."""
    monkeypatch.setattr("hub_extensions.usage.capture.LOOP_SLICE", 2)
    start = datetime(2026, 11, 3, 9, tzinfo=UTC)
    names = [f"u{i}" for i in range(6)]
    spawners = jupyterhub_spawners(names, "", start)
    registry = CollectorRegistry()
    capture = UsageCapture(HubExtensionsUsage(timezone="Europe/Paris"), registry=registry)
    capture.cost_hooks = CostHooks(HubExtensionsCost(prices=PRICES), "Europe/Paris", registry)
    capture.ledger = FailOpenLedger(ledger)
    capture.started = True
    capture._executor = ThreadPoolExecutor(1)  # as open_ledger makes it
    now = start + timedelta(hours=1)
    capture.clock = lambda: now
    ids = {}
    for name, spawner in zip(names, spawners, strict=True):
        ids[name] = open_ready(ledger, name, start, cpu_request=1.0)
        capture.sessions[(name, "")] = Tracked(ids[name], spawner, "", start, ready=True)
    spawners[1].orm_spawner.server = None  # died without the hub seeing its stop

    def stop_hook_of_u4() -> None:  # runs at the heartbeat's first yield
        t = capture.sessions.pop(("u4", ""))
        capture._close(t, start + timedelta(minutes=30), EndReason.user_stop, inferred=False)

    asyncio.get_running_loop().call_soon(stop_hook_of_u4)
    try:
        await capture.heartbeat()
    finally:
        capture._executor.shutdown()
    sessions = {s["user"]: s for s in ledger.sessions()}
    assert sessions["u1"]["end_reason"] == "found_dead"
    assert sessions["u4"]["end_reason"] == "user_stop"
    assert sessions["u4"]["active_seconds"] + sessions["u4"]["idle_seconds"] == 1800
    for name in ("u0", "u2", "u3", "u5"):
        assert sessions[name]["ended_at"] is None
        assert sessions[name]["active_seconds"] + sessions[name]["idle_seconds"] == 3600
    assert sorted(capture.sessions) == [("u0", ""), ("u2", ""), ("u3", ""), ("u5", "")]
    assert ledger.last_tally.user_costs == pytest.approx(
        {n: 0.10 for n in ("u0", "u2", "u3", "u5")}
    )
