"""Cost inside the hub: the budget check at spawn, cost metrics, stopping servers over budget.

`CostHooks` rides on the usage capture (hub_extensions.usage.capture): the capture's ledger
prices what it accrues, its pre-spawn hook asks `check_budget` first, and its heartbeat hands
over what the tick accrued for the metrics and, when the admin wants it, the over-budget stops.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
from tornado import web

from ..jupyterhub_internals import spawner_log_name
from ..usage.ledger import TickTally
from ..usage.spawner_details import session_fields
from .budget import COMMITTED_HOURS, budget_status, refusal, refusal_committed
from .config import HubExtensionsCost
from .pricing import Pricing

log = logging.getLogger("hub_extensions.cost")


class CostMetrics:
    """Prometheus series of cost; per-user ones only with HubExtensionsUsage.per_user_metrics."""

    def __init__(self, registry: CollectorRegistry, currency: str, per_user: bool) -> None:
        self.rate = Gauge(
            "hub_extensions_cost_rate_per_hour",
            f"What the running servers cost per hour, by profile ({currency})",
            ["profile"],
            registry=registry,
        )
        self.accrued = Counter(
            "hub_extensions_cost",
            f"Cost accrued by sessions since the hub started, by profile and group ({currency};"
            " group '' is every user)",
            ["profile", "group"],
            registry=registry,
        )
        self.checks_failed = Counter(
            "hub_extensions_budget_check_failures",
            "Budget checks at spawn that could not read the ledger (the spawn went ahead)",
            registry=registry,
        )
        self.refused = Counter(
            "hub_extensions_budget_refusals",
            "Spawns refused because a budget was spent",
            registry=registry,
        )
        self.user_accrued = (
            Counter(
                "hub_extensions_user_cost",
                f"Cost accrued since the hub started, by user ({currency})",
                ["user"],
                registry=registry,
            )
            if per_user
            else None
        )
        self._profiles: set[str] = set()

    def tick(self, tally: TickTally) -> None:
        """Set the series from what one heartbeat accrued (summed by the ledger)."""
        for (profile, group), cost in tally.costs.items():
            self.accrued.labels(profile=profile, group=group).inc(cost)
        if self.user_accrued is not None:
            for user, cost in tally.user_costs.items():
                self.user_accrued.labels(user=user).inc(cost)
        self._profiles |= set(tally.rates)
        for profile in self._profiles:
            self.rate.labels(profile=profile).set(tally.rates.get(profile, 0.0))


_metrics: dict[int, CostMetrics] = {}


class CostHooks:
    """What the usage capture calls for cost; built by `install` when there are prices."""

    def __init__(
        self,
        cost: HubExtensionsCost,
        timezone_name: str,
        registry: CollectorRegistry = REGISTRY,
        per_user: bool = False,
    ) -> None:
        self.cost = cost
        self.pricing = Pricing.from_config(cost)
        self.tz = ZoneInfo(timezone_name)
        key = id(registry)
        if key not in _metrics:
            _metrics[key] = CostMetrics(registry, cost.currency, per_user)
        self.metrics = _metrics[key]
        self.warned: dict[tuple[str, str], float] = {}  # server -> when it was warned
        self._turns = itertools.count()

    async def check_budget(self, spawner: Any, engine: Callable[[], Any]) -> None:
        """Refuse (403, saying when it resets) a spawn whose user or group pool is spent, or
        would be by one more hour of the user's other servers (budget.COMMITTED_HOURS).

        A ledger that cannot be read lets the spawn go ahead and counts it (fail open), unless
        `HubExtensionsCost.budget_fail_closed` is set (then a 503).
        """
        if not self.cost.has_budgets:
            return
        user = spawner.user
        groups = [g.name for g in getattr(user, "groups", [])]
        # counted before any await: the user's running servers, and of servers starting
        # together, those whose check began before this one's. JupyterHub marks a start as
        # pending before its pre-spawn hook runs, so a start not checked yet (no turn) is not
        # counted: it counts this one when its own check comes (else all would refuse each other)
        turn = next(self._turns)
        setattr(spawner, TURN, turn)
        others = [
            s
            for s in getattr(user, "spawners", {}).values()
            if s is not spawner and s.active and (s.ready or _checked_before(s, turn))
        ]
        committed = COMMITTED_HOURS * sum(self.hourly_rate(s) for s in others)
        db = engine()
        now = datetime.now(timezone.utc)
        try:
            if db is None:
                raise RuntimeError("the usage ledger is not ready")
            status = await asyncio.to_thread(
                budget_status, db, self.cost, user.name, groups, now, self.tz
            )
        except Exception as err:
            self.metrics.checks_failed.inc()
            log.warning("budget of %s not checked (ledger unavailable): %s", user.name, err)
            if self.cost.budget_fail_closed:
                refuse(503, BUDGET_UNCHECKED)
            return
        over = status.over
        short = status.short_for(committed) if others else None
        if over is not None or short is not None:
            self.metrics.refused.inc()
            setattr(spawner, TURN, None)  # refused: later checks no longer count this start
        if over is not None:
            refuse(403, refusal(over, self.cost, self.tz))
        if short is not None:
            refuse(403, refusal_committed(short, self.cost, committed, len(others)))

    def hourly_rate(self, spawner: Any) -> float:
        """What a server costs an hour, from what it asked for (as its session records it)."""
        if self.pricing is None:
            return 0.0
        try:
            fields = session_fields(spawner)
            row = SimpleNamespace(
                **{k: fields.get(k) for k in ROW_FIELDS}, profile_slug=fields["profile_slug"]
            )
            return self.pricing.hourly(row, datetime.now(self.tz).date())
        except Exception:  # a spawner we cannot read: counted as free rather than failing
            log.exception("hourly rate of %s not known", spawner_log_name(spawner))
            return 0.0

    async def enforce(self, app: Any, sessions: dict, engine: Callable[[], Any]) -> list:
        """With HubExtensionsCost.stop_over_budget: warn running servers over budget, stop them
        after the
        grace period. Returns the servers stopped (as (user, server name))."""
        if not (self.cost.stop_over_budget and self.cost.has_budgets) or not sessions:
            return []
        db = engine()
        if db is None:
            return []
        now = datetime.now(timezone.utc)
        stopped = []
        users: dict[str, Any] = {}
        for (name, server), tracked in list(sessions.items()):
            users.setdefault(name, []).append((server, tracked))
        for name, servers in users.items():
            spawner = servers[0][1].spawner
            groups = [g.name for g in getattr(spawner.user, "groups", [])]
            try:
                status = await asyncio.to_thread(
                    budget_status, db, self.cost, name, groups, now, self.tz
                )
            except Exception as err:  # try again at the next heartbeat
                log.warning("budget of %s not checked (ledger unavailable): %s", name, err)
                continue
            for server, tracked in servers:
                key = (name, server)
                if status.over is None:
                    self.warned.pop(key, None)
                    continue
                first = self.warned.setdefault(key, time.monotonic())
                if first == self.warned[key] and time.monotonic() - first < 1:
                    log.warning(
                        "%s's server %r is over budget; it stops in %.0f s unless the budget "
                        "grows: %s", name, server, self.cost.over_budget_grace_period,
                        refusal(status.over, self.cost, self.tz),
                    )  # fmt: skip
                if time.monotonic() - first >= self.cost.over_budget_grace_period:
                    tracked.stop_reason = "over_budget"
                    task = asyncio.ensure_future(_stop(app, name, server))
                    _stopping.add(task)
                    task.add_done_callback(_stopping.discard)
                    self.warned.pop(key, None)
                    stopped.append(key)
        return stopped

    def stop_deadline(self, user: str, server: str = "") -> float | None:
        """Seconds until a warned server is stopped, for the widget; None when not warned."""
        first = self.warned.get((user, server))
        if first is None:
            return None
        return max(0.0, self.cost.over_budget_grace_period - (time.monotonic() - first))


_stopping: set[asyncio.Future] = set()
#: The order in which starts were checked, on each spawner (see check_budget)
TURN = "_hub_extensions_budget_turn"


def _checked_before(spawner: Any, turn: int) -> bool:
    """Did this spawner's budget check begin before `turn` (and was it not refused)?"""
    other = getattr(spawner, TURN, None)
    return other is not None and other < turn


#: The session fields Pricing reads (see Pricing.footprint).
ROW_FIELDS = ("cpu_request", "cpu_limit", "mem_request_bytes", "mem_limit_bytes", "gpu_count",
              "gpu_type")  # fmt: skip
BUDGET_UNCHECKED = (
    "Budgets cannot be checked right now (the usage ledger is unavailable), and this hub "
    "starts no server without checking them. Try again in a few minutes; if this stays, "
    "tell the hub's admin."
)


def refuse(status: int, message: str) -> None:
    refused = web.HTTPError(status, message)
    refused.jupyterhub_message = message  # type: ignore[attr-defined]  # shown as it is
    raise refused


async def _stop(app: Any, name: str, server: str) -> None:
    """Stop a server as the hub's own stop does: its proxy route first, then the server."""
    user = app.users[name]
    spawner = user.spawners.get(server)
    if spawner is None or not spawner.active:
        return
    try:
        if spawner.ready:
            await app.proxy.delete_user(user, server)
        await user.stop(server)
    except Exception:
        log.exception("could not stop %s's server %r over budget", name, server)
