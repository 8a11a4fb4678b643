"""The user's cost widget on the hub's home and spawn pages, rendered by the hub itself.

JupyterHub calls a callable `template_vars` value with the page's user; this one reads the
ledger's roll-ups (two or three indexed queries, about a millisecond) so the widget costs the
page no extra request. The data and the widget's HTML, rendered once from them, are cached a
few seconds per user: a page rendered within that time makes no query and no template work
for the widget. A ledger that cannot be read leaves the widget out instead of failing the page.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..store.models import DailyUsage
from ..usage.timeutil import month_end
from .budget import budget_status, projected_exhaustion
from .config import HubExtensionsCost
from .prices import money
from .pricing import Pricing
from .spend import connected, running_session, user_daily_costs

log = logging.getLogger("hub_extensions.cost")
CACHE_SECONDS = 5.0
#: Longest the page waits for the ledger (the hub renders it on its event loop): a slow or
#: unreachable database costs a page this much once per CACHE_SECONDS, then nothing.
READ_TIMEOUT = 0.25
_reader = ThreadPoolExecutor(2, thread_name_prefix="hub-extensions-widget")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def widget_data(
    engine: Engine,
    cost: HubExtensionsCost,
    pricing: Pricing,
    tz: ZoneInfo,
    user: str,
    groups: list[str],
    now: datetime | None = None,
) -> dict[str, Any]:
    """What the widget shows: display data only (numbers, dates, names)."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(tz).date()
    first = today.replace(day=1)
    with engine.connect() as conn:  # one connection for the widget's few reads
        return _widget(conn, cost, pricing, tz, user, groups, now, today, first)


def _widget(conn, cost, pricing, tz, user, groups, now, today, first) -> dict[str, Any]:
    daily = user_daily_costs(conn, user, first, today)
    month_spend = sum(daily.values())
    session = running_session(conn, user)
    rate = session_cost = 0.0
    current = None
    if session is not None and session["ready_at"] is not None:
        rate = pricing.hourly(SimpleNamespace(**session), today)  # Pricing reads attributes
        session_cost = float(session["cost"])
        current = {
            "profile": session["profile_slug"],
            "rate": rate,
            "cost": session_cost,
            "hours": (session["active_seconds"] + session["idle_seconds"]) / 3600,
        }
    breakdown = _by_profile(conn, user, first, today)
    monthly = cost.budget_period == "monthly"
    status = (
        budget_status(conn, cost, user, groups, now, tz, known=daily if monthly else None)
        if cost.has_budgets
        else None
    )
    budget = None
    b = status.binding if status is not None else None
    if status is not None and b is not None:
        runs_out = projected_exhaustion(b, rate, now, tz)
        budget = {
            "kind": b.kind,
            "name": b.name,
            "limit": b.limit,
            "spent": b.spent,
            "remaining": b.remaining,
            "percent": min(100.0, round(100 * b.fraction, 1)),
            "over": b.over,
            "resets": b.resets.isoformat(),
            "runs_out": runs_out.astimezone(tz).strftime("%Y-%m-%d %H:%M") if runs_out else None,
            "warning": next(
                (t for t in reversed(cost.budget_warning_thresholds) if b.fraction >= t), None
            ),
            "period": status.period,
        }
    cur = cost.currency
    text = {
        "month_spend": money(month_spend, cur),
        "rate": money(rate, cur) if current else None,
        "session_cost": money(session_cost, cur) if current else None,
        "limit": money(b.limit, cur) if b else None,
        "spent": money(b.spent, cur) if b else None,
        "remaining": money(b.remaining, cur) if b else None,
    }
    for p in breakdown:
        p["text"] = money(p["cost"], cur)
    return {
        "text": text,
        "currency": cur,
        "month": first.strftime("%Y-%m"),
        "month_end": month_end(first).isoformat(),
        "month_spend": month_spend,
        "current": current,
        "profiles": breakdown,
        "budget": budget,
        "timezone": tz.key,
    }


def _by_profile(engine: Engine, user: str, first, last) -> list[dict[str, Any]]:
    t = DailyUsage.__table__
    query = (
        select(t.c.profile_slug, func.sum(t.c.cost), func.sum(t.c.seconds))
        .where(t.c.user == user, t.c.day.between(first, last))
        .group_by(t.c.profile_slug)
    )
    with connected(engine) as conn:
        rows = [
            {"profile": p or "(default)", "cost": float(c), "hours": float(s) / 3600}
            for p, c, s in conn.execute(query)
        ]
    return sorted(rows, key=lambda r: -r["cost"])


class CostWidget(dict):
    """What a page gets as `hub_extensions_cost`: the widget's data (a dict, as the
    `cost_widget` macro and admins' own templates read it) and its HTML, rendered once when
    the data was read. `{{ hub_extensions_cost }}` writes that HTML as it is (`__html__`)."""

    html: Markup

    def __html__(self) -> Markup:
        return self.html

    @property
    def alert(self) -> bool:
        """Does it warn (budget spent or nearly, a server about to be stopped)? The spawn page
        shows such a widget above the form, where it is read before choosing; otherwise below,
        so that the form is what the browser lays out and paints first."""
        budget = self.get("budget") or {}
        return bool(self.get("stop_in_minutes") or budget.get("over") or budget.get("warning"))


@functools.cache
def _macro() -> Callable[[dict], str]:
    """The `cost_widget` macro, compiled once per process (the suite's templates directory,
    autoescaped like JupyterHub's own environment)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )
    return env.get_template("hub_extensions/cost_widget.html").module.cost_widget  # type: ignore[attr-defined]


def rendered(data: dict[str, Any]) -> CostWidget:
    widget = CostWidget(data)
    # the macro's output: an autoescaped template's, so every value in it is escaped already
    widget.html = Markup(_macro()(data).strip())  # noqa: S704
    return widget


class WidgetVar:
    """The `template_vars` callable: `widget(user) -> CostWidget | None`, cached per user."""

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        cost: HubExtensionsCost,
        tz: ZoneInfo,
        stop_deadline: Callable[[str, str], float | None] | None = None,
    ) -> None:
        self._engine = engine
        self._stop_deadline = stop_deadline
        self.cost = cost
        self.pricing = Pricing.from_config(cost)
        self.tz = tz
        self._cache: dict[str, tuple[float, CostWidget | None]] = {}
        self._lock = threading.Lock()
        self.failures = 0

    def __deepcopy__(self, memo: dict) -> WidgetVar:
        return self  # config values are deep-copied when merged; this one is shared state

    def __call__(self, user: Any) -> CostWidget | None:
        if user is None or self.pricing is None:
            return None
        name = user.name
        hit = self._cache.get(name)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        engine = self._engine()
        if engine is None:
            return None
        groups = [g.name for g in getattr(user, "groups", [])]
        future = _reader.submit(widget_data, engine, self.cost, self.pricing, self.tz, name, groups)
        widget = None
        try:
            data = future.result(timeout=READ_TIMEOUT)
        except (SQLAlchemyError, FutureTimeout) as err:
            self.failures += 1
            log.warning("cost widget left out: the ledger cannot be read (%r)", err)
        else:
            if self._stop_deadline is not None:
                left = self._stop_deadline(name, "")
                data["stop_in_minutes"] = None if left is None else max(1, round(left / 60))
            widget = rendered(data)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[name] = (time.monotonic(), widget)
        return widget
