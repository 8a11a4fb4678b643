"""Cost reads on the synthetic year of bench_usage.py: the budget check at spawn and the cost
widget the hub adds to its home and spawn pages (see README.md).

The cached ledger predates the cost columns: a copy is migrated (`Ledger.start()`), then one
UPDATE prices `daily_usage` per profile and one INSERT ... SELECT fills `group_daily_usage` from
the group markers, so every read has a year of plausible costs. Half of the users timed have a
running server, so the widget prices a live session too. PostgreSQL is loaded from the priced
copy with bench_usage's COPY loader. Not measured: the hub's page rendering itself (Jinja), and
the spawn path around the check (bench_foundation.py times a whole spawn).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import bench_usage  # noqa: E402
from bench_usage import GROUPS, MONTH_TO_DATE, PROFILES, TZ, ms_stats  # noqa: E402
from sqlalchemy import text  # noqa: E402

from hub_extensions.cost import widget as widget_module  # noqa: E402
from hub_extensions.cost.budget import budget_status  # noqa: E402
from hub_extensions.cost.config import HubExtensionsCost  # noqa: E402
from hub_extensions.cost.prices import Footprint, hourly_rate  # noqa: E402
from hub_extensions.cost.pricing import Pricing  # noqa: E402
from hub_extensions.cost.widget import WidgetVar, widget_data  # noqa: E402
from hub_extensions.store.models import UsageSession  # noqa: E402
from hub_extensions.usage import Ledger  # noqa: E402
from tests.infra.postgres import PostgresServer  # noqa: E402

PRICES = [
    {
        "effective": "2025-01-01",
        "cpu_hour": 0.031,
        "memory_gib_hour": 0.004,
        "gpu_hour": {"nvidia-t4": 0.35, "default": 0.5},
    }
]
USER_BUDGET = 1.5  # per month: about a third of the synthetic users are over it by the 20th
GROUP_BUDGET = 600.0  # a 10,000-user month: some of the 20 groups (about 500 members) are over
_, NOW = MONTH_TO_DATE  # "now" inside the synthetic year (its days have data)


def cost_config(period: str = "monthly") -> HubExtensionsCost:
    return HubExtensionsCost(
        prices=PRICES,
        currency="EUR",
        default_user_budget=USER_BUDGET,
        group_budgets={g: GROUP_BUDGET for g in GROUPS},
        budget_period=period,
    )


def profile_rates() -> dict[str, float]:
    """Hourly rate of each synthetic profile, billed on requests (the default basis)."""
    version = HubExtensionsCost(prices=PRICES).versions()[0]
    rates = {}
    for slug, _, cpu_request, _, mem_gb in PROFILES:
        gpu = 1 if slug == "gpu" else 0
        footprint = Footprint(cpu_request, int(mem_gb * 2**29), gpu, "nvidia-t4" if gpu else None)
        rates[slug] = hourly_rate(version, footprint, slug)
    return rates


def fill_costs(engine) -> dict:
    """Price the roll-ups in two statements; returns the seconds they took."""
    case = " ".join(f"WHEN '{slug}' THEN {rate!r}" for slug, rate in profile_rates().items())
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE daily_usage SET cost = seconds / 3600.0 * CASE profile_slug {case} END")  # noqa: S608
        )
        conn.execute(text("DELETE FROM group_daily_usage"))
        conn.execute(
            text(
                "INSERT INTO group_daily_usage (group_name, day, seconds, cost) "
                "SELECT a.group_name, a.day, SUM(d.seconds), SUM(d.cost) FROM active_days a "
                'JOIN daily_usage d ON d."user" = a."user" AND d.day = a.day '
                "WHERE a.group_name <> '' GROUP BY a.group_name, a.day"
            )
        )
    return {"fill_s": round(time.perf_counter() - t0, 1)}


def sample_users(users: int, n: int) -> list[tuple[str, list[str]]]:
    """(user, one group with a pooled budget) for n + 20 warm-up calls, distinct users."""
    rng = random.Random(7)
    names = rng.sample(range(users), min(users, n + 20))
    return [(f"user{u:05d}", [GROUPS[u % len(GROUPS)]]) for u in names]


def open_sessions(ledger: Ledger, sampled: list[tuple[str, list[str]]]) -> None:
    """Every other sampled user has a server running since an hour before NOW."""
    rows = []
    start = NOW - timedelta(hours=1)
    for i, (user, groups) in enumerate(sampled[::2]):
        slug, _, cpu_req, cpu_lim, mem_gb = PROFILES[i % len(PROFILES)]
        row = ledger.session_row(
            user=user, requested_at=start, profile_slug=slug, cpu_request=cpu_req,
            cpu_limit=cpu_lim, mem_request_bytes=int(mem_gb * 2**29),
            mem_limit_bytes=int(mem_gb * 2**30), groups=groups,
        )  # fmt: skip
        row.update(ready_at=start, active_seconds=3000.0, idle_seconds=600.0, cost=0.05)
        rows.append(row)
    with ledger.engine.begin() as conn:
        conn.execute(UsageSession.__table__.insert(), rows)


class FrozenClock(datetime):
    """The widget reads the clock itself: keep it inside the synthetic year."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return NOW.astimezone(tz) if tz else NOW.replace(tzinfo=None)


def timed(calls: list, warmup: int = 20) -> dict:
    samples = []
    for i, call in enumerate(calls):
        t0 = time.perf_counter()
        call()
        if i >= warmup:
            samples.append(time.perf_counter() - t0)
    return ms_stats(samples)


def measure(ledger: Ledger, users: int, n: int) -> dict:
    sampled = sample_users(users, n)
    open_sessions(ledger, sampled)
    tz = ZoneInfo(TZ)
    out = {}
    # the first pass reads each user's rows for the first time since the load (cold pages);
    # the next ones are what a hub sees for users who were recently active
    for period in ("first_read", "monthly", "rolling"):
        cost = cost_config("rolling" if period == "rolling" else "monthly")
        results: list = []
        out[f"budget_{period}"] = timed(
            [
                lambda u=u, g=g, cost=cost, results=results: results.append(
                    budget_status(ledger.engine, cost, u, g, NOW, tz)
                )
                for u, g in sampled
            ]
        )
        kinds = {tuple(b.kind for b in s.budgets) for s in results}
        assert kinds == {("user", "group")}, kinds
        out[f"over_budget_{period}"] = {
            kind: sum(any(b.over and b.kind == kind for b in s.budgets) for s in results)
            for kind in ("user", "group")
        }
    cost = cost_config()
    pricing = Pricing.from_config(cost)
    data = []
    out["widget_data"] = timed(
        [
            lambda u=u, g=g: data.append(
                widget_data(ledger.engine, cost, pricing, tz, u, g, now=NOW)
            )
            for u, g in sampled
        ]
    )
    out["widget_running"] = sum(d["current"] is not None for d in data)
    assert out["widget_running"] >= n // 2, out["widget_running"]
    var = WidgetVar(lambda: ledger.engine, cost, tz)
    people = [
        SimpleNamespace(name=u, groups=[SimpleNamespace(name=x) for x in g]) for u, g in sampled
    ]

    def uncached(person) -> None:
        var._cache.clear()  # every call reads the ledger, as after the 5 s cache expires
        assert var(person) is not None

    real_clock = widget_module.datetime
    widget_module.datetime = FrozenClock
    try:
        out["widget_var"] = timed([lambda p=p: uncached(p) for p in people])
        cached = []
        for p in people:
            var(p)  # fills the cache; the page's next render within 5 s is this:
            t0 = time.perf_counter()
            var(p)
            cached.append(time.perf_counter() - t0)
        out["widget_var_cached"] = ms_stats(cached[20:])
    finally:
        widget_module.datetime = real_clock
    assert var.failures == 0
    return out


def run_sqlite(cache: Path, args, work: Path) -> dict:
    copy = work / "ledger.sqlite"
    t0 = time.perf_counter()
    shutil.copy(cache, copy)
    ledger = Ledger(f"sqlite:///{copy}", timezone=TZ)
    ledger.start()  # migrates the copy: cost columns, group_daily_usage
    out = {"migrate_s": round(time.perf_counter() - t0, 1)}
    try:
        out.update(fill_costs(ledger.engine))
        with ledger.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        out.update(measure(ledger, args.users, args.n))
    finally:
        ledger.close()
    return out


def priced_copy(cache: Path, work: Path) -> Path:
    """A migrated copy with costs, without the open sessions (PostgreSQL's COPY source)."""
    copy = work / "priced.sqlite"
    shutil.copy(cache, copy)
    ledger = Ledger(f"sqlite:///{copy}", timezone=TZ)
    ledger.start()
    fill_costs(ledger.engine)
    ledger.close()
    return copy


def run_postgres(cache: Path, args, work: Path) -> dict:
    source = priced_copy(cache, work)
    server = PostgresServer(work / "pg")
    server.start()
    try:
        ledger, load_s = bench_usage.load_postgres(server, source)
        source.unlink()
        out = {"load_s": load_s}
        out.update(fill_costs(ledger.engine))  # daily_usage came priced; this fills the groups
        with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE group_daily_usage"))
        out.update(measure(ledger, args.users, args.n))
        ledger.close()
    finally:
        server.stop()
    return out


def report(meta: dict, results: dict, n: int) -> None:
    print(
        f"synthetic ledger: {meta['sessions']:,} sessions, {meta['daily_usage']:,} roll-up rows"
        f" (10,000 users, one year); {n} distinct users timed per figure, half with a running"
        " server; clock at " + NOW.isoformat()
    )

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = [("figure", "backend", "p50", "p99", "target")]
    for name, r in results.items():
        bf, bm, br, wd, wv, wc = (r[k] for k in (
            "budget_first_read", "budget_monthly", "budget_rolling", "widget_data", "widget_var",
            "widget_var_cached"))  # fmt: skip
        rows += [
            ("budget check, monthly, first read of each user", name, f"{bf['p50_ms']} ms",
             f"{bf['p99_ms']} ms", ""),
            ("budget check (user + 1 group pool), monthly", name, f"{bm['p50_ms']} ms",
             f"{bm['p99_ms']} ms", f"≤ 5 ms p99: {met(bm['p99_ms'] <= 5)}"),
            ("budget check, rolling 30 days", name, f"{br['p50_ms']} ms", f"{br['p99_ms']} ms",
             f"≤ 5 ms p99: {met(br['p99_ms'] <= 5)}"),
            ("widget_data, first pass", name, f"{wd['p50_ms']} ms", f"{wd['p99_ms']} ms", ""),
            ("WidgetVar(user), uncached: added to a page", name, f"{wv['p50_ms']} ms",
             f"{wv['p99_ms']} ms", f"≤ 10 ms p99: {met(wv['p99_ms'] <= 10)}"),
            ("  same, cached (within 5 s)", name, f"{wc['p50_ms']} ms", f"{wc['p99_ms']} ms", ""),
        ]  # fmt: skip
        over = r["over_budget_monthly"]
        extra = f"fill costs {r['fill_s']} s"
        if "load_s" in r:
            extra = f"COPY load {r['load_s']} s, " + extra
        if "migrate_s" in r:
            extra = f"copy + migrate {r['migrate_s']} s, " + extra
        extra += f"; over budget: {over['user']} by user, {over['group']} by group"
        rows.append((f"  ({extra})", name, "", "", ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    for i, row in enumerate(rows):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="1,000 users, 200 samples")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--n", type=int, default=1000, help="users timed per figure (≥ 500)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.users, args.n = 1000, 200
    cache, meta = bench_usage.ensure_cache(args.users, args.days)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as work:
        if args.backend in ("sqlite", "both"):
            results["sqlite"] = run_sqlite(cache, args, Path(work))
        if args.backend in ("postgres", "both"):
            results["postgresql"] = run_postgres(cache, args, Path(work))
    report(meta, results, args.n)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
