"""Pricing the time the ledger accrues: each local day's seconds at that day's price version.

The ledger calls `Pricing.day_costs(row, parts)` on every heartbeat and at every session end, so
costs are written as time accrues: a later price version never changes them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .config import HubExtensionsCost
from .prices import Footprint, PriceVersion, hourly_rate, version_on


class Pricing:
    """Rates of ledger sessions under a price table (`HubExtensionsCost`), cached per footprint
    and day."""

    def __init__(
        self,
        versions: list[PriceVersion],
        *,
        mode: str = "resources",
        basis: str = "requests",
        overhead: float = 1.0,
    ) -> None:
        self.versions = versions
        self.mode = mode
        self.basis = basis
        self.overhead = overhead
        self._rates: dict[tuple, float] = {}
        self._days: dict[date, PriceVersion | None] = {}

    @classmethod
    def from_config(cls, cost: HubExtensionsCost) -> Pricing | None:
        """None when the hub has no price table (nothing is priced)."""
        if not cost.enabled:
            return None
        return cls(cost.versions(), mode=cost.mode, basis=cost.basis, overhead=cost.overhead_factor)

    def footprint(self, row: Any) -> Footprint:
        """What a session is billed for, from its recorded requests and limits."""
        if self.basis == "requests":
            cpu = row.cpu_request or row.cpu_limit or 0.0
            mem = row.mem_request_bytes or row.mem_limit_bytes or 0
        else:
            cpu = row.cpu_limit or row.cpu_request or 0.0
            mem = row.mem_limit_bytes or row.mem_request_bytes or 0
        return Footprint(float(cpu), int(mem), int(row.gpu_count or 0), row.gpu_type)

    def version(self, day: date) -> PriceVersion | None:
        if day not in self._days:
            if len(self._days) > 4096:
                self._days.clear()
            self._days[day] = version_on(self.versions, day)
        return self._days[day]

    def hourly(self, row: Any, day: date) -> float:
        """The session's hourly rate on `day`."""
        fp = self.footprint(row)
        version = self.version(day)
        key = (id(version), fp, row.profile_slug)
        rate = self._rates.get(key)
        if rate is None:
            if len(self._rates) > 65536:
                self._rates.clear()
            rate = self._rates[key] = hourly_rate(
                version, fp, row.profile_slug, mode=self.mode, overhead=self.overhead
            )
        return rate

    def day_costs(self, row: Any, parts: tuple[tuple[date, float, float], ...]) -> tuple:
        """What each of `parts` ((day, active, idle) seconds, from accrue_days) of session
        `row` cost, in order.

        Idle time costs as much as active time: the server holds its resources either way.
        """
        return tuple((a + i) / 3600 * self.hourly(row, day) for day, a, i in parts)
