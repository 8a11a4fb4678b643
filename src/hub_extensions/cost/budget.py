"""Budgets: how much of a user's (and their groups') budget is spent, and when it resets.

Evaluated at spawn (refusing a start over budget with a 403 that says when it resets), for the
user's cost widget, and for stopping running servers over budget when the admin wants that.
Reads are day roll-ups only (cost/spend.py), one or two indexed queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from ..usage.timeutil import month_end
from .config import HubExtensionsCost
from .spend import group_daily_costs, user_daily_costs


@dataclass
class Budget:
    """One budget that applies to a user: their own, or a group's pool."""

    kind: str  # "user" or "group"
    name: str  # the user's or the group's name
    limit: float
    spent: float
    resets: date  # the day on which spending is back under the limit (or the period restarts)

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.spent)

    @property
    def fraction(self) -> float:
        return self.spent / self.limit if self.limit > 0 else 1.0  # a budget of 0 is spent

    @property
    def over(self) -> bool:
        return self.spent >= self.limit


@dataclass
class BudgetStatus:
    budgets: list[Budget] = field(default_factory=list)
    period: str = "monthly"
    first: date | None = None
    last: date | None = None

    @property
    def binding(self) -> Budget | None:
        """The budget closest to running out (the one to show and to enforce)."""
        if not self.budgets:
            return None
        return max(self.budgets, key=lambda b: (b.over, b.fraction))

    @property
    def over(self) -> Budget | None:
        return next((b for b in self.budgets if b.over), None)

    def short_for(self, committed: float) -> Budget | None:
        """The first budget that what is spent plus `committed` reaches (see COMMITTED_HOURS)."""
        return next((b for b in self.budgets if b.spent + committed >= b.limit), None)


#: A start is refused when the budget cannot pay, beyond what is spent, this many hours of
#: every other server the user runs or is starting (at its hourly rate). Without it, servers
#: started together (named servers) would each see the same unspent budget and together
#: overrun it many times before the first heartbeat counts them. The new server itself is not
#: counted: any budget not yet spent starts one server, as before.
COMMITTED_HOURS = 1.0


def period(cost: HubExtensionsCost, today: date) -> tuple[date, date]:
    """The days the budgets cover on `today`."""
    if cost.budget_period == "rolling":
        return today - timedelta(days=cost.budget_rolling_days - 1), today
    return today.replace(day=1), today


def _resets(cost: HubExtensionsCost, today: date, daily: dict[date, float], limit: float) -> date:
    """When a budget spent up to `limit` can start again: the next month, or (rolling) the
    first day on which the days still in the window sum to less than the limit."""
    if cost.budget_period == "monthly":
        return month_end(today.replace(day=1)) + timedelta(days=1)
    first, _ = period(cost, today)
    spent = sum(daily.values())
    day = today
    while spent >= limit and day < today + timedelta(days=cost.budget_rolling_days):
        spent -= daily.get(first + (day - today), 0.0)  # the oldest day leaves the window
        day += timedelta(days=1)
    return day if day > today else today + timedelta(days=1)


def budget_status(
    engine: Engine | Connection,
    cost: HubExtensionsCost,
    user: str,
    groups: list[str],
    now: datetime,
    tz: ZoneInfo,
    known: dict[date, float] | None = None,
) -> BudgetStatus:
    """Every budget that applies to `user` (a member of `groups`) and what is spent of it."""
    today = now.astimezone(tz).date()
    first, last = period(cost, today)
    status = BudgetStatus(period=cost.budget_period, first=first, last=last)
    limit = cost.user_budgets.get(user, cost.default_user_budget)
    if limit is not None:
        # the caller may already have this period's days (the widget reads the month)
        daily = known if known is not None else user_daily_costs(engine, user, first, last)
        status.budgets.append(
            Budget("user", user, limit, sum(daily.values()), _resets(cost, today, daily, limit))
        )
    pooled = [g for g in groups if g in cost.group_budgets]
    for group, daily in group_daily_costs(engine, pooled, first, last).items():
        g_limit = cost.group_budgets[group]
        status.budgets.append(
            Budget("group", group, g_limit, sum(daily.values()),
                   _resets(cost, today, daily, g_limit))
        )  # fmt: skip
    return status


def refusal(budget: Budget, cost: HubExtensionsCost, tz: ZoneInfo) -> str:
    """The message a user sees when a start is refused: whose budget, and when it resets."""
    resets = datetime.combine(budget.resets, time(0), tzinfo=tz)
    when = f"{resets:%Y-%m-%d} at 00:00 {tz.key}"
    whose = "Your budget" if budget.kind == "user" else f"The budget of group {budget.name!r}"
    period_text = "this month" if cost.budget_period == "monthly" else (
        f"the last {cost.budget_rolling_days} days"
    )  # fmt: skip
    return (
        f"{whose} is spent: {budget.spent:.2f} of {budget.limit:.2f} {cost.currency} "
        f"{period_text}. You can start a server again on {when}, or ask the hub's admin "
        "for a larger budget."
    )


def refusal_committed(
    budget: Budget, cost: HubExtensionsCost, committed: float, servers: int
) -> str:
    """The message when the user's other servers would spend what is left of the budget."""
    whose = "your budget" if budget.kind == "user" else f"the budget of group {budget.name!r}"
    return (
        f"Your {servers} other server(s), running or starting, would spend what is left of {whose} "
        f"({budget.remaining:.2f} of {budget.limit:.2f} {cost.currency}) within the hour: "
        f"together they cost {committed:.2f} {cost.currency} an hour. Stop one of them first, "
        "or ask the hub's admin for a larger budget."
    )


def projected_exhaustion(
    budget: Budget, hourly_rate: float, now: datetime, tz: ZoneInfo
) -> datetime | None:
    """When the remaining budget runs out at `hourly_rate`, if before it resets."""
    if hourly_rate <= 0 or budget.over:
        return None
    at = now + timedelta(hours=budget.remaining / hourly_rate)
    resets = datetime.combine(budget.resets, time(0), tzinfo=tz).astimezone(timezone.utc)
    return at if at < resets else None
