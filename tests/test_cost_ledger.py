"""Costs written by the ledger as time accrues, reads of spend, and budgets (issue #7).

The ledger is a real SQLite file; the time is driven by heartbeats as the hub's would be.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from traitlets.config import Config

from hub_extensions.cost.budget import budget_status, projected_exhaustion, refusal
from hub_extensions.cost.config import HubExtensionsCost
from hub_extensions.cost.pricing import Pricing
from hub_extensions.cost.spend import costs_by_group, costs_by_user, running_session, user_spend
from hub_extensions.usage import Ledger

pytestmark = pytest.mark.unit
UTC = timezone.utc
GIB = 2**30


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cost_config(**extra) -> HubExtensionsCost:
    prices = [
        {"effective": "2026-11-01", "cpu_hour": 0.10, "memory_gib_hour": 0.01},
        {"effective": "2026-11-15", "cpu_hour": 0.20, "memory_gib_hour": 0.01},
    ]
    return HubExtensionsCost(config=Config({"HubExtensionsCost": {"prices": prices, **extra}}))


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", timezone="UTC")
    led.start()
    led.pricing = Pricing.from_config(cost_config())
    yield led
    led.close()


def run(ledger, user, start, hours, *, cpu=2.0, mem=4 * GIB, groups=(), profile="small", step=1):
    """A session of `hours`, with a heartbeat every `step` hours, ended by the user."""
    sid = ledger.open_session(
        user=user, requested_at=start, profile_slug=profile, cpu_limit=cpu,
        mem_limit_bytes=mem, groups=groups,
    )  # fmt: skip
    ledger.mark_ready(sid, start)
    t = start
    while t < start + timedelta(hours=hours):
        t = min(t + timedelta(hours=step), start + timedelta(hours=hours))
        ledger.heartbeat(t, [(sid, t)])
    ledger.close_session(sid, t, "user_stop", last_activity=t)
    return sid


def test_accrued_time_is_priced_by_the_version_in_force_each_day(ledger):
    # 2 CPU + 4 GiB: 0.24/h until Nov 14, 0.44/h from Nov 15
    run(ledger, "ada", at(2026, 11, 14, 22), 4)  # 2 h on the 14th, 2 h on the 15th
    [session] = ledger.sessions(user="ada")
    assert session["cost"] == pytest.approx(2 * 0.24 + 2 * 0.44)
    assert user_spend(ledger.engine, "ada", date(2026, 11, 14), date(2026, 11, 14)) == (
        pytest.approx(0.48)
    )
    assert ledger.summary("ada", "2026-11")["cost"] == pytest.approx(0.48 + 0.88)


def test_a_price_change_keeps_past_costs(ledger):
    run(ledger, "ben", at(2026, 11, 2, 9), 3)
    before = user_spend(ledger.engine, "ben", date(2026, 11, 1), date(2026, 11, 30))
    assert before == pytest.approx(3 * 0.24)
    # mid-month the admin raises the CPU price from the 20th; the hub restarts with it
    raised = [
        {"effective": "2026-11-01", "cpu_hour": 0.10, "memory_gib_hour": 0.01},
        {"effective": "2026-11-20", "cpu_hour": 1.00, "memory_gib_hour": 0.01},
    ]
    ledger.pricing = Pricing.from_config(
        HubExtensionsCost(config=Config({"HubExtensionsCost": {"prices": raised}}))
    )
    run(ledger, "ben", at(2026, 11, 21, 9), 1)
    after = user_spend(ledger.engine, "ben", date(2026, 11, 1), date(2026, 11, 30))
    assert after == pytest.approx(3 * 0.24 + 1 * 2.04)  # Nov 2 still at its own price


def test_idle_time_costs_too_and_requests_basis_prefers_guarantees(ledger):
    sid = ledger.open_session(
        user="cy", requested_at=at(2026, 11, 3, 8), cpu_request=0.5, cpu_limit=4,
        mem_request_bytes=GIB, mem_limit_bytes=8 * GIB,
    )  # fmt: skip
    ledger.mark_ready(sid, at(2026, 11, 3, 8))
    ledger.heartbeat(at(2026, 11, 3, 10), [(sid, at(2026, 11, 3, 8))])  # idle for 2 h
    # billed on requests (the default basis): 0.5 CPU and 1 GiB, not the limits
    [session] = ledger.sessions(user="cy")
    assert session["idle_seconds"] == pytest.approx(7200)
    assert session["cost"] == pytest.approx(2 * (0.5 * 0.10 + 1 * 0.01))


def test_spend_by_user_and_group_and_the_running_session(ledger):
    run(ledger, "ann", at(2026, 11, 3, 9), 2, groups=["class"])
    run(ledger, "bob", at(2026, 11, 3, 9), 1, groups=["class", "lab"], cpu=4)
    sid = ledger.open_session(user="ann", requested_at=at(2026, 11, 4, 9), cpu_limit=1)
    ledger.mark_ready(sid, at(2026, 11, 4, 9))
    ledger.heartbeat(at(2026, 11, 4, 10), [(sid, at(2026, 11, 4, 10))])
    users = costs_by_user(ledger.engine, date(2026, 11, 1), date(2026, 11, 30))
    assert [u["user"] for u in users] == ["ann", "bob"]  # biggest spender first
    assert users[0]["cost"] == pytest.approx(2 * 0.24 + 0.10)
    assert users[1]["cost"] == pytest.approx(0.44)
    groups = {g["group"]: g["cost"] for g in costs_by_group(ledger.engine, date(2026, 11, 1),
                                                               date(2026, 11, 30))}  # fmt: skip
    assert groups == {"class": pytest.approx(0.48 + 0.44), "lab": pytest.approx(0.44)}
    running = running_session(ledger.engine, "ann")
    assert running["id"] == sid
    assert running["cost"] == pytest.approx(0.10)


def test_budgets_user_and_group_pool_with_the_reset_date(ledger):
    cost = cost_config(
        user_budgets={"ann": 0.5}, default_user_budget=10, group_budgets={"class": 0.6}
    )
    run(ledger, "ann", at(2026, 11, 3, 9), 2, groups=["class"])  # 0.48
    tz = ZoneInfo("UTC")
    status = budget_status(ledger.engine, cost, "ann", ["class"], at(2026, 11, 5), tz)
    assert [(b.kind, b.name, b.limit) for b in status.budgets] == [
        ("user", "ann", 0.5),
        ("group", "class", 0.6),
    ]
    assert status.over is None
    assert status.binding.name == "ann"  # 96 % of hers, 80 % of the pool
    run(ledger, "bob", at(2026, 11, 4, 9), 1, groups=["class"])  # the pool: 0.48 + 0.24
    status = budget_status(ledger.engine, cost, "ann", ["class"], at(2026, 11, 5), tz)
    assert status.over.name == "class"
    assert status.over.resets == date(2026, 12, 1)
    message = refusal(status.over, cost, tz)
    assert message.startswith("The budget of group 'class' is spent: 0.72 of 0.60 USD this month.")
    assert "2026-12-01 at 00:00 UTC" in message
    other = budget_status(ledger.engine, cost, "cy", [], at(2026, 11, 5), tz)
    assert [(b.kind, b.limit, b.spent) for b in other.budgets] == [("user", 10, 0.0)]


def test_a_rolling_budget_resets_when_old_days_leave_the_window(ledger):
    cost = cost_config(budget_period="rolling", budget_rolling_days=7, default_user_budget=0.5)
    run(ledger, "dee", at(2026, 11, 2, 9), 1)  # 0.24 on Nov 2
    run(ledger, "dee", at(2026, 11, 4, 9), 2)  # 0.48 on Nov 4
    status = budget_status(ledger.engine, cost, "dee", [], at(2026, 11, 5, 12), ZoneInfo("UTC"))
    [budget] = status.budgets
    assert budget.spent == pytest.approx(0.72)
    assert budget.over
    # Nov 2 leaves the window on Nov 9 (0.48 < 0.5): back under budget that day
    assert budget.resets == date(2026, 11, 9)


def test_projected_date_the_budget_runs_out():
    from hub_extensions.cost.budget import Budget

    b = Budget("user", "eve", limit=10, spent=4, resets=date(2026, 12, 1))
    now = at(2026, 11, 10, 12)
    assert projected_exhaustion(b, 0.5, now, ZoneInfo("UTC")) == now + timedelta(hours=12)
    assert projected_exhaustion(b, 0.001, now, ZoneInfo("UTC")) is None  # resets first
    assert projected_exhaustion(b, 0, now, ZoneInfo("UTC")) is None


def test_budget_options_are_checked():
    from hub_extensions.checks import check_config

    c = Config()
    c.HubExtensionsCost.user_budgets = {"ann": -1}
    c.HubExtensionsCost.budget_rolling_days = 0
    c.HubExtensionsCost.budget_warning_thresholds = [0.8, 1.5]
    assert sorted(check_config(c)) == [
        "HubExtensionsCost.budget_rolling_days: 0 must be 1 to 366, e.g. 30.",
        "HubExtensionsCost.budget_warning_thresholds: 1.5 is not a fraction between 0 and 1, e.g. 0.8.",
        "HubExtensionsCost.user_budgets['ann']: -1.0 is negative. Use 0 or more.",
    ]


async def test_the_budget_check_fails_open_and_counts_when_the_ledger_cannot_be_read(tmp_path):
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry
    from sqlalchemy import create_engine

    from hub_extensions.cost.hub import CostHooks

    registry = CollectorRegistry()
    hooks = CostHooks(cost_config(default_user_budget=0.0), "UTC", registry=registry)
    spawner = SimpleNamespace(user=SimpleNamespace(name="ann", groups=[]))
    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'ledger.sqlite'}")
    await hooks.check_budget(spawner, lambda: broken)  # no 403: the spawn goes ahead
    await hooks.check_budget(spawner, lambda: None)  # the ledger not started yet
    assert registry.get_sample_value("hub_extensions_budget_check_failures_total") == 2.0
    assert registry.get_sample_value("hub_extensions_budget_refusals_total") == 0.0


async def test_with_budget_fail_closed_an_unchecked_budget_refuses_the_start(tmp_path):
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry
    from tornado import web

    from hub_extensions.cost.hub import CostHooks

    registry = CollectorRegistry()
    cost = cost_config(default_user_budget=10.0, budget_fail_closed=True)
    hooks = CostHooks(cost, "UTC", registry=registry)
    spawner = SimpleNamespace(user=SimpleNamespace(name="ann", groups=[]))
    with pytest.raises(web.HTTPError) as refused:
        await hooks.check_budget(spawner, lambda: None)
    assert refused.value.status_code == 503
    assert refused.value.log_message.startswith("Budgets cannot be checked right now")
    assert registry.get_sample_value("hub_extensions_budget_check_failures_total") == 1.0


def test_the_widget_data_warns_at_thresholds_and_projects_the_run_out(ledger):
    from hub_extensions.cost.widget import widget_data

    cost = cost_config(user_budgets={"fay": 1.0}, budget_warning_thresholds=[0.5, 0.9])
    run(ledger, "fay", at(2026, 11, 3, 9), 3)  # 0.72 of 1.00: past the 0.5 threshold
    sid = ledger.open_session(user="fay", requested_at=at(2026, 11, 4, 9), cpu_limit=2,
                              mem_limit_bytes=4 * GIB)  # fmt: skip
    ledger.mark_ready(sid, at(2026, 11, 4, 9))
    ledger.heartbeat(at(2026, 11, 4, 10), [(sid, at(2026, 11, 4, 10))])  # +0.24: 0.96
    data = widget_data(ledger.engine, cost, ledger.pricing, ZoneInfo("UTC"), "fay", [],
                       now=at(2026, 11, 4, 10))  # fmt: skip
    assert data["text"]["month_spend"] == "0.96 USD"
    assert data["current"]["rate"] == pytest.approx(0.24)
    assert data["text"]["rate"] == "0.24 USD"
    budget = data["budget"]
    assert budget["warning"] == 0.9
    assert budget["percent"] == 96.0
    assert budget["over"] is False
    assert budget["runs_out"] == "2026-11-04 10:10"  # 0.04 left at 0.24 per hour: 10 min
    assert [p["profile"] for p in data["profiles"]] == ["small", "(default)"]


async def test_starts_pending_together_let_the_first_checked_one_go(ledger):
    """Three named servers of one user, all marked pending by JupyterHub before any pre-spawn
    hook runs (its handlers set `_spawn_pending` first), checked one after the other: the first
    checked goes ahead, the later ones count it and are refused. Before the fix, a pending start
    not checked yet was counted too, so under load all three could refuse one another.
    JupyterHub's own LocalProcessSpawner objects; the hub's request handling is not run here
    (tests/test_security_ledger.py does that with a real hub)."""
    from types import SimpleNamespace

    from jupyterhub.spawner import LocalProcessSpawner
    from prometheus_client import CollectorRegistry
    from tornado import web

    from hub_extensions.cost.hub import CostHooks

    cost = cost_config(user_budgets={"tiny": 1.0})
    hooks = CostHooks(cost, "UTC", registry=CollectorRegistry())
    user = SimpleNamespace(name="tiny", groups=[], url="/user/tiny/", spawners={})
    for name in ("one", "two", "three"):
        s = LocalProcessSpawner(user=user, cpu_limit=8.0, mem_limit=32 * GIB)
        s.user_options = {}
        s._spawn_pending = True  # as JupyterHub's handler marks it before the hooks run
        user.spawners[name] = s
    outcomes = {}
    for name in ("two", "one", "three"):  # the order the hooks happen to run in
        try:
            await hooks.check_budget(user.spawners[name], lambda: ledger.engine)
            outcomes[name] = "starts"
        except web.HTTPError as err:
            outcomes[name] = err.log_message
    assert outcomes["two"] == "starts"
    for name in ("one", "three"):
        assert outcomes[name].startswith("Your 1 other server(s), running or starting, would "), (
            outcomes
        )
