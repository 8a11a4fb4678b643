"""Session capture inside the hub: spawner hooks, server-action events, heartbeat, reconciliation.

How it runs in the hub without patching it:
- `Spawner.pre_spawn_hook` / `post_stop_hook`, chained after the admin's (hooks.py), open and
  close sessions; the stop's end reason is read from its code path (stop_reasons.py);
- JupyterHub's `server-action` events (`start`, `stop`) through the app's `event_logger` mark a
  session ready (and close one a hook missed);
- once the hub has started (jupyterhub_internals.hub_started), reconciliation, then a heartbeat and
  a refresh of the active-user gauges, as tornado PeriodicCallbacks.
Every ledger call runs in one worker thread, in the order made, never on the event loop; the
ledger is a FailOpenLedger, so a database outage never fails a spawn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from jupyterhub import orm
from jupyterhub.spawner import LocalProcessSpawner
from prometheus_client import REGISTRY, CollectorRegistry
from tornado.ioloop import PeriodicCallback
from traitlets.config import Config

from ..hub_classes import configured_class, configured_value
from ..jupyterhub_internals import hub_started, spawner_log_name
from ..options import options_for
from ..store.models import EndReason
from .config import HubExtensionsUsage
from .fail_open import FailOpenLedger
from .hooks import chain_post_stop, chain_pre_spawn
from .ledger import Ledger, new_session_id
from .metrics import UsageMetrics
from .reports import WINDOWS
from .spawner_details import chosen_profile, ready_details, session_fields
from .stop_reasons import AT_START, classify, current_frames
from .timeutil import local_day

#: Until attached to a hub, whose own logger (`app.log`) is used after.
log = logging.getLogger("hub_extensions.usage")
SERVER_ACTION = "https://schema.jupyter.org/jupyterhub/events/server-action"
#: Longest a stop waits for its ledger write (the write goes on after; the stop does not wait).
STOP_WRITE_WAIT = 10.0
#: Servers the heartbeat looks at between two yields to the event loop
LOOP_SLICE = 500
Key = tuple[str, str]  # (user name, server name)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    """JupyterHub's orm times are naive UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass
class Tracked:
    """A session of a server this hub runs now."""

    id: int
    spawner: Any
    profile: str
    requested_at: datetime
    ready: bool = False
    last_activity: datetime | None = None
    stop_reason: str | None = None  # set by whoever stops it on purpose (e.g. over budget)


class UsageCapture:
    """Records the sessions of one hub in its ledger; created by `install`."""

    def __init__(
        self,
        usage: HubExtensionsUsage,
        registry: CollectorRegistry = REGISTRY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.usage = usage
        self.clock = clock
        self.metrics = UsageMetrics.of(registry, per_user=usage.per_user_metrics)
        self.sessions: dict[Key, Tracked] = {}
        self.ledger: FailOpenLedger | None = None
        self.app: Any = None
        self.log = log
        self.started = False
        self._executor: ThreadPoolExecutor | None = None
        self._callbacks: list[Any] = []
        self._adopt_pending = False
        self._beating = False
        #: budget check, cost metrics, over-budget stops (hub_extensions.cost.hub), with prices
        self.cost_hooks: Any = None

    def engine(self) -> Any:
        """The ledger's engine once it is migrated and reachable, for reads; else None."""
        if self.ledger is None or not self.started or not self.ledger.available:
            return None
        return self.ledger.ledger.engine

    # --- plumbing ----------------------------------------------------------------------------

    def open_ledger(self, hub_db_url: str = "", cwd: str | None = None) -> None:
        """Make the ledger object (no database I/O: it migrates at start, in the worker)."""
        ledger = Ledger.from_config(self.usage, hub_db_url, cwd if cwd is not None else os.getcwd())
        if self.cost_hooks is not None:
            ledger.pricing = self.cost_hooks.pricing  # accrued time is priced as it accrues
        self.ledger = FailOpenLedger(ledger)
        self.ledger.log = self.log
        # one thread: writes land in the order they were made (open, ready, heartbeat, close)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hub-extensions-ledger")

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """In the worker: one ledger call; errors are logged (a ledger problem never spreads)."""
        assert self.ledger is not None
        before = self.ledger.write_failures
        try:
            return getattr(self.ledger, name)(*args, **kwargs)
        except Exception:
            self.log.exception("hub-extensions: usage ledger %s failed", name)
            return None
        finally:
            failed = self.ledger.write_failures - before
            if failed > 0:
                self.metrics.write_failures.inc(failed)

    def submit(self, name: str, *args: Any, **kwargs: Any) -> asyncio.Future:
        """Queue a ledger call on the worker now (order kept); await the result if needed."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, partial(self._call, name, *args, **kwargs))

    def _update_running(self) -> None:
        self.metrics.set_running((user, t.profile) for (user, _), t in self.sessions.items())

    # --- hooks -------------------------------------------------------------------------------

    async def pre_spawn(self, spawner: Any) -> None:
        """Open a session for this spawn request (after the admin's hook accepted it)."""
        if self.ledger is None:
            return
        if self.cost_hooks is not None:  # over budget: a 403 saying when it resets
            await self.cost_hooks.check_budget(spawner, self.engine)
        try:
            key = (spawner.user.name, spawner.name or "")
            old = self.sessions.pop(key, None)
            now = self.clock()
            if old is not None:  # its stop went unseen: it ended by now at the latest
                self._close(old, now, EndReason.found_dead, inferred=True)
            fields = session_fields(spawner)
            fields["profile_slug"] = chosen_profile(spawner)
            sid = new_session_id()
            self.submit("open_session", requested_at=now, session_id=sid, **fields)
            self.sessions[key] = Tracked(sid, spawner, fields["profile_slug"], now)
            self._update_running()
        except Exception:
            self.log.exception(
                "hub-extensions: could not record the spawn of %s", spawner_log_name(spawner)
            )

    def post_stop(self, spawner: Any) -> Awaitable[None]:
        """Close the server's session; the reason comes from the code path of this stop."""
        try:
            tracked = self.sessions.get((spawner.user.name, spawner.name or ""))
            if tracked is None or tracked.spawner is not spawner or self.ledger is None:
                return _nothing()
            reason, inferred = classify(current_frames(), tracked.ready)
            if tracked.stop_reason is not None:
                reason, inferred = tracked.stop_reason, False
            if reason == AT_START:
                return _nothing()
            del self.sessions[(spawner.user.name, spawner.name or "")]
            future = self._close(tracked, self.clock(), EndReason(reason), inferred)
        except Exception:
            self.log.exception(
                "hub-extensions: could not record the stop of %s", spawner_log_name(spawner)
            )
            return _nothing()
        return _wait_briefly(future)

    def _close(self, t: Tracked, at: datetime, reason: EndReason, inferred: bool):
        # the last activity seen by the heartbeat: User.stop has just set it to 'now'
        future = self.submit(
            "close_session", t.id, at, reason, inferred=inferred, last_activity=t.last_activity
        )
        self.metrics.observe_end(t.profile, reason, (at - t.requested_at).total_seconds())
        self._update_running()
        return future

    def _mark_ready(self, t: Tracked, at: datetime) -> None:
        t.ready = True
        t.last_activity = _aware(_orm_last_activity(t.spawner)) or at
        try:
            details = ready_details(t.spawner)
        except Exception:
            self.log.exception(
                "hub-extensions: no final resources for %s", spawner_log_name(t.spawner)
            )
            details = {}
        self.submit("mark_ready", t.id, at, details=details)

    async def on_server_action(self, logger: Any, schema_id: str, data: dict) -> None:
        """JupyterHub's server-action event: `start` means ready; `stop` closes a missed one."""
        key = (data.get("username", ""), data.get("servername", ""))
        tracked = self.sessions.get(key)
        if tracked is None:
            return
        if data.get("action") == "start" and not tracked.ready:
            self._mark_ready(tracked, self.clock())
        elif data.get("action") == "stop" and not tracked.spawner.active:
            del self.sessions[key]
            self._close(tracked, self.clock(), EndReason.user_stop, inferred=False)

    # --- start, reconciliation, heartbeat ----------------------------------------------------

    def attach(self, app: Any) -> None:
        """Start once `app` (the JupyterHub being initialized) has started."""
        self.app = app
        self.log = app.log
        self.open_ledger(app.db_url)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # not inside a running hub (a test of the wiring)
        self._start_task = asyncio.ensure_future(self._start_when_ready())

    async def _start_when_ready(self) -> None:
        try:
            await self._start()
        except Exception:
            self.log.exception("hub-extensions: the usage ledger did not start; nothing recorded")

    async def _start(self) -> None:
        app = self.app
        started = hub_started(app)
        if started is not None:
            await started
        await self.submit("start")
        if getattr(app, "eventlog", None) is not None:
            app.eventlog.add_listener(schema_id=SERVER_ACTION, listener=self.on_server_action)
        await self.reconcile()
        self.started = True
        await self.refresh_active_users()
        for callback, seconds in (
            (self.heartbeat, self.usage.heartbeat_interval),
            (self.refresh_active_users, self.usage.active_users_refresh_interval),
        ):
            pc = PeriodicCallback(callback, seconds * 1000, jitter=0.01)
            pc.start()
            self._callbacks.append(pc)
        self.log.info(
            "hub-extensions: usage ledger recording (heartbeat every %ss)",
            self.usage.heartbeat_interval,
        )

    def _running_servers(self) -> dict[Key, Any]:
        running = {}
        for user in list(self.app.users.values()):
            for name, spawner in list(user.spawners.items()):
                if spawner.active:
                    running[(user.name, name)] = spawner
        return running

    async def reconcile(self) -> None:
        """Close sessions whose server is gone at their last-seen time; adopt running ones."""
        running = self._running_servers()
        before = {row["id"]: row for row in (await self.submit("running_sessions") or [])}
        result = await self.submit("reconcile", self.clock(), list(running))
        if result is None:  # queued (database down): adopt once the replay has run
            self._adopt_pending = True
            return
        for sid in result.closed:
            row = before.get(sid)
            if row is not None:
                seconds = (row["last_seen_at"] - row["requested_at"]).total_seconds()
                self.metrics.observe_end(row["profile_slug"], EndReason.reconciled, seconds)
        for key, sid in result.adopted.items():
            row = before.get(sid) or {}
            self._adopt(key, running[key], sid, row)
        for key in result.unknown:  # running, never recorded (e.g. started before the ledger)
            spawner = running[key]
            at = _aware(spawner.orm_spawner.started) or self.clock()
            fields = session_fields(spawner)
            fields["profile_slug"] = chosen_profile(spawner)
            sid = new_session_id()
            self.submit("open_session", requested_at=at, session_id=sid, **fields)
            self.sessions[key] = Tracked(sid, spawner, fields["profile_slug"], at)
        if result.closed or result.adopted or result.unknown:
            self.log.info(
                "hub-extensions: reconciled the usage ledger: %i closed, %i adopted, %i new",
                len(result.closed), len(result.adopted), len(result.unknown),
            )  # fmt: skip
        self._update_running()

    def _adopt(self, key: Key, spawner: Any, sid: int, row: dict) -> None:
        requested = row.get("requested_at") or self.clock()
        t = Tracked(sid, spawner, row.get("profile_slug", ""), requested)
        t.ready = row.get("ready_at") is not None
        t.last_activity = _aware(_orm_last_activity(spawner))
        self.sessions[key] = t

    async def _adopt_after_outage(self) -> None:
        if not self.ledger or not self.ledger.available:
            return
        running = self._running_servers()
        rows = await self.submit("running_sessions")
        if rows is None:
            return
        self._adopt_pending = False
        newest: dict[Key, dict] = {}
        for row in rows:  # newest first
            newest.setdefault((row["user"], row["server_name"]), row)
        for key, spawner in running.items():
            if key in newest and key not in self.sessions:
                self._adopt(key, spawner, newest[key]["id"], newest[key])
        self._update_running()

    async def heartbeat(self) -> None:
        """Accrue the running sessions' time; idle time from the server's last activity."""
        if self._beating:
            return  # the previous beat still waits for the database
        self._beating = True
        try:
            if self._adopt_pending:
                await self._adopt_after_outage()
            now = self.clock()
            running: list[tuple[int, datetime | None]] = []
            # keys only: (key, Tracked) pairs would stay tracked by the garbage collector
            for n, key in enumerate(list(self.sessions), 1):
                if n % LOOP_SLICE == 0:
                    await asyncio.sleep(0)  # let the hub's loop run: ~5 µs a server here
                t = self.sessions.get(key)
                if t is None:
                    continue  # it stopped (and was closed) while this loop yielded
                spawner = t.spawner
                if not spawner.active and not spawner.pending:  # its stop went unseen
                    del self.sessions[key]
                    self._close(t, now, EndReason.found_dead, inferred=True)
                    continue
                if not spawner.ready:
                    continue
                if not t.ready:  # the start event was missed (e.g. before we listened)
                    self._mark_ready(t, now)
                t.last_activity = _aware(_orm_last_activity(spawner)) or t.last_activity
                running.append((t.id, t.last_activity))
            await self.submit("heartbeat", now, running)
            if self.cost_hooks is not None and self.ledger is not None:
                self.cost_hooks.metrics.tick(self.ledger.ledger.last_tally)
                await self.cost_hooks.enforce(self.app, self.sessions, self.engine)
        finally:
            self._beating = False

    async def refresh_active_users(self) -> None:
        """Active users per window, overall and per JupyterHub group, from the ledger."""
        groups = [g.name for g in self.app.db.query(orm.Group.name)] if self.app else []
        today = local_day(self.clock(), ZoneInfo(self.usage.timezone))
        counts = await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(self._count_active, today, groups)
        )
        if counts is not None:
            self.metrics.set_active(*counts)

    def _count_active(self, today, groups: list[str]):
        assert self.ledger is not None
        try:
            overall = {w: self.ledger.active_users(today, w) for w in WINDOWS}
            by_group = {
                (w, g): self.ledger.active_users(today, w, group=g) for w in WINDOWS for g in groups
            }
        except Exception as err:
            self.log.warning(
                "hub-extensions: active users not counted (ledger unavailable): %s", err
            )
            return None
        return overall, by_group


def _orm_last_activity(spawner: Any) -> datetime | None:
    orm_spawner = getattr(spawner, "orm_spawner", None)
    return getattr(orm_spawner, "last_activity", None)


async def _nothing() -> None:
    return None


async def _wait_briefly(future: asyncio.Future) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(future), STOP_WRITE_WAIT)
    except asyncio.TimeoutError:
        log.warning("hub-extensions: the usage ledger is slow; the stop is recorded later")


def install(
    config: Config, additions: Config, app: Any = None, cost_hooks: Any = None
) -> UsageCapture | None:
    """Chain the capture hooks onto the configured spawner class; start it in `app` if given.

    The hooks go to the section of the spawner class JupyterHub will create (the most
    specific), wrapping whatever hook that class would get from the admin's config.
    `cost_hooks` (built by the wiring when prices are set: hub_extensions.cost.hub.CostHooks)
    prices accrued time, checks budgets at spawn and stops servers over budget.
    """
    usage = options_for(HubExtensionsUsage, config)
    if not usage.enabled:
        return None
    spawner_cls = configured_class(config, "spawner_class", "jupyterhub.spawners")
    spawner_cls = spawner_cls or LocalProcessSpawner
    capture = UsageCapture(usage)
    capture.cost_hooks = cost_hooks
    section = additions[spawner_cls.__name__]
    section.pre_spawn_hook = chain_pre_spawn(
        configured_value(config, spawner_cls, "pre_spawn_hook"), capture.pre_spawn
    )
    section.post_stop_hook = chain_post_stop(
        configured_value(config, spawner_cls, "post_stop_hook"), capture.post_stop
    )
    if app is not None:
        capture.attach(app)
    return capture
