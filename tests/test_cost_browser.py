"""Cost in headless Chromium: prices in the spawn form, a start refused over budget (403 page,
no server), the cost widget on the home page (no usage, over budget), the admin's cost page
with its CSV, and axe in light and dark.

The hub runs LocalProcessSpawner with capture on (1 s heartbeats); `spender` runs one short
session through the REST API before the pages are opened, so every amount is a real ledger
row. Not covered: DockerSpawner limits (test_cost_docker.py), the warning thresholds' yellow bar
and the stop of running servers over budget (test_cost_hub.py, test_cost_ledger.py).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from playwright.sync_api import expect

from hub_extensions.usage import Ledger

from .infra import axe
from .infra.browser import sign_in
from .infra.common import wait_until
from .infra.hub import DemoHub

pytestmark = pytest.mark.browser

PRICES = [{"effective": "2026-01-01", "cpu_hour": 3.6, "memory_gib_hour": 0.0}]
PROFILES = [
    {"display_name": "Python", "default": True, "kubespawner_override": {"cpu_limit": 1}},
    {
        "display_name": "Big",
        "slug": "big",
        "profile_options": {
            "cpus": {
                "display_name": "CPUs",
                "choices": {
                    "two": {
                        "display_name": "2 CPUs",
                        "default": True,
                        "kubespawner_override": {"cpu_limit": 2},
                    },
                    "four": {"display_name": "4 CPUs", "kubespawner_override": {"cpu_limit": 4}},
                },
            }
        },
    },
]
CONFIG = f"""
c.HubExtensionsUsage.heartbeat_interval = 1
c.Spawner.poll_interval = 1
c.HubExtensionsCost.prices = {json.dumps(PRICES)}
c.HubExtensionsCost.currency = "EUR"
c.HubExtensionsCost.user_budgets = {{"broke": 0.0, "spender": 0.001}}
c.HubExtensionsCost.default_user_budget = None  # whatever the demo's own config sets: others have none
c.ProfilesSimpleLocalProcessSpawner.profile_list = {PROFILES!r}
"""


HUB = {"base_url": "/jh/", "config": CONFIG}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    ledger = Ledger(f"sqlite:///{demo.state / 'hub-extensions-usage.sqlite'}")
    try:
        # spender's short session: 1 CPU at 3.6 EUR an hour is 0.001 EUR a second
        api = demo.api(demo.token(demo.login("spender"), "spender"))
        demo.spawn(api, "spender")

        def priced() -> bool:
            rows = ledger.sessions(user="spender")
            return bool(rows) and rows[0]["cost"] >= 0.002

        wait_until(priced, 30, "spender's session to cost 0.002 EUR")
        demo.stop_server(api, "spender")
    finally:
        ledger.close()
    return demo


def log_in(browser, hub: DemoHub, user: str, **context):
    return sign_in(browser, hub, user, **context)


def severe_violations(page) -> list[dict]:
    try:
        return axe.violations(page)
    except axe.Unavailable as err:  # pragma: no cover - npm ci installs it
        pytest.fail(str(err))


def not_the_403(errors) -> list[str]:
    """Page errors, leaving out Chromium's own log line of the refused POST's status."""
    return [e for e in errors.all() if "status of 403" not in e]


def test_a_user_with_a_spent_budget_sees_prices_then_a_403_and_no_server(browser, hub, artifacts):
    page, errors = log_in(browser, hub, "broke")
    page.wait_for_url("**/jh/hub/spawn")
    prices = page.locator(".hx-profile .hx-price").all_inner_texts()
    assert prices == ["3.60 EUR per hour", "7.20 EUR per hour"]  # Python (1 CPU), Big (2 CPUs)
    cpus = page.get_by_label("CPUs", exact=True)
    assert cpus.locator("option").all_inner_texts() == [
        "2 CPUs · 7.20 EUR/h",
        "4 CPUs · 14.40 EUR/h",
    ]
    total = page.locator(".hx-price-total")
    expect(total).to_contain_text("Estimated cost: 3.60 EUR per hour.")
    page.get_by_label("Big").check()
    expect(total).to_contain_text("Estimated cost: 7.20 EUR per hour.")
    cpus.select_option("four")
    expect(total).to_contain_text("Estimated cost: 14.40 EUR per hour.")
    # the widget above the form already says why a start will fail
    expect(page.locator(".hx-cost [role=alert]")).to_contain_text(
        "Over budget: 0.00 EUR spent of 0.00 EUR."
    )

    with page.expect_response(
        lambda r: r.request.method == "POST" and "/jh/hub/spawn" in r.url
    ) as answer:
        page.get_by_role("button", name="Start", exact=True).click()
    assert answer.value.status == 403
    message = page.locator(".spawn-error-msg")
    expect(message).to_contain_text("Your budget is spent: 0.00 of 0.00 EUR this month.")
    expect(message).to_contain_text("You can start a server again on ")
    expect(message).to_contain_text("at 00:00 UTC, or ask the hub's admin for a larger budget.")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()  # try again
    page.screenshot(path=artifacts / "cost-spawn-refused.png", full_page=True)
    assert severe_violations(page) == []
    assert not_the_403(errors) == []
    page.context.close()

    admin = hub.api(hub.token(hub.login("demo"), "demo"))
    assert admin.get(hub.hub_url("api/users/broke"), timeout=10).json()["servers"] == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_widget_for_no_usage_and_for_over_budget(browser, hub, artifacts, scheme):
    page, errors = log_in(browser, hub, f"newbie-{scheme}", color_scheme=scheme)
    page.goto(hub.hub_url("home"))
    assert page.locator("html").get_attribute("data-bs-theme") == scheme
    widget = page.get_by_role("region", name="Your compute cost")
    expect(widget).to_contain_text("This month")
    expect(widget).to_contain_text("0.00 EUR (no usage yet).")
    expect(widget.get_by_role("progressbar")).to_have_count(0)  # no budget, no bar
    expect(widget.get_by_role("alert")).to_have_count(0)
    expect(widget).to_contain_text("An estimate from the hub's price table, not an invoice.")
    assert severe_violations(page) == []
    page.screenshot(path=artifacts / f"cost-widget-no-usage-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()

    page, errors = log_in(browser, hub, "spender", color_scheme=scheme)
    page.goto(hub.hub_url("home"))
    widget = page.get_by_role("region", name="Your compute cost")
    bar = widget.get_by_role("progressbar", name="Budget used")
    expect(bar).to_have_attribute("aria-valuenow", "100.0")
    expect(bar.locator(".progress-bar")).to_have_class("progress-bar bg-danger")
    expect(widget.get_by_role("alert")).to_contain_text("Over budget: 0.00")  # 0.002 EUR or more
    expect(widget.get_by_role("alert")).to_contain_text("spent of 0.001 EUR.")
    expect(widget).to_contain_text("0.00 EUR left of 0.001 EUR (your budget) this month")
    expect(widget).not_to_contain_text("no usage yet")
    widget.get_by_text("By environment").click()
    expect(widget.get_by_role("cell", name="python")).to_be_visible()
    assert severe_violations(page) == []
    page.screenshot(path=artifacts / f"cost-widget-over-budget-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_admin_cost_page_shows_real_spenders_and_downloads_the_csv(
    browser, hub, artifacts, scheme
):
    page, errors = log_in(browser, hub, "demo", color_scheme=scheme)
    page.goto(hub.service_url("cost"))
    top = page.get_by_role("region", name="Top spenders")
    expect(top.locator("tbody tr")).to_have_count(1, timeout=15_000)
    user, hours, cost = top.locator("tbody tr td").all_inner_texts()
    assert (user, hours) == ("spender", "0.0")
    assert cost.endswith(" EUR")
    assert float(cost.split()[0]) >= 0.002
    expect(page.locator("p.lead")).to_contain_text("across 1 user.")
    link = page.get_by_role("link", name="Export CSV")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("cost-")
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert [(r["user"], r["profile"], r["currency"]) for r in rows] == [
        ("spender", "python", "EUR")
    ]
    assert float(rows[0]["cost"]) == pytest.approx(float(cost.split()[0]), abs=0.001)
    assert severe_violations(page) == []
    page.screenshot(path=artifacts / f"cost-page-admin-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()
