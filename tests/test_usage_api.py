"""The usage API on a real hub: who sees whose sessions, through tokens and the browser's
OAuth cookie; validation; CSV. The ledger is filled directly, as the hub's capture would.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from hub_extensions.usage import Ledger
from hub_extensions.wiring import USAGE_READ_SCOPE

from .infra.common import wait_until
from .infra.hub import DemoHub

pytestmark = pytest.mark.hub

NOW = datetime.now(timezone.utc).replace(microsecond=0)
FORMULA_PROFILE = '=HYPERLINK("http://evil.example","x")'


def fill(ledger: Ledger) -> None:
    """ada: 2 gpu sessions; bob: 1 python session, running; mallory: a formula as profile."""
    day = timedelta(days=1)
    for user, profile, started, hours, reason in (
        ("ada", "gpu", NOW - 3 * day, 2, "user_stop"),
        ("ada", "gpu", NOW - 2 * day, 1, "cull"),
        ("bob", "python", NOW - 2 * day, None, None),
        ("mallory", FORMULA_PROFILE, NOW - 1 * day, 0.5, "user_stop"),
    ):
        sid = ledger.open_session(user=user, requested_at=started, profile_slug=profile)
        ledger.mark_ready(sid, started)
        if hours is not None:
            end = started + timedelta(hours=hours)
            ledger.close_session(sid, end, reason, last_activity=end)
        else:
            ledger.heartbeat(started + timedelta(hours=1), [(sid, started + timedelta(hours=1))])


@pytest.fixture(scope="module")
def hub(hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("usage-api")
    ledger = Ledger(f"sqlite:///{tmp}/ledger.sqlite")
    ledger.start()
    fill(ledger)
    ledger.close()
    config = (
        f"c.HubExtensionsUsage.db_url = 'sqlite:///{tmp}/ledger.sqlite'\n"
        # the hub's own capture stays off: its reconciliation would close bob's running session
        "c.HubExtensionsUsage.enabled = False\n"
        "c.JupyterHub.load_roles = [{'name': 'usage-auditors', 'users': ['auditor'],\n"
        f"    'scopes': [{USAGE_READ_SCOPE!r}]}}]\n"
    )
    demo = hub_factory.shared(request, base_url="/jh/", config=config)
    demo.ledger_url = f"sqlite:///{tmp}/ledger.sqlite"  # the hub's only: its config names it
    return demo


@pytest.fixture(scope="module")
def api(hub):
    """A token session per user: demo (admin), ada and bob (plain), auditor (granted the scope)."""
    return {n: hub.api(hub.token(hub.login(n), n)) for n in ("demo", "ada", "bob", "auditor")}


def get(session: requests.Session, hub: DemoHub, path: str, **params) -> requests.Response:
    return session.get(hub.service_url(path), params=params, timeout=15)


def users_of(r: requests.Response) -> set[str]:
    assert r.status_code == 200, r.text
    return {s["user"] for s in r.json()["sessions"]}


def test_admin_sees_every_users_sessions_newest_first(hub, api):
    r = get(api["demo"], hub, "api/usage/sessions")
    assert users_of(r) == {"ada", "bob", "mallory"}
    sessions = r.json()["sessions"]
    assert [s["requested_at"] for s in sessions] == sorted(
        (s["requested_at"] for s in sessions), reverse=True
    )
    assert r.json()["has_more"] is False
    assert users_of(get(api["demo"], hub, "api/usage/sessions", user="bob")) == {"bob"}


def test_filters_profile_reason_dates_and_paging(hub, api):
    admin = api["demo"]
    r = get(admin, hub, "api/usage/sessions", profile="gpu", reason="cull")
    assert [(s["user"], s["end_reason"]) for s in r.json()["sessions"]] == [("ada", "cull")]
    running = get(admin, hub, "api/usage/sessions", reason="running").json()["sessions"]
    assert [(s["user"], s["ended_at"]) for s in running] == [("bob", None)]
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    assert users_of(get(admin, hub, "api/usage/sessions", start=yesterday)) == {"bob", "mallory"}
    page = get(admin, hub, "api/usage/sessions", limit=2, offset=1).json()
    assert (len(page["sessions"]), page["has_more"]) == (2, True)
    last = get(admin, hub, "api/usage/sessions", limit=2, offset=2).json()
    assert (len(last["sessions"]), last["has_more"]) == (2, False)


def test_a_plain_user_sees_only_their_own_sessions(hub, api):
    assert users_of(get(api["ada"], hub, "api/usage/sessions")) == {"ada"}
    assert users_of(get(api["ada"], hub, "api/usage/sessions", user="ada")) == {"ada"}
    assert get(api["bob"], hub, "api/usage/sessions").json()["sessions"][0]["profile"] == "python"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("api/usage/sessions", {"user": "bob"}),
        ("api/usage/sessions.csv", {"user": "bob"}),
        ("api/usage/summary", {"all": "1"}),
        ("api/usage/summary", {"user": "bob"}),
        ("api/usage/daily", {"user": "bob"}),
        ("api/usage/active-users", {}),
    ],
)
def test_a_plain_user_asking_for_others_gets_403_naming_the_scope(hub, api, path, params):
    r = get(api["ada"], hub, path, **params)
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("application/json")
    assert USAGE_READ_SCOPE in r.json()["message"]
    assert "load_roles" in r.json()["message"]


def test_a_user_granted_the_scope_sees_everything(hub, api):
    assert users_of(get(api["auditor"], hub, "api/usage/sessions")) == {"ada", "bob", "mallory"}
    r = get(api["auditor"], hub, "api/usage/summary", all="1")
    assert {u["user"] for u in r.json()["users"]} >= {"ada", "mallory"}


def test_the_scope_reaches_the_service_through_the_browsers_oauth_cookie(hub):
    """The page and API as a browser sees them: the hub's OAuth token carries the scope only for
    those who hold it (the service's oauth_client_allowed_scopes)."""
    for name, sees_all in (("auditor", True), ("demo", True), ("bob", False)):
        browser = hub.login(name)
        page = browser.get(hub.service_url("usage"), timeout=30)  # OAuth dance, then the page
        assert page.status_code == 200, page.text
        assert f'data-can-read-all="{"true" if sees_all else "false"}"' in page.text
        assert ("You see your own sessions only" in page.text) is not sees_all
        r = browser.get(hub.service_url("api/usage/sessions"), timeout=15)
        assert users_of(r) == ({"ada", "bob", "mallory"} if sees_all else {"bob"}), name


def test_anonymous_requests_get_403_json_and_the_page_redirects_to_login(hub):
    r = requests.get(hub.service_url("api/usage/sessions"), timeout=10)
    assert r.status_code == 403
    assert r.json() == {
        "status": 403,
        "message": "Not authenticated: send a hub token (Authorization: token ...) "
        "or log in first.",
    }
    page = requests.get(hub.service_url("usage"), timeout=10, allow_redirects=False)
    assert page.status_code == 302
    assert "/jh/hub/api/oauth2/authorize" in page.headers["Location"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("api/usage/sessions", {"start": "tomorrow"}, "start: 'tomorrow' is not a date"),
        ("api/usage/sessions", {"limit": "5000"}, "limit: '5000' must be a whole number"),
        ("api/usage/sessions", {"reason": "boom"}, "reason: 'boom' is not one of"),
        ("api/usage/sessions", {"usr": "ada"}, "usr: unknown parameter"),
        ("api/usage/sessions.csv", {"end": "2026-02-30"}, "end: '2026-02-30' is not a date"),
        ("api/usage/summary", {"month": "2026-13"}, "month: '2026-13' is not a month"),
        ("api/usage/active-users", {"window": "yearly"}, "window: 'yearly' is not one of"),
        ("api/usage/daily", {"start": "2000-01-01"}, "start: the range 2000-01-01 to"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(hub, api, path, params, message):
    r = get(api["demo"], hub, path, **params)
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(message)


def csv_records(r: requests.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def test_csv_export_has_a_header_the_filters_and_no_formulas(hub, api):
    r = get(api["demo"], hub, "api/usage/sessions.csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="usage-sessions-\d{4}-\d{2}-\d{2}\.csv"',
        r.headers["Content-Disposition"],
    )
    assert r.text.startswith("id,user,server_name,profile,requested_at,")
    records = csv_records(r)
    assert sorted(x["user"] for x in records) == ["ada", "ada", "bob", "mallory"]
    [evil] = [x for x in records if x["user"] == "mallory"]
    assert evil["profile"] == "'" + FORMULA_PROFILE
    assert evil["hours"] == "0.5"
    assert {x["user"] for x in csv_records(get(api["demo"], hub, "api/usage/sessions.csv",
                                                 profile="gpu"))} == {"ada"}  # fmt: skip
    assert len(csv_records(get(api["demo"], hub, "api/usage/sessions.csv", limit="1"))) == 1
    # a plain user's export holds their sessions only
    assert {x["user"] for x in csv_records(get(api["bob"], hub, "api/usage/sessions.csv"))} == {
        "bob"
    }


def test_summary_daily_and_active_users_feed_the_charts(hub, api):
    mine = get(api["ada"], hub, "api/usage/summary").json()
    assert mine["user"] == "ada"
    three_days_ago = (NOW - timedelta(days=3)).date()
    if three_days_ago.month == NOW.month:  # month to date holds both of ada's sessions
        assert mine["sessions"] == 2
        assert mine["profiles"]["gpu"]["seconds"] == pytest.approx(3 * 3600)
    daily = get(api["demo"], hub, "api/usage/daily").json()
    assert len(daily["days"]) == 30
    assert daily["days"][-1] == NOW.date().isoformat()
    assert sum(daily["sessions"]) == 4
    assert sum(daily["hours"]["gpu"]) == pytest.approx(3)
    assert set(daily["hours"]) == {"gpu", "python", FORMULA_PROFILE}
    ada_daily = get(api["ada"], hub, "api/usage/daily").json()
    assert (ada_daily["user"], sum(ada_daily["sessions"])) == ("ada", 2)
    active = get(api["demo"], hub, "api/usage/active-users", window="weekly").json()
    assert active["window"] == "weekly"
    assert active["counts"][-1] == 3  # ada, bob and mallory were active within the last week
    assert len(active["counts"]) == len(active["days"]) == 30


def test_users_with_a_server_up_today_count_as_active_today(hub, api):
    """A server up for minutes, idle so far (no activity reported yet, so no activity marker):
    its user counts for today at once, overall and in the groups they had at the spawn. The
    session is added to the hub's ledger for this test only."""
    ledger = Ledger(hub.ledger_url)
    ready = NOW - timedelta(minutes=4)
    if ready.date() != NOW.date():
        pytest.skip("too close to midnight (UTC) for a session of minutes today")
    sid = ledger.open_session(
        user="cy", requested_at=ready - timedelta(minutes=1), profile_slug="python",
        groups=["physics"],
    )  # fmt: skip
    try:
        ledger.mark_ready(sid, ready)
        ledger.heartbeat(NOW - timedelta(minutes=1), [(sid, ready)])  # idle since it started

        def today(**params) -> int:
            r = get(api["demo"], hub, "api/usage/active-users", **params)
            assert r.status_code == 200, r.text
            assert r.json()["days"][-1] == NOW.date().isoformat()
            return r.json()["counts"][-1]

        assert today(window="daily") == 1  # cy; bob's server was last seen days ago
        assert today(window="daily", group="physics") == 1
        assert today(window="daily", group="chemistry") == 0
        assert today(window="weekly") == 4  # ada, bob, mallory and cy
    finally:
        with ledger.engine.begin() as conn:
            for table in ("sessions", "daily_usage", "active_days"):
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE \"user\" = 'cy'")  # noqa: S608
            conn.exec_driver_sql("DELETE FROM group_daily_usage WHERE group_name = 'physics'")
        ledger.close()


def test_the_home_page_links_to_the_usage_page(hub):
    browser = hub.login("ada")
    home = browser.get(hub.service_url(""), timeout=30)
    assert f'href="{hub.service_prefix}usage"' in home.text


@pytest.mark.hub_ahead(base_url="/jh/")
def test_the_service_reads_what_the_hub_records_in_the_default_ledger(make_hub):
    """No HubExtensionsUsage.db_url: the hub's capture and the service agree on the default place (next to
    the hub's database), and the service waits for the hub's migrations instead of racing."""
    demo = make_hub(base_url="/jh/")  # its own: a new hub, its service started beside it
    try:
        carol = demo.api(demo.token(demo.login("carol"), "carol"))
        demo.spawn(carol, "carol")
        demo.stop_server(carol, "carol")
        assert (demo.state / "hub-extensions-usage.sqlite").is_file()

        def recorded():
            r = get(carol, demo, "api/usage/sessions")
            assert r.status_code == 200, r.text
            return [s for s in r.json()["sessions"] if s["ended_at"]]

        wait_until(recorded, 30, "carol's ended session in the service's API", interval=0.5)
        [session] = recorded()
        assert (session["user"], session["end_reason"]) == ("carol", "user_stop")
    finally:
        demo.stop()
