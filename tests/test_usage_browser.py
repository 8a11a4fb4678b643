"""The usage page in headless Chromium: charts and table from real ledger rows, filters, the
CSV download, a plain user's own view, and axe in light and dark.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from hub_extensions.usage import Ledger

from .infra import axe
from .infra.browser import sign_in
from .infra.hub import DemoHub
from .test_usage_api import fill

pytestmark = pytest.mark.browser
DASH = "\u2013"  # the page writes ranges with an en dash


@pytest.fixture(scope="module")
def hub(hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("usage-browser")
    ledger = Ledger(f"sqlite:///{tmp}/ledger.sqlite")
    ledger.start()
    fill(ledger)
    ledger.close()
    # the hub's capture stays off, so the page shows exactly the rows written here
    config = (
        f"c.HubExtensionsUsage.db_url = 'sqlite:///{tmp}/ledger.sqlite'\n"
        "c.HubExtensionsUsage.enabled = False\n"
    )
    demo = hub_factory.shared(request, base_url="/jh/", config=config)
    demo.ledger_url = f"sqlite:///{tmp}/ledger.sqlite"  # the hub's only: its config names it
    return demo


def open_usage(browser, hub: DemoHub, user: str, **context):
    page, errors = sign_in(browser, hub, user, **context)
    page.goto(hub.service_url("usage"))
    count = 4 if user == "demo" else 2
    expect(page.locator("#usage-page-status")).to_have_text(
        f"Sessions 1{DASH}{count}", timeout=15_000
    )
    return page, errors


def table_column(page, header: str) -> list[str]:
    headers = page.locator("#usage-sessions thead th").all_inner_texts()
    i = headers.index(header) + 1
    return page.locator(f"#usage-sessions tbody td:nth-child({i})").all_inner_texts()


def test_admin_sees_three_charts_from_the_ledger_and_everyones_sessions(browser, hub, artifacts):
    page, errors = open_usage(browser, hub, "demo")
    charts = page.locator("figure svg[role=img]")
    expect(charts).to_have_count(3)
    titles = page.locator("figure h2").all_inner_texts()
    assert titles == ["Active users (daily)", "Hours by profile", "Sessions per day"]
    sessions = page.locator("#usage-chart-sessions").get_attribute("aria-label")
    assert "4 sessions in total" in sessions
    hours = page.locator("#usage-chart-hours").get_attribute("aria-label")
    assert "4.5 h in total" in hours  # 2 + 1 + 0.5 closed, and 1 h accrued by bob's running one
    assert page.locator("#usage-chart-hours rect").count() >= 3
    assert sorted(table_column(page, "User")) == ["ada", "ada", "bob", "mallory"]
    # the data behind a chart is a table too
    page.locator("figure", has=page.locator("#usage-chart-sessions")).locator("summary").click()
    expect(page.get_by_role("table", name="Sessions per day")).to_be_visible()
    # the weekly window counts everyone active in the last 7 days
    page.get_by_text("weekly", exact=True).click()
    expect(page.locator("figure h2").first).to_have_text("Active users (weekly)")
    expect(page.locator("#usage-chart-active")).to_have_attribute(
        "aria-label", re.compile(r"\(weekly\).*highest 3 users")
    )
    page.screenshot(path=artifacts / "usage-page-admin.png", full_page=True)
    assert errors.all() == []
    page.context.close()


def test_filters_narrow_the_table_and_the_csv_link_downloads_the_same_rows(browser, hub):
    page, errors = open_usage(browser, hub, "demo")
    page.get_by_label("User", exact=True).fill("ada")
    page.get_by_label("End reason", exact=True).select_option("cull")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#usage-page-status")).to_have_text(f"Sessions 1{DASH}1")
    assert table_column(page, "User") == ["ada"]
    assert table_column(page, "End reason") == ["cull"]
    link = page.get_by_role("link", name="Download CSV")
    assert link.get_attribute("href").endswith("api/usage/sessions.csv?user=ada&reason=cull")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("usage-sessions-")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [(r["user"], r["end_reason"]) for r in rows] == [("ada", "cull")]
    page.get_by_role("button", name="Reset").click()
    expect(page.locator("#usage-page-status")).to_have_text(f"Sessions 1{DASH}4")
    assert errors.all() == []
    page.context.close()


def test_a_plain_user_sees_their_own_sessions_and_no_charts(browser, hub):
    page, errors = open_usage(browser, hub, "ada")
    expect(page.get_by_text("You see your own sessions only.")).to_be_visible()
    expect(page.locator("figure")).to_have_count(0)
    expect(page.get_by_label("User", exact=True)).to_have_count(0)
    assert page.get_by_role("heading", name="Your sessions").is_visible()
    assert table_column(page, "Profile") == ["gpu", "gpu"]
    assert errors.all() == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_usage_page_has_no_serious_accessibility_violations(browser, hub, artifacts, scheme):
    page, errors = open_usage(browser, hub, "demo", color_scheme=scheme)
    expect(page.locator("figure svg[role=img]")).to_have_count(3)
    assert page.locator("html").get_attribute("data-bs-theme") == scheme
    for summary in page.locator("details summary").all():
        summary.click()  # the data tables are checked too
    try:
        found = axe.violations(page)
    except axe.Unavailable as err:  # pragma: no cover - npm ci installs it
        pytest.fail(str(err))
    assert found == []
    page.screenshot(path=artifacts / f"usage-page-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()


MOVE_DAYS = (
    "UPDATE daily_usage SET day = date(day, :shift) WHERE day < :before",
    "UPDATE active_days SET day = date(day, :shift) WHERE day < :before",
)
FORGET_USERS = (
    'DELETE FROM sessions WHERE "user" IN (:a, :b, :c)',
    'DELETE FROM daily_usage WHERE "user" IN (:a, :b, :c)',
    'DELETE FROM active_days WHERE "user" IN (:a, :b, :c)',
)


def test_today_counts_as_soon_as_users_are_active_and_is_marked_so_far(browser, hub, artifacts):
    """Three users with sessions of two or three minutes today: kim's server is up and idle so
    far (no activity reported yet), lee's is up and busy, max's ran two busy minutes and ended.
    The daily active-user count for today is 3 at once and marked as so far; the hours axis
    reads in minutes with distinct labels (7 minutes in all: it read 0.0, 0.1, 0.1, 0.1). For
    this test the module's older rows are moved out of the charts' 30 days (and back after), so
    the hours chart holds these minutes only.
    """
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if (now - timedelta(minutes=6)).date() != now.date():
        pytest.skip("too close to midnight (UTC) for sessions of minutes today")
    today = now.date().isoformat()
    ledger = Ledger(hub.ledger_url)
    with ledger.engine.begin() as conn:
        for statement in MOVE_DAYS:
            conn.execute(text(statement), {"shift": "-400 days", "before": today})
    try:
        m = lambda n: now - timedelta(minutes=n)  # noqa: E731
        kim = ledger.open_session(user="kim", requested_at=m(5), profile_slug="python")
        ledger.mark_ready(kim, m(4))
        lee = ledger.open_session(user="lee", requested_at=m(4), profile_slug="gpu")
        ledger.mark_ready(lee, m(3))
        ledger.heartbeat(m(1), [(kim, m(4)), (lee, m(1))])  # kim idle since ready
        max_ = ledger.open_session(user="max", requested_at=m(5), profile_slug="gpu")
        ledger.mark_ready(max_, m(4))
        ledger.close_session(max_, m(2), "user_stop", last_activity=m(2))

        page, errors = sign_in(browser, hub, "demo")
        page.goto(hub.service_url("usage"))
        expect(page.locator("figure svg[role=img]")).to_have_count(3, timeout=15_000)

        active = page.locator("figure", has=page.locator("#usage-chart-active"))
        active.locator("summary").click()
        row = active.get_by_role("row", name=f"{today} (today, so far)")
        assert int(row.locator("td").inner_text()) == 3  # kim, lee and max
        assert active.locator("[data-partial-legend]").inner_text() == "today (so far)"
        expect(page.locator("#usage-chart-active g[data-partial] circle title")).to_have_text(
            "today (so far): 3"
        )
        assert "Today is so far." in page.locator("#usage-chart-active").get_attribute("aria-label")

        hours = page.locator("#usage-chart-hours")
        assert hours.locator("rect[data-partial]").count() == 2  # gpu and python, lighter
        assert hours.locator("rect:not([data-partial])").count() == 0
        labels = hours.locator(".usage-axis-tick text").all_text_contents()
        assert len(set(labels)) == len(labels) >= 3, labels
        assert set(labels) != {"0.0"}
        assert labels == ["0", "2 min", "4 min", "6 min", "8 min"]
        assert "today" in hours.locator("text").all_text_contents()
        for chart in ("#usage-chart-active", "#usage-chart-sessions"):
            ticks = page.locator(f"{chart} .usage-axis-tick text").all_text_contents()
            assert len(set(ticks)) == len(ticks), (chart, ticks)
            assert all(t.isdigit() for t in ticks), (chart, ticks)  # whole users, sessions
        page.screenshot(path=artifacts / "usage-page-today-so-far.png", full_page=True)
        assert errors.all() == []
        page.context.close()
    finally:
        with ledger.engine.begin() as conn:
            for statement in FORGET_USERS:
                conn.execute(text(statement), {"a": "kim", "b": "lee", "c": "max"})
            back = {"shift": "+400 days", "before": (now - timedelta(days=300)).date().isoformat()}
            for statement in MOVE_DAYS:
                conn.execute(text(statement), back)
        ledger.close()
