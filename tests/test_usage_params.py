"""The usage API's parameters and CSV cells: every bad value is refused with its name and fix."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from traitlets.config import Config

from hub_extensions.service import usage_params as p
from hub_extensions.service.usage_handlers import holds_usage_scope
from hub_extensions.usage import Ledger
from hub_extensions.usage.charts import daily_by_profile
from hub_extensions.wiring import USAGE_DB_URL_ENV, USAGE_READ_SCOPE, wire

pytestmark = pytest.mark.unit
PARIS = ZoneInfo("Europe/Paris")


def args(**kw) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in kw.items()}


def test_no_parameters_mean_everything_the_caller_may_see_first_page():
    f = p.session_filters({}, PARIS)
    assert f == p.SessionFilters(limit=100, offset=0)
    assert p.session_filters({}, PARIS, paged=False).limit is None


def test_dates_are_days_in_the_ledger_time_zone_and_the_end_day_is_included():
    f = p.session_filters(args(start="2026-03-01", end="2026-03-31"), PARIS)
    assert f.start == datetime(2026, 3, 1, tzinfo=PARIS)
    assert f.end == datetime(2026, 4, 1, tzinfo=PARIS)
    assert f.start.astimezone(timezone.utc) == datetime(2026, 2, 28, 23, tzinfo=timezone.utc)


def test_date_times_keep_their_offset_or_take_the_ledger_zone():
    f = p.session_filters(args(start="2026-03-01T10:00:00+00:00", end="2026-03-01T12:30"), PARIS)
    assert f.start == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert f.end == datetime(2026, 3, 1, 12, 30, tzinfo=PARIS)


def test_reason_running_means_not_ended_and_empty_fields_mean_no_filter():
    f = p.session_filters(args(reason="running", user="", profile=" "), PARIS)
    assert f.ledger_kwargs() == {
        "user": None, "profile": None, "start": None, "end": None,
        "limit": 100, "offset": 0, "running": True,
    }  # fmt: skip
    assert p.session_filters(args(reason="cull"), PARIS).ledger_kwargs()["reason"] == "cull"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (args(start="2026-13-01"), "start: '2026-13-01' is not a date or date-time"),
        (args(start="yesterday"), "start: 'yesterday' is not a date or date-time. Use YYYY-MM-DD"),
        (args(end="2026-W10"), "end: '2026-W10' is not a date"),
        (args(start="2026-03-02", end="2026-03-01"), "end: '2026-03-01' is not after start"),
        (args(reason="crashed"), "reason: 'crashed' is not one of user_stop, cull,"),
        (args(limit="0"), "limit: '0' must be a whole number from 1 to 1000"),
        (args(limit="1001"), "limit: '1001' must be a whole number from 1 to 1000"),
        (args(limit="-5"), "limit: '-5' must be a whole number"),
        (args(offset="ten"), "offset: 'ten' must be a whole number from 0"),
        (args(user=["ada", "bob"]), "user: given 2 times. Give it once"),
        (args(user="x" * 300), "user: must be printable text of at most 255 characters"),
        (args(profile="gpu\x00"), "profile: must be printable text"),
        (args(usr="ada"), "usr: unknown parameter. Use one of: user, profile,"),
    ],
)
def test_bad_session_parameters_are_named_with_the_fix(query, message):
    with pytest.raises(p.ParamError) as err:
        p.session_filters(query, PARIS)
    assert str(err.value).startswith(message)


def test_summary_parameters():
    assert p.summary_params({}) == (None, None, False)
    assert p.summary_params(args(month="2026-02", all="1")) == ("2026-02", None, True)
    assert p.summary_params(args(user="ada")) == (None, "ada", False)
    for query, message in (
        (args(month="2026-2"), "month: '2026-2' is not a month. Use YYYY-MM"),
        (args(all="yes"), "all: 'yes' must be 1 or 0"),
        (args(all="1", user="ada"), "all: give either all=1 or user=NAME, not both"),
    ):
        with pytest.raises(p.ParamError, match="^" + message):
            p.summary_params(query)


def test_chart_ranges_default_to_30_days_and_stay_under_two_years():
    today = date(2026, 5, 3)
    assert p.daily_params({}, today) == (date(2026, 4, 4), today, None)
    assert p.active_users_params(args(window="weekly", group="physics"), today) == (
        date(2026, 4, 4), today, "weekly", "physics",
    )  # fmt: skip
    for query, message in (
        (args(window="yearly"), "window: 'yearly' is not one of daily, weekly, monthly"),
        (args(start="2020-01-01"), "start: the range 2020-01-01 to 2026-05-03 is longer than"),
        (args(start="2026-05-04"), "end: 2026-05-03 is before start 2026-05-04"),
        (args(end="2026/05/03"), "end: '2026/05/03' is not a date. Use YYYY-MM-DD"),
    ):
        with pytest.raises(p.ParamError, match="^" + message):
            p.active_users_params(query, today)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\r\nx", "'\r\nx"),
        ("ada", "ada"),
        ("a=b", "a=b"),
        (-1.5, -1.5),  # numbers stay numbers
        (3, 3),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert p.csv_cell(value) == cell


def test_a_csv_row_round_trips_through_a_reader_with_local_times(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path}/l.sqlite", timezone="Europe/Paris")
    ledger.start()
    at = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    ledger.open_session(user="=cmd|' /C calc'!A0", requested_at=at, profile_slug="-gpu",
                        groups=["b", "a"])  # fmt: skip
    [session] = ledger.sessions()
    row = p.csv_row(session, PARIS)
    buf = io.StringIO()
    csv.writer(buf).writerows([p.CSV_COLUMNS, row])
    header, parsed = list(csv.reader(io.StringIO(buf.getvalue())))
    record = dict(zip(header, parsed, strict=True))
    assert record["user"] == "'=cmd|' /C calc'!A0"
    assert record["profile"] == "'-gpu"
    assert record["requested_at"] == "2026-03-01T10:00:00+01:00"
    assert record["ended_at"] == ""
    assert record["groups"] == "a b"
    ledger.close()


def test_daily_series_has_every_day_and_hours_per_profile(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path}/l.sqlite")
    ledger.start()
    t0 = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    sid = ledger.open_session(user="ada", requested_at=t0, profile_slug="gpu")
    ledger.mark_ready(sid, t0)
    ledger.close_session(sid, t0.replace(hour=11), "user_stop", last_activity=t0.replace(hour=11))
    ledger.open_session(user="bob", requested_at=t0.replace(day=3), profile_slug="")
    data = daily_by_profile(ledger.engine, date(2026, 3, 1), date(2026, 3, 3))
    assert data == {
        "days": ["2026-03-01", "2026-03-02", "2026-03-03"],
        "sessions": [1, 0, 1],
        "hours": {"": [0.0, 0.0, 0.0], "gpu": [2.0, 0.0, 0.0]},
    }
    assert daily_by_profile(ledger.engine, date(2026, 3, 1), date(2026, 3, 3), "bob")[
        "sessions"
    ] == [0, 0, 1]
    ledger.close()


def test_admin_tokens_and_scope_holders_read_everything_others_do_not():
    """Admin powers come from the token's scopes: the hub reports `admin: true` for an admin's
    token whatever it was narrowed to (#13)."""
    assert holds_usage_scope(
        {"kind": "user", "name": "a", "admin": True, "scopes": ["admin:users"]}
    )
    assert holds_usage_scope({"kind": "user", "name": "a", "admin": True, "scopes": ["admin-ui"]})
    assert holds_usage_scope({"kind": "user", "name": "b", "scopes": [USAGE_READ_SCOPE]})
    assert not holds_usage_scope({"kind": "user", "name": "c", "admin": False, "scopes": ["self"]})
    # an admin's token narrowed to the service (like the spawn form's) acts as a plain user
    narrow = ["access:services!service=hub-extensions", "read:users:name!user=a"]
    assert not holds_usage_scope({"kind": "user", "name": "a", "admin": True, "scopes": narrow})
    # a filtered admin scope is not admin powers over everyone
    filtered = ["admin:users!group=class", "admin-ui!user=a"]
    assert not holds_usage_scope({"kind": "user", "name": "a", "scopes": filtered})
    assert not holds_usage_scope({"kind": "service", "name": "s", "admin": True, "scopes": []})


def test_wiring_defines_the_scope_and_lets_the_service_tokens_carry_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    c = Config()
    c.JupyterHub.custom_scopes = {"custom:mine:read": {"description": "mine"}}
    c.JupyterHub.db_url = "sqlite:///state/jupyterhub.sqlite"
    added = wire(c).JupyterHub
    assert set(added.custom_scopes) == {"custom:mine:read", USAGE_READ_SCOPE}
    [ours] = [s for s in added.services if s["name"] == "hub-extensions"]
    assert ours["oauth_client_allowed_scopes"] == [USAGE_READ_SCOPE, "admin-ui"]
    # the hub's default ledger place, computed in the hub, where the service will read it
    assert ours["environment"][USAGE_DB_URL_ENV] == (
        f"sqlite:///{tmp_path / 'state' / 'hub-extensions-usage.sqlite'}"
    )
    # a valid JupyterHub custom scope name
    from jupyterhub.scopes import _custom_scope_pattern

    assert _custom_scope_pattern.match(USAGE_READ_SCOPE)
