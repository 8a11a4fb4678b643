"""Keep the hub's copy of CILogon's IdP list fresh: at start, then every interval, off the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from .idp_snapshot import SnapshotError, refresh

#: seconds one fetch may take; the hub never waits for it
FETCH_TIMEOUT = 10.0


class IdpListRefresher:
    """Fetches `url` into `path` in a worker thread; calls `on_update` after each success."""

    def __init__(
        self,
        url: str,
        path: Path,
        interval: float,
        log: logging.Logger | logging.LoggerAdapter,
        on_update: Callable[[], None],
        timeout: float = FETCH_TIMEOUT,
    ) -> None:
        self.url, self.path, self.interval, self.timeout = url, path, interval, timeout
        self.log, self.on_update = log, on_update
        self.task: asyncio.Task | None = None

    def start(self) -> bool:
        """Schedule the refreshes on the running event loop; False when there is none."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self.task = loop.create_task(self._run())
        return True

    def stop(self) -> None:
        if self.task:
            self.task.cancel()

    async def _run(self) -> None:
        while True:
            await self.refresh_once()
            await asyncio.sleep(self.interval)

    async def refresh_once(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            count = await asyncio.wait_for(
                loop.run_in_executor(None, refresh, self.url, self.path, self.timeout),
                self.timeout + 5,
            )
        except (SnapshotError, asyncio.TimeoutError) as err:
            self.log.info(
                "hub-extensions: could not refresh CILogon's IdP list from %s (%s); next try "
                "in %.0f s",
                self.url,
                err or "timed out",
                self.interval,
            )
            return False
        self.log.info(
            "hub-extensions: CILogon's IdP list refreshed from %s: %d identity providers in %s",
            self.url,
            count,
            self.path,
        )
        self.on_update()
        return True
