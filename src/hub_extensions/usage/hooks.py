"""Chain the suite's spawner hooks after the admin's own, which keep their behaviour.

The admin's `pre_spawn_hook` runs first; if it raises, the spawn fails as it would without
us, and nothing is recorded. The admin's `post_stop_hook` runs first too; if it raises (at
once or when awaited), JupyterHub logs it as before, and the ledger still records the stop.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

Hook = Callable[[Any], Any]
#: Attribute of a chained hook naming the admin's hook it wraps (None when there was none).
WRAPPED = "hub_extensions_wraps"


def chain_pre_spawn(theirs: Hook | None, ours: Callable[[Any], Awaitable[None]]) -> Hook:
    async def pre_spawn_hook(spawner: Any) -> None:
        if theirs is not None:
            result = theirs(spawner)
            if inspect.isawaitable(result):
                await result
        await ours(spawner)

    setattr(pre_spawn_hook, WRAPPED, theirs)
    return pre_spawn_hook


_background: set[asyncio.Future] = set()  # keeps fire-and-forget records alive until done


def chain_post_stop(theirs: Hook | None, ours: Callable[[Any], Awaitable[None]]) -> Hook:
    """`ours(spawner)` must be called at once (it reads the stop's code path) and not raise."""

    def post_stop_hook(spawner: Any) -> Any:
        try:
            result = theirs(spawner) if theirs is not None else None
        except Exception:
            task = asyncio.ensure_future(ours(spawner))
            _background.add(task)
            task.add_done_callback(_background.discard)
            raise  # Spawner.run_post_stop_hook logs it, as without us
        recorded = ours(spawner)

        async def finish() -> Any:
            try:
                return await result if inspect.isawaitable(result) else result
            finally:
                await recorded

        return finish()

    setattr(post_stop_hook, WRAPPED, theirs)
    return post_stop_hook
