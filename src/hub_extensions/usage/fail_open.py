"""Fail open: with the ledger database down, spawns go on and writes wait in memory.

Every write of `Ledger` is idempotent when replayed in order (open_session ignores an id that
already exists; heartbeats accrue from last_seen_at; closes skip ended sessions), so a write that
may or may not have reached the database before the connection dropped is safe to replay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..store.db import file_guard
from .ledger import Ledger, ReconcileResult, new_session_id

log = logging.getLogger(__name__)
#: Errors that mean "the database is not there now": the write is queued and replayed.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


def _unavailable(err: Exception) -> bool:
    if isinstance(err, UNAVAILABLE):
        return True
    return isinstance(err, DBAPIError) and err.connection_invalidated


class FailOpenLedger:
    """Wraps a Ledger: writes never raise for an unavailable database; they queue and replay.

    `write_failures` counts writes that could not be made when asked (queued instead),
    `dropped_writes` those lost because the queue was full (oldest first) or the database
    refused them for good (e.g. a duplicate id). Reads pass through and may raise.
    """

    def __init__(
        self, ledger: Ledger, max_queued: int = 10_000, retry_interval: float = 5.0
    ) -> None:
        self.ledger = ledger
        self.retry_interval = retry_interval
        self.queue: deque[tuple[str, dict[str, Any]]] = deque()
        self.max_queued = max_queued
        self.write_failures = 0
        self.dropped_writes = 0
        self._next_try = 0.0
        self._lock = threading.RLock()
        self.file_problem: str | None = None
        self.log = log  # the hub's own logger once the capture is attached to it

    @property
    def available(self) -> bool:
        """True when the last attempt reached the database and nothing waits in the queue."""
        return self.ledger.started and not self.queue

    def start(self) -> bool:
        """Migrate now if the database is there; otherwise at the first write that reaches it."""
        with self._lock:
            return self._try_start()

    def _try_start(self) -> bool:
        if self.ledger.started:
            return True
        try:
            self.ledger.start()
        except Exception as err:
            if not _unavailable(err):
                raise
            self.log.warning("Usage ledger database unavailable, writes are queued: %s", err)
            self._next_try = time.monotonic() + self.retry_interval
            return False
        return True

    def flush(self) -> bool:
        """Replay queued writes in order; True when the queue is empty afterwards."""
        with self._lock:
            if not self._try_start():
                return False
            while self.queue:
                name, kwargs = self.queue[0]
                try:
                    getattr(self.ledger, name)(**kwargs)
                except Exception as err:
                    if _unavailable(err):
                        self._next_try = time.monotonic() + self.retry_interval
                        return False
                    if isinstance(err, IntegrityError) and name == "open_session":
                        pass  # it had reached the database before the connection dropped
                    else:
                        self.dropped_writes += 1
                        self.log.exception("Usage ledger dropped a queued %s", name)
                self.queue.popleft()
            self.log.info("Usage ledger database available again; queued writes replayed")
            return True

    def _write(self, name: str, kwargs: dict[str, Any]) -> Any:
        with self._lock:
            if (self.queue or not self.ledger.started) and (
                time.monotonic() < self._next_try or not self.flush()
            ):
                return self._enqueue(name, kwargs)
            try:
                return getattr(self.ledger, name)(**kwargs)
            except Exception as err:
                if not _unavailable(err):
                    raise
                self.log.warning("Usage ledger write %s failed, queued: %s", name, err)
                self._next_try = time.monotonic() + self.retry_interval
                return self._enqueue(name, kwargs)

    def _enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        self.write_failures += 1
        if len(self.queue) >= self.max_queued:
            self.queue.popleft()
            self.dropped_writes += 1
        self.queue.append((name, kwargs))
        return None

    # --- the writes of Ledger ------------------------------------------------------------------

    def open_session(self, **kwargs: Any) -> int:
        """As Ledger.open_session; the id is made here, so it is valid even when queued."""
        kwargs.setdefault("session_id", new_session_id())
        self.ledger.session_row(**kwargs)  # bad fields raise now, not at replay
        self._write("open_session", kwargs)
        return kwargs["session_id"]

    def mark_ready(
        self, session_id: int, at: datetime, details: dict[str, Any] | None = None
    ) -> bool | None:
        kwargs: dict[str, Any] = {"session_id": session_id, "at": at}
        if details:
            self.ledger.ready_details(details)  # bad fields raise now, not at replay
            kwargs["details"] = dict(details)
        return self._write("mark_ready", kwargs)

    def heartbeat(self, now: datetime, running: list[tuple[int, datetime | None]]) -> int | None:
        self.check_file()
        return self._write("heartbeat", {"now": now, "running": list(running)})

    def check_file(self) -> str | None:
        """A SQLite ledger file deleted or replaced while in use: logged as an error when it
        happens, and the pool's connections to the old file dropped (writes then queue in
        memory until the file is back, see db.SQLiteFileGuard). Run at every heartbeat."""
        guard = file_guard(self.ledger.engine)
        problem = guard.problem() if guard is not None else None
        if problem != self.file_problem:
            if problem:
                self.log.error("hub-extensions: %s", problem)
                self.ledger.engine.dispose()
            elif guard is not None:
                self.log.warning("hub-extensions: the usage ledger file %s is back", guard.path)
            self.file_problem = problem
        return problem

    def close_session(self, session_id: int, at: datetime, reason: Any, **kwargs: Any):
        kwargs.update(session_id=session_id, at=at, reason=reason)
        return self._write("close_session", kwargs)

    def reconcile(self, now: datetime, running: list[tuple[str, str]]) -> ReconcileResult | None:
        """As Ledger.reconcile, or None when queued: then call running_sessions() later."""
        return self._write("reconcile", {"now": now, "running": list(running)})

    def __getattr__(self, name: str) -> Any:
        # reads (sessions, summary, ...) go straight to the ledger
        return getattr(self.ledger, name)
