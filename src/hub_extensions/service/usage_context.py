"""The service's read access to the activity ledger: opened lazily, queried off the event loop.

The service never migrates the ledger. The hub applies migrations when it starts recording, and
two processes migrating at once is not safe (on SQLite both may try to create the same table;
on PostgreSQL the loser of the race fails on the version table). So the service waits: until
the ledger's schema is at the revision this package expects, usage requests get a 503 that says
why, and the first request after the hub has migrated opens it for good.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..store.db import alembic_config, current_revision, file_guard
from ..usage.config import HubExtensionsUsage
from ..usage.ledger import Ledger

log = logging.getLogger("hub_extensions.service.usage")
T = TypeVar("T")


class LedgerNotReady(RuntimeError):
    """The ledger cannot be read yet; the message says why and what to do."""


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


class UsageStore:
    """One ledger for every usage handler; DB calls run in a small thread pool."""

    def __init__(self, usage: HubExtensionsUsage, db_url: str, workers: int = 4) -> None:
        self.usage = usage
        self.db_url = db_url
        self.tz = ZoneInfo(usage.timezone)
        self.ledger: Ledger | None = None
        self._head = head_revision()
        self._lock = threading.Lock()
        self._file_problem: str | None = None
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="usage-db")
        log.info("usage ledger: %s (%s)", self.safe_url, usage.timezone)

    @property
    def safe_url(self) -> str:
        return make_url(self.db_url).render_as_string(hide_password=True)

    def today(self) -> date:
        """Today in the ledger's time zone (whose days the roll-ups count)."""
        return datetime.now(timezone.utc).astimezone(self.tz).date()

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """`fn(ledger, *args, **kw)` in the pool; raises LedgerNotReady before the hub migrated."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._call, fn, args, kw))

    def _call(self, fn: Callable[..., T], args: tuple, kw: dict) -> T:
        ledger = self._open()
        if self.file_problem() is not None:
            ledger.engine.dispose()  # its connections read a deleted or replaced file
            raise LedgerNotReady(
                "The usage ledger is unavailable: its database file has vanished. The hub's "
                "admins see what to do on the service's home page."
            )
        return fn(ledger, *args, **kw)

    def file_problem(self) -> str | None:
        """Why the SQLite file read here is no longer the ledger's (see db.SQLiteFileGuard)."""
        guard = file_guard(self.ledger.engine) if self.ledger is not None else None
        problem = guard.problem() if guard is not None else None
        if problem != self._file_problem:
            if problem:
                log.error("%s", problem)
            self._file_problem = problem
        return problem

    def _open(self) -> Ledger:
        if self.ledger is not None and self.ledger.started:
            return self.ledger
        with self._lock:
            if self.ledger is None:
                self._check_file()
                self.ledger = Ledger(self.db_url, timezone=self.usage.timezone)
            try:
                revision = current_revision(self.ledger.engine)
            except SQLAlchemyError as err:
                log.warning("usage ledger %s cannot be read: %s", self.safe_url, err)
                raise LedgerNotReady(
                    "The usage ledger's database cannot be reached; the hub's log says why."
                ) from None
            if revision != self._head:
                raise LedgerNotReady(self._not_migrated(revision))
            self.ledger.started = True  # read-only use: the schema is there, nothing to apply
            return self.ledger

    def _check_file(self) -> None:
        """Opening a missing SQLite file would create an empty one; wait for the hub instead."""
        url = make_url(self.db_url)
        if url.drivername.startswith("sqlite") and not Path(url.database or "").is_file():
            raise LedgerNotReady(self._not_migrated(None))

    def _not_migrated(self, revision: str | None) -> str:
        log.info(
            "usage ledger %s at revision %s, expecting %s", self.safe_url, revision, self._head
        )
        if not self.usage.enabled:
            return (
                "No usage has been recorded: recording is off (HubExtensionsUsage.enabled = "
                "False). "
                "Set it to True in jupyterhub_config.py and restart the hub."
            )
        return (
            "The usage ledger is not ready yet: the hub creates or upgrades it when it starts "
            "recording sessions. Try again in a minute; if this stays, see the hub's log."
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.ledger is not None:
            self.ledger.close()
