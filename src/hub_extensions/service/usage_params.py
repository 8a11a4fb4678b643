"""Query parameters of the usage API, each checked once (messages name it), and CSV cells.

Kept free of tornado so the rules are unit-tested on their own; handlers turn a `ParamError`
into a 400 whose message is the error's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..store.models import EndReason
from ..usage.reports import MAX_LIMIT, WINDOWS

#: Query arguments as tornado holds them, decoded: name -> every value given.
Args = Mapping[str, Sequence[str]]

DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
DATETIME_RE = re.compile(
    r"\A\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?\Z"
)
MONTH_RE = re.compile(r"\A\d{4}-(0[1-9]|1[0-2])\Z")
#: An end reason the table can filter on besides EndReason: sessions not ended yet.
RUNNING = "running"
REASONS = (*(r.value for r in EndReason), RUNNING)
DEFAULT_LIMIT = 100
MAX_OFFSET = 10_000_000
#: Longest range a chart may ask for, in days (two years).
MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 30
MAX_NAME = 255


class ParamError(ValueError):
    """A query parameter that cannot be used; the message starts with its name."""


def check_known(args: Args, allowed: Sequence[str]) -> None:
    """Unknown parameters are refused, so a typo (`?usr=ada`) does not silently widen a query."""
    for name in args:
        if name not in allowed:
            raise ParamError(
                f"{name}: unknown parameter. Use one of: {', '.join(allowed)}, or none"
            )


def single(args: Args, name: str) -> str | None:
    """The one value of `name`; None when absent or empty (an empty form field means no filter)."""
    values = args.get(name) or []
    if len(values) > 1:
        raise ParamError(f"{name}: given {len(values)} times. Give it once")
    value = values[0].strip() if values else ""
    return value or None


def name_value(args: Args, name: str) -> str | None:
    value = single(args, name)
    if value is not None and (len(value) > MAX_NAME or not value.isprintable()):
        raise ParamError(f"{name}: must be printable text of at most {MAX_NAME} characters")
    return value


def whole_number(args: Args, name: str, default: int, low: int, high: int) -> int:
    value = single(args, name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ParamError(f"{name}: {value!r} must be a whole number from {low} to {high}")
    return int(value)


def day_value(args: Args, name: str) -> date | None:
    value = single(args, name)
    if value is None:
        return None
    try:
        if DATE_RE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ParamError(f"{name}: {value!r} is not a date. Use YYYY-MM-DD, e.g. 2026-11-03")


def instant_value(args: Args, name: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """A date (its midnight in `tz`; the next one for an end, so the end day is included) or an
    ISO date-time (without an offset it is a time in `tz`)."""
    value = single(args, name)
    if value is None:
        return None
    try:
        if DATE_RE.match(value):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(0), tzinfo=tz)
        if DATETIME_RE.match(value):
            instant = datetime.fromisoformat(value)
            return instant if instant.tzinfo else instant.replace(tzinfo=tz)
    except ValueError:
        pass
    raise ParamError(
        f"{name}: {value!r} is not a date or date-time. Use YYYY-MM-DD (a day in {tz.key}) "
        "or an ISO date-time such as 2026-11-03T14:30:00+01:00"
    )


@dataclass(frozen=True)
class SessionFilters:
    """What `api/usage/sessions` (and its CSV) may filter on."""

    user: str | None = None
    profile: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    reason: str | None = None
    limit: int | None = DEFAULT_LIMIT
    offset: int = 0

    def ledger_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `Ledger.sessions`."""
        kw: dict[str, Any] = dict(
            user=self.user, profile=self.profile, start=self.start, end=self.end,
            limit=self.limit, offset=self.offset,
        )  # fmt: skip
        if self.reason == RUNNING:
            kw["running"] = True
        elif self.reason is not None:
            kw["reason"] = self.reason
        return kw

    def query(self) -> dict[str, str]:
        """The filters as query parameters (dates and times in ISO), e.g. for a CSV link."""
        out = {"user": self.user, "profile": self.profile, "reason": self.reason}
        for key in ("start", "end"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat()
        return {k: v for k, v in out.items() if v is not None}


SESSION_PARAMS = ("user", "profile", "start", "end", "reason", "limit", "offset")


def session_filters(args: Args, tz: ZoneInfo, *, paged: bool = True) -> SessionFilters:
    """Filters of a sessions query. Paged (JSON): limit 1 to 1000, default 100; the CSV export
    returns every match unless a limit is given."""
    check_known(args, SESSION_PARAMS)
    start = instant_value(args, "start", tz, end=False)
    end = instant_value(args, "end", tz, end=True)
    if start is not None and end is not None and end <= start:
        raise ParamError(
            f"end: {single(args, 'end')!r} is not after start {single(args, 'start')!r}"
        )
    reason = single(args, "reason")
    if reason is not None and reason not in REASONS:
        raise ParamError(f"reason: {reason!r} is not one of {', '.join(REASONS)}")
    default = DEFAULT_LIMIT if paged else None
    limit = single(args, "limit")
    return SessionFilters(
        user=name_value(args, "user"),
        profile=name_value(args, "profile"),
        start=start,
        end=end,
        reason=reason,
        limit=default if limit is None else whole_number(args, "limit", 0, 1, MAX_LIMIT),
        offset=whole_number(args, "offset", 0, 0, MAX_OFFSET),
    )


def flag(args: Args, name: str) -> bool:
    value = single(args, name)
    if value is None or value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise ParamError(f"{name}: {value!r} must be 1 or 0 (true or false)")


def summary_params(args: Args) -> tuple[str | None, str | None, bool]:
    """(month 'YYYY-MM' or None for this month, user or None, all users?)."""
    check_known(args, ("month", "user", "all"))
    month = single(args, "month")
    if month is not None and not MONTH_RE.match(month):
        raise ParamError(f"month: {month!r} is not a month. Use YYYY-MM, e.g. 2026-11")
    user, everyone = name_value(args, "user"), flag(args, "all")
    if user is not None and everyone:
        raise ParamError("all: give either all=1 or user=NAME, not both")
    return month, user, everyone


def day_range(args: Args, today: date) -> tuple[date, date]:
    """start and end days (inclusive); by default the 30 days ending today."""
    end = day_value(args, "end") or today
    start = day_value(args, "start") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if end < start:
        raise ParamError(f"end: {end} is before start {start}")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ParamError(
            f"start: the range {start} to {end} is longer than {MAX_RANGE_DAYS} days; "
            "ask for a shorter one"
        )
    return start, end


def daily_params(args: Args, today: date) -> tuple[date, date, str | None]:
    """start, end and user of `api/usage/daily`."""
    check_known(args, ("start", "end", "user"))
    start, end = day_range(args, today)
    return start, end, name_value(args, "user")


def active_users_params(args: Args, today: date) -> tuple[date, date, str, str | None]:
    """start, end, window and group of `api/usage/active-users`."""
    check_known(args, ("start", "end", "window", "group"))
    start, end = day_range(args, today)
    window = single(args, "window") or "daily"
    if window not in WINDOWS:
        raise ParamError(f"window: {window!r} is not one of {', '.join(WINDOWS)}")
    return start, end, window, name_value(args, "group")


# --- output ---------------------------------------------------------------------------------

#: Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id", "user", "server_name", "profile", "requested_at", "ready_at", "ended_at",
    "end_reason", "end_inferred", "hours", "active_hours", "idle_hours", "image", "build_repo",
    "build_ref", "cpu_limit", "mem_limit_bytes", "gpu_count", "gpu_type", "groups",
)  # fmt: skip


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: formulas get a leading apostrophe; numbers stay."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def local_iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None


def session_json(session: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """A ledger session for the API: times in ISO in the ledger's time zone, hours added."""
    out = dict(session)
    for key in ("requested_at", "ready_at", "ended_at", "last_seen_at"):
        out[key] = local_iso(session.get(key), tz)
    out["profile"] = session["profile_slug"]
    out["hours"] = round(session["seconds"] / 3600, 4)
    return out


def csv_row(session: dict[str, Any], tz: ZoneInfo) -> list[Any]:
    s = session_json(session, tz)
    s["active_hours"] = round(session["active_seconds"] / 3600, 4)
    s["idle_hours"] = round(session["idle_seconds"] / 3600, 4)
    s["groups"] = " ".join(session.get("groups") or [])
    return [csv_cell(s.get(column)) for column in CSV_COLUMNS]
