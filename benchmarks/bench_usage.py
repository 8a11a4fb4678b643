"""Activity ledger on a synthetic year: summaries, a heartbeat tick, size (see README.md).

The synthetic ledger (10,000 users over one year, about 2.5 million sessions, with its daily
roll-ups and active-day markers) is generated once into a SQLite file under benchmarks/.cache;
PostgreSQL is loaded from that file with COPY at every run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import json
import math
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from hub_extensions.cost.config import HubExtensionsCost  # noqa: E402
from hub_extensions.cost.pricing import Pricing  # noqa: E402
from hub_extensions.store.models import ActiveDay, DailyUsage, UsageSession  # noqa: E402
from hub_extensions.usage import Ledger  # noqa: E402
from hub_extensions.usage.timeutil import UTC, accrue_days, local_day  # noqa: E402
from tests.infra.jupyterhub_objects import jupyterhub_spawners  # noqa: E402
from tests.infra.postgres import PostgresServer  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
TZ = "Europe/Paris"
YEAR_START = date(2025, 11, 1)  # local days YEAR_START .. +days-1
SESSIONS_PER_USER_DAY = 2.5e6 / (10_000 * 365)
PROFILES = [("small", 0.45, 0.5, 1, 2), ("medium", 0.25, 1, 2, 4), ("large", 0.15, 2, 4, 16),
            ("gpu", 0.05, 4, 8, 32), ("build", 0.10, 0.5, 1, 2)]  # fmt: skip
REASONS = [("user_stop", 0.50, False), ("cull", 0.40, False), ("found_dead", 0.03, True),
           ("spawn_failed", 0.04, False), ("hub_down", 0.02, True),
           ("reconciled", 0.01, True)]  # fmt: skip
GROUPS = [f"group-{i:02d}" for i in range(20)]
COLUMNS = [c.name for c in UsageSession.__table__.columns]
MONTH_TO_DATE = ("2026-10", datetime(2026, 10, 20, 10, tzinfo=UTC))  # month, "now"
FULL_MONTH = "2026-09"


def ms_stats(samples: list[float]) -> dict:  # nearest rank, in ms
    s = sorted(samples)

    def pct(p: float) -> float:
        return round(s[max(0, math.ceil(p / 100 * len(s)) - 1)] * 1000, 2)

    return {"p50_ms": pct(50), "p99_ms": pct(99), "max_ms": round(s[-1] * 1000, 2), "n": len(s)}


def sqlite_time(t: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DateTime format, naive UTC (see models.UTCDateTime)
    return None if t is None else t.strftime("%Y-%m-%d %H:%M:%S.%f")


# --- generation ------------------------------------------------------------------------------


def user_sessions(rng: random.Random, user: str, groups: list[str], days: int, tz: ZoneInfo,
                  next_id: int) -> tuple[list[tuple], dict, set]:  # fmt: skip
    """One user's sessions over the year (rows for sqlite3), their roll-ups and markers."""
    rate = rng.uniform(0.1, 2 * SESSIONS_PER_USER_DAY - 0.1)
    n = max(0, round(rng.gauss(rate * days, math.sqrt(rate * days))))
    first = datetime.combine(YEAR_START, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    profile_weights = [p[1] for p in PROFILES]
    reason_weights = [r[1] for r in REASONS]
    rows, daily, marks = [], {}, set()
    groups_json = json.dumps(groups)
    for _ in range(n):
        day = rng.randrange(days)
        start = first + timedelta(days=day, seconds=rng.uniform(7 * 3600, 21 * 3600))
        slug, _, cpu_req, cpu_lim, mem_gb = rng.choices(PROFILES, profile_weights)[0]
        reason, _, inferred = rng.choices(REASONS, reason_weights)[0]
        if reason == "spawn_failed":
            ready = None
            end = start + timedelta(seconds=rng.uniform(5, 300))
            parts = ()
        else:
            ready = start + timedelta(seconds=rng.uniform(5, 90))
            duration = min(rng.expovariate(1 / 5400), 12 * 3600)
            end = ready + timedelta(seconds=duration)
            last_activity = ready + timedelta(seconds=duration * rng.uniform(0.2, 1.0))
            parts = accrue_days(ready, end, last_activity, tz)
        key = (local_day(start, tz), slug)
        daily.setdefault(key, [0, 0.0, 0.0])[0] += 1
        for d, active, idle in parts:
            sums = daily.setdefault((d, slug), [0, 0.0, 0.0])
            sums[1] += active + idle
            sums[2] += idle
            if active > 0:
                marks.add(d)
        rows.append((
            next_id, user, "", sqlite_time(start), sqlite_time(ready), sqlite_time(end),
            sqlite_time(end), reason, inferred, slug, '{"image": "python-3.12"}',
            f"registry.example.org/{slug}:2026", None, None, cpu_req, cpu_lim,
            int(mem_gb * 2**29), int(mem_gb * 2**30), 1 if slug == "gpu" else 0,
            "nvidia-t4" if slug == "gpu" else None, groups_json,
            sum(p[1] for p in parts), sum(p[2] for p in parts), "KubeSpawner",
        ))  # fmt: skip
        next_id += 1
    return rows, daily, marks


def generate_sqlite(path: Path, users: int, days: int, seed: int = 6) -> dict:
    """Write the synthetic ledger into a migrated SQLite file; returns counts and seconds."""
    t0 = time.perf_counter()
    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    ledger = Ledger(f"sqlite:///{tmp}", timezone=TZ)
    ledger.start()
    ledger.close()
    tz = ZoneInfo(TZ)
    rng = random.Random(seed)
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    quoted = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" * len(COLUMNS))
    insert = f"INSERT INTO sessions ({quoted}) VALUES ({marks})"  # noqa: S608 (our own names)
    next_id, counts = 1, {"sessions": 0, "daily_usage": 0, "active_days": 0}
    batch: list[tuple] = []
    daily_rows: list[tuple] = []
    marker_rows: list[tuple] = []

    def flush() -> None:
        conn.executemany(insert, batch)
        conn.executemany(
            'INSERT INTO daily_usage ("user", day, profile_slug, sessions, seconds, idle_seconds)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            daily_rows,
        )
        conn.executemany("INSERT INTO active_days VALUES (?, ?, ?)", marker_rows)
        conn.commit()
        batch.clear(), daily_rows.clear(), marker_rows.clear()

    for u in range(users):
        user = f"user{u:05d}"
        groups = sorted(rng.sample(GROUPS, rng.choice([0, 1, 1, 2])))
        rows, daily, marks = user_sessions(rng, user, groups, days, tz, next_id)
        next_id += len(rows)
        batch.extend(rows)
        daily_rows.extend((user, d.isoformat(), slug, *v) for (d, slug), v in daily.items())
        marker_rows.extend((g, d.isoformat(), user) for d in marks for g in ["", *groups])
        counts["sessions"] += len(rows)
        counts["daily_usage"] += len(daily)
        counts["active_days"] += len(marks) * (1 + len(groups))
        if len(batch) > 200_000:
            flush()
    flush()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("ANALYZE")
    conn.close()
    tmp.rename(path)
    return {**counts, "seconds": round(time.perf_counter() - t0, 1)}


def ensure_cache(users: int, days: int) -> tuple[Path, dict]:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"usage-{users}u-{days}d-v1.sqlite"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, {**json.loads(meta_path.read_text()), "cached": True}
    meta = generate_sqlite(path, users, days)
    meta_path.write_text(json.dumps(meta))
    return path, {**meta, "cached": False}


def load_postgres(server: PostgresServer, source: Path) -> tuple[Ledger, float]:
    """A migrated PostgreSQL ledger filled from the SQLite cache with COPY."""
    t0 = time.perf_counter()
    ledger = Ledger(server.create_database("ledger"), timezone=TZ)
    ledger.start()
    tables = [UsageSession.__table__, DailyUsage.__table__, ActiveDay.__table__]
    with ledger.engine.begin() as conn:
        for table in tables:
            for index in table.indexes:
                index.drop(conn)
    src = sqlite3.connect(source)
    raw = ledger.engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for table in tables:
                # a cache written before a migration lacks its columns: their defaults apply
                present = {r[1] for r in src.execute(f"PRAGMA table_info({table.name})")}
                cols = [c.name for c in table.columns if c.name in present]
                quoted = ", ".join(f'"{c}"' for c in cols)
                bools = {i for i, c in enumerate(cols) if c == "end_inferred"}
                rows = src.execute(f"SELECT {quoted} FROM {table.name}")  # noqa: S608
                while chunk := rows.fetchmany(100_000):
                    buf = io.StringIO()
                    writer = csv.writer(buf)
                    for row in chunk:
                        writer.writerow(
                            r"\N" if v is None else ("t" if v else "f") if i in bools else v
                            for i, v in enumerate(row)
                        )
                    buf.seek(0)
                    copy = f"COPY {table.name} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                    cur.copy_expert(copy, buf)
        raw.commit()
    finally:
        raw.close()
        src.close()
    with ledger.engine.begin() as conn:
        for table in tables:
            for index in table.indexes:
                index.create(conn)
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return ledger, round(time.perf_counter() - t0, 1)


# --- measurements ----------------------------------------------------------------------------


def measure_reads(ledger: Ledger, users: int, n: int) -> dict:
    rng = random.Random(1)
    month, now = MONTH_TO_DATE
    names = [f"user{rng.randrange(users):05d}" for _ in range(n + 20)]
    samples = []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        result = ledger.summary(name, month, now=now)
        if i >= 20:
            samples.append(time.perf_counter() - t0)
    assert result["user"] == name
    runs = []
    for _ in range(6):
        t0 = time.perf_counter()
        everyone = ledger.all_users_summary(FULL_MONTH, now=now)
        runs.append(time.perf_counter() - t0)
    runs = runs[1:]  # the first warms the cache
    return {
        "user_summary": ms_stats(samples),
        "all_users_summary_s": {
            "median": round(statistics.median(runs), 3),
            "max": round(max(runs), 3),
            "n": len(runs),
        },
        "all_users_in_month": len(everyone["users"]),
        "sample_user_summary": {k: result[k] for k in ("sessions", "seconds", "idle_seconds")},
    }


async def loop_lag_during(fn) -> tuple[float, float]:
    """(wall seconds of fn in a thread executor, worst event-loop lag meanwhile)."""
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    worst = await worst_lag_until_done(loop.run_in_executor(None, fn))
    return time.perf_counter() - t0, worst


async def worst_lag_until_done(fut: asyncio.Future) -> float:
    """The worst extra delay of a 1 ms sleep on this event loop until `fut` is done."""
    worst = 0.0
    while not fut.done():
        t = time.perf_counter()
        await asyncio.sleep(0.001)
        worst = max(worst, time.perf_counter() - t - 0.001)
    await fut
    return worst


PRICES = [{"effective": "2025-01-01", "cpu_hour": 0.031, "memory_gib_hour": 0.004}]


class GcWatch:
    """Garbage collections while installed: how many per generation, and the full ones' time."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.full_ms: list[float] = []
        self._t = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
            return
        self.counts[info["generation"]] += 1
        if info["generation"] == 2:
            self.full_ms.append((time.perf_counter() - self._t) * 1000)

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def measure_heartbeat(ledger: Ledger, running: int, ticks: int, priced: bool) -> dict:
    """Ticks over `running` open sessions of distinct users, on a copy of the ledger.

    The worst event-loop lag includes whatever garbage collections the ticks set off; the
    same ticks are then run with the collector paused, which leaves the tick's own hold. A
    full collection costs as much as the process's heap, whoever sets it off, so it is timed
    on its own too; a tick that leaves nothing for the old generation does not set one off.
    """
    table = UsageSession.__table__
    _, now = MONTH_TO_DATE
    start = now - timedelta(minutes=1)
    rows = [
        ledger.session_row(
            user=f"user{i:05d}",
            server_name="bench",
            requested_at=start,
            profile_slug=PROFILES[i % len(PROFILES)][0],
            groups=[GROUPS[i % 20]],
            cpu_request=PROFILES[i % len(PROFILES)][2],
            mem_request_bytes=int(PROFILES[i % len(PROFILES)][4] * 2**29),
        )
        for i in range(running)
    ]
    for row in rows:
        row["ready_at"] = start
    with ledger.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.server_name == "bench"))
        conn.execute(table.insert(), rows)
    ids = [row["id"] for row in rows]
    fresh = Ledger(ledger.engine, timezone=TZ)  # empty active-day cache: the worst case
    fresh.started = True
    if priced:
        fresh.pricing = Pricing.from_config(HubExtensionsCost(prices=PRICES))
    walls, lags, paused = [], [], []
    gc.collect()
    old_before = len(gc.get_objects(generation=2))
    watch = GcWatch()
    for k in range(2 * ticks):
        if k == ticks:
            old_after = len(gc.get_objects(generation=2))
            gc.disable()  # the same ticks with the garbage collector paused: the tick's own share

        t = now + timedelta(minutes=k)
        # a third of the servers were used during the tick, the rest are idle
        beats = [(sid, t - timedelta(seconds=30) if i % 3 == 0 else start)
                 for i, sid in enumerate(ids)]  # fmt: skip
        with watch:
            wall, lag = asyncio.run(loop_lag_during(lambda: fresh.heartbeat(t, beats)))  # noqa: B023
        if k < ticks:
            walls.append(wall)
            lags.append(lag)
        else:
            paused.append(lag)
    gc.enable()
    t0 = time.perf_counter()
    gc.collect()
    full_gc_ms = (time.perf_counter() - t0) * 1000
    heap = len(gc.get_objects())
    now = now + timedelta(minutes=2 * ticks)
    midnight = datetime.combine(local_day(now, ZoneInfo(TZ)) + timedelta(days=1),
                                datetime.min.time(), tzinfo=ZoneInfo(TZ))  # fmt: skip
    before = midnight.astimezone(UTC) - timedelta(seconds=30)
    fresh.heartbeat(before, [(sid, before) for sid in ids])
    after = before + timedelta(minutes=1)
    t0 = time.perf_counter()
    accrued = fresh.heartbeat(after, [(sid, after) for sid in ids])
    across = time.perf_counter() - t0
    assert accrued == running
    if priced:
        assert sum(fresh.last_tally.user_costs.values()) > 0, "the priced ticks accrued no cost"
    return {
        "priced": priced,
        "first_tick_ms": round(walls[0] * 1000, 1),
        "steady_ticks_ms": ms_stats(walls[1:]),
        "loop_lag_worst_ms": round(max(lags) * 1000, 2),
        "loop_lag_p50_ms": round(sorted(lags)[len(lags) // 2] * 1000, 2),
        "loop_lag_worst_gc_paused_ms": round(max(paused) * 1000, 2),
        "collections_by_generation": watch.counts,
        "full_collections_ms": [round(ms, 1) for ms in watch.full_ms],
        "old_generation_growth_per_tick": round((old_after - old_before) / ticks, 1),
        "full_collection_here_ms": round(full_gc_ms, 1),
        "tracked_objects_here": heap,
        "across_midnight_ms": round(across * 1000, 1),
    }


def measure_hub_tick(ledger: Ledger, running: int, ticks: int) -> dict:
    """The hub's whole heartbeat (UsageCapture.heartbeat with prices, as a hub with a price
    table runs it) over `running` real JupyterHub spawners: the loop over them on the event
    loop, the ledger tick in the capture's thread, the cost metrics. Worst event-loop lag."""
    from prometheus_client import CollectorRegistry

    from hub_extensions.cost.hub import CostHooks
    from hub_extensions.usage.capture import Tracked, UsageCapture
    from hub_extensions.usage.config import HubExtensionsUsage
    from hub_extensions.usage.fail_open import FailOpenLedger

    table = UsageSession.__table__
    _, now = MONTH_TO_DATE
    start = now - timedelta(minutes=1)
    names = [f"user{i:05d}" for i in range(running)]
    with ledger.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.server_name == "bench"))
    ids = []
    for i, name in enumerate(names):
        slug, _, cpu, _, mem_gb = PROFILES[i % len(PROFILES)]
        row = ledger.session_row(user=name, server_name="bench", requested_at=start,
                                 profile_slug=slug, groups=[GROUPS[i % 20]], cpu_request=cpu,
                                 mem_request_bytes=int(mem_gb * 2**29))  # fmt: skip
        row["ready_at"] = start
        with ledger.engine.begin() as conn:
            conn.execute(table.insert(), row)
        ids.append(row["id"])
    registry = CollectorRegistry()
    capture = UsageCapture(HubExtensionsUsage(timezone=TZ), registry=registry)
    capture.cost_hooks = CostHooks(HubExtensionsCost(prices=PRICES), TZ, registry=registry)
    fresh = Ledger(ledger.engine, timezone=TZ)
    fresh.started = True
    fresh.pricing = capture.cost_hooks.pricing
    capture.ledger = FailOpenLedger(fresh)
    capture.started = True
    spawners = jupyterhub_spawners(names, "bench", start)
    for name, sid, spawner, i in zip(names, ids, spawners, range(running), strict=True):
        slug = PROFILES[i % len(PROFILES)][0]
        capture.sessions[(name, "bench")] = Tracked(sid, spawner, slug, start, ready=True)
    lags = []
    clock = [now]
    capture.clock = lambda: clock[0]
    # making 2,000 spawners leaves ~10^5 new long-lived objects, which would bring on a full
    # collection during the first ticks: that is the set-up's, as it is the hub's start's
    gc.collect()

    async def run() -> None:
        from concurrent.futures import ThreadPoolExecutor

        capture._executor = ThreadPoolExecutor(1)
        for k in range(ticks):
            clock[0] = now + timedelta(minutes=k)
            for i, spawner in enumerate(spawners):  # a third used during the tick
                if i % 3 == 0:
                    spawner.orm_spawner.last_activity = (clock[0] - timedelta(seconds=30)).replace(
                        tzinfo=None
                    )
            lags.append(await worst_lag_until_done(asyncio.ensure_future(capture.heartbeat())))
        capture._executor.shutdown()

    with GcWatch() as watch:
        asyncio.run(run())
    [sample] = fresh.sessions(user=names[0], running=True)
    assert sample["active_seconds"] + sample["idle_seconds"] >= 60 * (ticks - 1), sample
    return {
        "loop_lag_worst_ms": round(max(lags) * 1000, 2),
        "loop_lag_p50_ms": round(sorted(lags)[len(lags) // 2] * 1000, 2),
        "collections_by_generation": watch.counts,
        "full_collections_ms": [round(ms, 1) for ms in watch.full_ms],
    }


def sqlite_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def pg_sizes(ledger: Ledger) -> dict:
    with ledger.engine.connect() as conn:
        out = {
            "database": conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        }
        for t in ("sessions", "daily_usage", "active_days"):
            out[t] = conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar()
    return out


def run_sqlite(cache: Path, args, work: Path) -> dict:
    copy = work / "ledger.sqlite"
    shutil.copy(cache, copy)
    ledger = Ledger(f"sqlite:///{copy}", timezone=TZ)
    ledger.start()
    try:
        out = {"size_bytes": sqlite_size(cache)}
        out.update(measure_reads(ledger, args.users, args.n))
        out["heartbeat"] = measure_heartbeat(ledger, args.running, args.ticks, priced=False)
        out["heartbeat_priced"] = measure_heartbeat(ledger, args.running, args.ticks, priced=True)
        out["hub_tick"] = measure_hub_tick(ledger, args.running, args.ticks)
    finally:
        ledger.close()
    return out


def run_postgres(cache: Path, args, work: Path) -> dict:
    server = PostgresServer(work / "pg")
    server.start()
    try:
        ledger, load_s = load_postgres(server, cache)
        out = {"load_s": load_s, "size_bytes": pg_sizes(ledger)}
        out.update(measure_reads(ledger, args.users, args.n))
        out["heartbeat"] = measure_heartbeat(ledger, args.running, args.ticks, priced=False)
        out["heartbeat_priced"] = measure_heartbeat(ledger, args.running, args.ticks, priced=True)
        out["hub_tick"] = measure_hub_tick(ledger, args.running, args.ticks)
        ledger.close()
    finally:
        server.stop()
    return out


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(meta: dict, results: dict) -> None:
    state = "cached" if meta["cached"] else "generated now"
    print(
        f"synthetic ledger: {meta['sessions']:,} sessions, {meta['daily_usage']:,} roll-up rows,"
        f" {meta['active_days']:,} active-day rows; generation {meta['seconds']} s ({state})"
    )
    rows = [("figure", "backend", "value", "target")]
    for name, r in results.items():
        us, al = r["user_summary"], r["all_users_summary_s"]
        met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        size = r["size_bytes"] if isinstance(r["size_bytes"], int) else r["size_bytes"]["database"]
        rows += [
            (f"user month-to-date summary p50 (N={us['n']})", name, f"{us['p50_ms']} ms", ""),
            ("user month-to-date summary p99", name, f"{us['p99_ms']} ms",
             f"≤ 20 ms: {met(us['p99_ms'] <= 20)}"),
            (f"all-users month summary, median of {al['n']}", name, f"{al['median']} s",
             f"≤ 1 s: {met(al['max'] <= 1)}"),
            ("  same, slowest", name, f"{al['max']} s", ""),
        ]  # fmt: skip
        for hb in (r["heartbeat"], r["heartbeat_priced"]):
            label = "priced" if hb["priced"] else "no prices"
            gen0, gen1, gen2 = hb["collections_by_generation"]
            rows += [
                (f"heartbeat, {args_running} running ({label}): event-loop lag, worst", name,
                 f"{hb['loop_lag_worst_ms']} ms",
                 f"≤ 50 ms: {met(hb['loop_lag_worst_ms'] <= 50)}"),
                ("  event-loop lag, p50 of ticks", name, f"{hb['loop_lag_p50_ms']} ms", ""),
                ("  event-loop lag, worst, gc paused", name,
                 f"{hb['loop_lag_worst_gc_paused_ms']} ms", ""),
                ("  collections during the ticks (gen 0/1/2)", name, f"{gen0}/{gen1}/{gen2}", ""),
                ("  old generation growth per tick", name,
                 f"{hb['old_generation_growth_per_tick']} objects", ""),
                ("  a full collection here (for scale)", name,
                 f"{hb['full_collection_here_ms']} ms, {hb['tracked_objects_here']:,} objects",
                 ""),
                ("  tick wall time (in a thread), first", name, f"{hb['first_tick_ms']} ms", ""),
                ("  tick wall time, steady p50", name, f"{hb['steady_ticks_ms']['p50_ms']} ms",
                 ""),
                ("  tick wall time, steady max", name, f"{hb['steady_ticks_ms']['max_ms']} ms",
                 ""),
                ("  tick across midnight", name, f"{hb['across_midnight_ms']} ms", ""),
            ]  # fmt: skip
        hub = r["hub_tick"]
        rows += [
            (f"hub heartbeat, {args_running} JupyterHub spawners, priced: loop lag, worst", name,
             f"{hub['loop_lag_worst_ms']} ms", f"≤ 50 ms: {met(hub['loop_lag_worst_ms'] <= 50)}"),
            ("  loop lag, p50 of ticks", name, f"{hub['loop_lag_p50_ms']} ms", ""),
            ("  collections during the ticks (gen 0/1/2)", name,
             "/".join(map(str, hub["collections_by_generation"])), ""),
            ("ledger size on disk", name, mb(size), ""),
        ]  # fmt: skip
        if "load_s" in r:
            rows.append(("  COPY load + indexes", name, f"{r['load_s']} s", ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    for i, row in enumerate(rows):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


args_running = 2000


def main() -> int:
    global args_running
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="1,000 users, fewer samples")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--n", type=int, default=500, help="user summaries timed")
    parser.add_argument("--running", type=int, default=2000)
    parser.add_argument("--ticks", type=int, default=21)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.users, args.n, args.ticks = 1000, 100, 6
        args.running = min(args.running, args.users)
    args_running = args.running
    cache, meta = ensure_cache(args.users, args.days)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as work:
        if args.backend in ("sqlite", "both"):
            results["sqlite"] = run_sqlite(cache, args, Path(work))
        if args.backend in ("postgres", "both"):
            results["postgresql"] = run_postgres(cache, args, Path(work))
    report(meta, results)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
