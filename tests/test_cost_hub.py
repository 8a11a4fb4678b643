"""Cost on a real hub: the widget on the hub's pages, budgets refused at spawn with a 403 that
says when they reset, prices of real sessions, and who may read whose cost.

The hub runs LocalProcessSpawner with capture on (1 s heartbeats); the ledger is the SQLite file
next to the hub's database, read here as the service reads it. DockerSpawner with limits set by
profile options: test_cost_docker.py. Not covered: a cloud bill (prices are the admin's table).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

import pytest
import requests

from hub_extensions.usage import Ledger

from .infra.common import wait_until
from .infra.hub import DemoHub

pytestmark = pytest.mark.hub

PRICES = [{"effective": "2026-01-01", "cpu_hour": 3.6, "memory_gib_hour": 0.0}]
CONFIG = f"""
c.HubExtensionsUsage.heartbeat_interval = 1
c.Spawner.poll_interval = 1
c.JupyterHub.authenticate_prometheus = False
c.HubExtensionsCost.prices = {json.dumps(PRICES)}
c.HubExtensionsCost.currency = "EUR"
c.HubExtensionsCost.user_budgets = {{"broke": 0.0, "ada": 100.0}}
c.ProfilesSimpleLocalProcessSpawner.profile_list = [
    {{"display_name": "Python", "default": True, "kubespawner_override": {{"cpu_limit": 2}}}},
]
"""


HUB = {"base_url": "/jh/", "config": CONFIG}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    return hub_factory.shared(request, **HUB)


def api_for(hub: DemoHub, user: str) -> requests.Session:
    return hub.api(hub.token(hub.login(user), user))


def test_a_user_over_budget_is_refused_with_403_saying_when_it_resets(hub):
    api = api_for(hub, "broke")
    r = api.post(hub.hub_url("api/users/broke/server"), json={}, timeout=30)
    assert r.status_code == 403, r.text
    message = r.json()["message"]
    assert message.startswith("Your budget is spent: 0.00 of 0.00 EUR this month.")
    first_of_next = datetime.now(timezone.utc).replace(day=1)
    assert "You can start a server again on " in message
    assert "at 00:00 UTC" in message
    assert first_of_next.strftime("%Y-%m-01") not in message  # the next month, not this one
    assert api.get(hub.hub_url("api/users/broke"), timeout=10).json()["servers"] == {}
    metrics = requests.get(hub.hub_url("metrics"), timeout=10).text
    assert "hub_extensions_budget_refusals_total 1.0" in metrics


def test_the_widget_shows_no_usage_then_a_running_session_and_the_budget(hub):
    session = hub.login("ada")
    home = session.get(hub.hub_url("home"), timeout=10)
    cached_until = time.monotonic() + 5  # the widget's cache keeps this page's figures 5 s
    assert home.status_code == 200
    assert "Your compute cost" in home.text
    assert "0.00 EUR</strong> (no usage yet)." in home.text
    assert "An estimate from the hub's price table, not an invoice." in home.text

    api = hub.api(hub.token(session, "ada"))
    hub.spawn(api, "ada")
    ledger = Ledger(f"sqlite:///{hub.state / 'hub-extensions-usage.sqlite'}")
    try:
        # cost of real time: 2 CPU (the profile's cpu_limit) at 3.6 EUR per CPU-hour
        def priced() -> bool:
            rows = ledger.sessions(user="ada")
            return bool(rows) and rows[0]["cost"] > 0

        wait_until(priced, 30, "ada's session to be priced")
        time.sleep(max(0, cached_until - time.monotonic()) + 0.5)  # the spawn took most of it
        page = session.get(hub.hub_url("home"), timeout=10).text
        assert "Running now (python):" in page
        assert "<strong>7.20 EUR per hour</strong>" in page
        assert "left of 100.00 EUR" in page
        assert "(your budget) this month" in page
        metrics = requests.get(hub.hub_url("metrics"), timeout=10).text
        rate = re.search(r'^hub_extensions_cost_rate_per_hour\{profile="python"\} (\S+)$',
                         metrics, re.M)  # fmt: skip
        assert rate is not None
        assert float(rate.group(1)) == pytest.approx(7.2)
        assert 'hub_extensions_cost_total{group="",profile="python"}' in metrics
        assert "hub_extensions_user_cost_total" not in metrics  # per-user series are off
        hub.stop_server(api, "ada")
        [row] = ledger.sessions(user="ada")
        seconds = row["active_seconds"] + row["idle_seconds"]
        assert row["cost"] == pytest.approx(seconds / 3600 * 7.2, rel=1e-9)
        assert row["cpu_limit"] == 2
    finally:
        ledger.close()
    spawn_page = session.get(hub.hub_url("spawn"), timeout=10).text
    assert "Your compute cost" in spawn_page
    assert "7.20 EUR per hour" in spawn_page  # the form's price for Python (2 CPU)


def test_users_read_only_their_own_cost_and_admins_all(hub):
    ada = api_for(hub, "ada")
    report = ada.get(hub.service_url("api/cost/report"), timeout=10)
    assert report.status_code == 403
    assert "custom:hub-extensions:usage:read" in report.json()["message"]
    csv = ada.get(hub.service_url("api/cost/report.csv"), timeout=10)
    assert csv.status_code == 403
    mine = ada.get(hub.service_url("api/cost/me"), timeout=10)
    assert mine.status_code == 200
    assert mine.json()["user"] == "ada"
    assert [b["kind"] for b in mine.json()["budgets"]] == ["user"]
    admin = api_for(hub, "demo")  # the demo's admin
    full = admin.get(hub.service_url("api/cost/report"), timeout=10)
    assert full.status_code == 200, full.text
    body = full.json()
    assert body["currency"] == "EUR"
    assert [u["user"] for u in body["users"]] == ["ada"]
    assert body["total"] == pytest.approx(body["users"][0]["cost"])
    bad = admin.get(hub.service_url("api/cost/report?month=2026-13"), timeout=10)
    assert bad.status_code == 400
    assert bad.json()["message"] == "month: '2026-13' is not a month. Use YYYY-MM."
    rows = admin.get(hub.service_url("api/cost/report.csv"), timeout=10)
    assert rows.status_code == 200
    lines = rows.text.strip().splitlines()
    assert lines[0] == "month,user,profile,cost,currency"
    assert lines[1].split(",")[1:3] == ["ada", "python"]
    assert requests.get(hub.service_url("api/cost/me"), timeout=10).status_code == 403


OVER_BUDGET = CONFIG + (
    'c.HubExtensionsCost.user_budgets = {"spender": 0.004}\n'
    "c.HubExtensionsCost.stop_over_budget = True\n"
    "c.HubExtensionsCost.over_budget_grace_period = 4\n"
)


@pytest.mark.hub_ahead(config=OVER_BUDGET)  # its own: the module's hub does not stop servers
def test_a_running_server_over_budget_is_warned_then_stopped_after_the_grace_period(make_hub):
    demo = make_hub(config=OVER_BUDGET)
    ledger = Ledger(f"sqlite:///{demo.state / 'hub-extensions-usage.sqlite'}")
    try:
        session = demo.login("spender")
        api = demo.api(demo.token(session, "spender"))
        demo.spawn(api, "spender")  # 7.20 EUR/h: the 0.004 EUR budget lasts 2 s
        t0 = datetime.now(timezone.utc)

        def warned() -> bool:
            page = session.get(demo.hub_url("home"), timeout=10).text
            return "your running server stops in about" in page

        wait_until(warned, 20, "the over-budget warning on the home page", interval=1)

        def ended() -> bool:
            rows = ledger.sessions(user="spender")
            return bool(rows) and rows[0]["end_reason"] == "over_budget"

        wait_until(ended, 30, "the server to be stopped over budget", interval=0.5)
        [row] = ledger.sessions(user="spender")
        assert row["end_inferred"] is False
        assert (row["ended_at"] - t0).total_seconds() >= 4  # not before the grace period
        servers = api.get(demo.hub_url("api/users/spender"), timeout=10).json()["servers"]
        assert servers == {}
        refused = api.post(demo.hub_url("api/users/spender/server"), json={}, timeout=30)
        assert refused.status_code == 403
    finally:
        ledger.close()
        demo.stop()
