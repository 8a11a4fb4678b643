"""The cost report and its API: everyone's spend for holders of the usage scope (hub admins
hold it), one's own otherwise. Amounts come from the ledger's cost roll-ups, priced when the
time accrued (hub_extensions.cost), so a report of a past month never changes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tornado import web

from ..contract import USAGE_READ_SCOPE
from ..cost import spend
from ..cost.budget import budget_status
from ..cost.config import HubExtensionsCost
from ..usage.timeutil import month_end
from .handlers import BaseHandler
from .usage_handlers import UsageAPIHandler, _csv_lines, holds_usage_scope
from .usage_params import csv_cell

MONTH_RE = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z")
TOP = 10


class CostAPIHandler(UsageAPIHandler):
    @property
    def cost(self) -> HubExtensionsCost:
        cost = getattr(self.ctx, "cost", None)
        if cost is None or not cost.enabled:
            raise web.HTTPError(
                404,
                "This hub has no price table (HubExtensionsCost.prices), so there are no costs to "
                "show.",
            )
        return cost

    def month(self) -> tuple[date, date]:
        """The `month` parameter (default: this month) as its first and last day so far."""
        today = self.store.today()
        value = self.get_query_argument("month", today.strftime("%Y-%m"))
        m = MONTH_RE.match(value)
        if not m:
            raise web.HTTPError(400, f"month: {value[:20]!r} is not a month. Use YYYY-MM.")
        first = date(int(m[1]), int(m[2]), 1)
        if first > today:
            raise web.HTTPError(
                400, f"month: {value} is in the future. Use {today:%Y-%m} or before."
            )
        return first, min(month_end(first), today)

    async def everyone(self) -> tuple[HubExtensionsCost, date, date, list[dict[str, Any]]]:
        """The month's cost per user, for holders of the usage scope only (else 403)."""
        cost = self.cost
        if not self.can_read_all:
            raise web.HTTPError(403, self.forbidden("every user's cost"))
        first, last = self.month()
        users = await self.query(lambda ledger: spend.costs_by_user(ledger.engine, first, last))
        return cost, first, last, users


class CostReportHandler(CostAPIHandler):
    """Per user and per group, month to date: top spenders and a daily trend (scope only)."""

    @web.authenticated
    async def get(self) -> None:
        cost, first, last, users = await self.everyone()
        groups = await self.query(lambda ledger: spend.costs_by_group(ledger.engine, first, last))
        trend_from = first - timedelta(days=60)  # three months of trend for context
        daily = await self.query(lambda ledger: spend.daily_totals(ledger.engine, trend_from, last))
        budgets = {}
        if cost.has_budgets:
            budgets = {
                "user_budgets": cost.user_budgets,
                "default_user_budget": cost.default_user_budget,
                "group_budgets": cost.group_budgets,
                "period": cost.budget_period,
            }
        self.finish_json(
            {
                "currency": cost.currency,
                "month": first.strftime("%Y-%m"),
                "first_day": first,
                "last_day": last,
                "total": sum(u["cost"] for u in users),
                "users": users,
                "top": users[:TOP],
                "groups": groups,
                "daily": [[d.isoformat(), c] for d, c in daily],
                "budgets": budgets,
                "timezone": self.store.tz.key,
            }
        )


class CostReportCSVHandler(CostAPIHandler):
    """The month's cost per user and profile as CSV (scope only)."""

    @web.authenticated
    async def get(self) -> None:
        cost, first, _last, users = await self.everyone()
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        name = f"cost-{first:%Y-%m}.csv"
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        rows: list[list[Any]] = [["month", "user", "profile", "cost", "currency"]]
        for u in users:
            for profile, amount in sorted(u["profiles"].items()):
                rows.append(
                    [f"{first:%Y-%m}", csv_cell(u["user"]), csv_cell(profile),
                     f"{amount:.4f}", cost.currency]
                )  # fmt: skip
        self.finish(_csv_lines(rows))


class MyCostHandler(CostAPIHandler):
    """My month: spend, by profile, per day, and my budgets (anyone, for themselves)."""

    @web.authenticated
    async def get(self) -> None:
        cost = self.cost
        me = self.current_user_model
        first, last = self.month()
        name = me["name"]
        groups = list(me.get("groups") or [])

        def read(ledger) -> dict[str, Any]:
            daily = spend.user_daily_costs(ledger.engine, name, first, last)
            status = budget_status(
                ledger.engine, cost, name, groups, datetime.now(timezone.utc), ledger.tz
            )
            return {"daily": daily, "budgets": status.budgets}

        data = await self.query(read)
        self.finish_json(
            {
                "user": name,
                "currency": cost.currency,
                "month": first.strftime("%Y-%m"),
                "spent": sum(data["daily"].values()),
                "daily": [[d.isoformat(), c] for d, c in sorted(data["daily"].items())],
                "budgets": [
                    {
                        "kind": b.kind,
                        "name": b.name,
                        "limit": b.limit,
                        "spent": b.spent,
                        "over": b.over,
                        "resets": b.resets.isoformat(),
                    }
                    for b in data["budgets"]
                ],
                "timezone": self.store.tz.key,
            }
        )


class CostPageHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        store = getattr(self.ctx, "usage", None)
        cost = getattr(self.ctx, "cost", None)
        self.render_page(
            "cost.html",
            can_read_all=holds_usage_scope(self.current_user_model),
            scope=USAGE_READ_SCOPE,
            has_prices=bool(cost and cost.enabled),
            currency=cost.currency if cost else "",
            timezone=store.tz.key if store else "UTC",
            today=(store.today() if store else date.today()).isoformat(),
        )
