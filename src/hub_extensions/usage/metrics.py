"""The ledger's Prometheus metrics, registered in the hub process (served on `/hub/metrics`).

Names follow JupyterHub's metrics.py (`<noun>_<verb>_<unit>`), prefixed `hub_extensions_`.
Labels are bounded by what the admin defines (profiles, groups, end reasons); series labelled
by user name exist only with `HubExtensionsUsage.per_user_metrics`.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from ..store.models import EndReason
from .reports import WINDOWS

#: From a minute to a week: sessions last minutes (a failed spawn) to days (a forgotten server).
DURATION_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 604800)


class UsageMetrics:
    """Gauges, histogram and counter of the ledger; one instance per hub process."""

    def __init__(self, registry: CollectorRegistry = REGISTRY, per_user: bool = False) -> None:
        self._registry = registry
        self.active_users = Gauge(
            "hub_extensions_active_users",
            "Users with real activity in the window ending today (1, 7 or 30 days)",
            ["window"],
            registry=registry,
        )
        self.active_users_by_group = Gauge(
            "hub_extensions_active_users_by_group",
            "Active users (as hub_extensions_active_users) who were in the JupyterHub group",
            ["window", "group"],
            registry=registry,
        )
        self.running_sessions = Gauge(
            "hub_extensions_running_sessions",
            "Server sessions running now (requested and not ended), by profile slug",
            ["profile"],
            registry=registry,
        )
        self.session_duration = Histogram(
            "hub_extensions_session_duration_seconds",
            "Seconds from a server's spawn request to its end, by profile and end reason",
            ["profile", "end_reason"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.write_failures = Counter(
            "hub_extensions_ledger_write_failures",
            "Ledger writes that could not reach the database when made (queued, replayed later)",
            registry=registry,
        )
        self.user_running: Gauge | None = None
        if per_user:
            self.enable_per_user()
        for window in WINDOWS:
            self.active_users.labels(window=window)
        self._profiles: set[str] = set()
        self._users: set[str] = set()

    def enable_per_user(self) -> None:
        if self.user_running is None:
            self.user_running = Gauge(
                "hub_extensions_user_running_sessions",
                "Server sessions running now, by user (HubExtensionsUsage.per_user_metrics)",
                ["user"],
                registry=self._registry,
            )

    @classmethod
    def of(cls, registry: CollectorRegistry = REGISTRY, per_user: bool = False) -> UsageMetrics:
        """The one instance of a registry (a metric name can be registered only once)."""
        metrics = _instances.get(id(registry))
        if metrics is None:
            metrics = _instances[id(registry)] = cls(registry, per_user)
        elif per_user:
            metrics.enable_per_user()
        return metrics

    def set_running(self, sessions: Iterable[tuple[str, str]]) -> None:
        """Running-session gauges from (user, profile) pairs; profiles seen before go to 0."""
        pairs = list(sessions)
        by_profile = Tally(profile for _, profile in pairs)
        self._profiles |= set(by_profile)
        for profile in self._profiles:
            self.running_sessions.labels(profile=profile).set(by_profile.get(profile, 0))
        if self.user_running is not None:
            by_user = Tally(user for user, _ in pairs)
            for user in self._users - set(by_user):
                self.user_running.remove(user)  # a user's series ends with their sessions
            for user, count in by_user.items():
                self.user_running.labels(user=user).set(count)
            self._users = set(by_user)

    def observe_end(self, profile: str, reason: EndReason | str, seconds: float) -> None:
        reason = EndReason(reason).value
        self.session_duration.labels(profile=profile, end_reason=reason).observe(max(seconds, 0))

    def set_active(self, counts: dict[str, int], by_group: dict[tuple[str, str], int]) -> None:
        for window, count in counts.items():
            self.active_users.labels(window=window).set(count)
        self.active_users_by_group.clear()  # a group deleted since has no series left
        for (window, group), count in by_group.items():
            self.active_users_by_group.labels(window=window, group=group).set(count)


_instances: dict[int, UsageMetrics] = {}
