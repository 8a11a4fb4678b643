"""Why a server stopped, told from the code path JupyterHub took to stop it.

`Spawner.post_stop_hook` is the one place every stop path passes, but JupyterHub does not pass
it the cause. The cause is the path itself: `User.stop` is awaited by the REST API's stop (a
handler, whose authenticated caller is a user or a service such as the idle culler), by the poll
that found the server dead (`user_stopped`), by a spawn that failed, by the check of servers at
hub start (`check_spawner`), or, as a task of its own, by the hub's shutdown cleanup. The hook
reads the chain of coroutines of the task it runs in (read only, nothing is patched). A path
this module does not know falls back on what the session says: never ready means a failed spawn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from .models import EndReason

log = logging.getLogger("hub_extensions.usage")


@dataclass(frozen=True)
class Frame:
    """One coroutine of the awaiting chain: its function name and the class of its `self`."""

    name: str
    owner: str = ""  # class name of `self`, '' for functions
    handler_kind: str | None = None  # for a request handler: its caller's kind (user/service)


#: At hub start, before the ledger reconciles: nothing to record (reconciliation closes it).
AT_START = "at_start"


def frames_of(coro: Any) -> list[Frame]:
    """The chain of coroutines from `coro` down the `await`s (outermost first)."""
    out: list[Frame] = []
    seen = 0
    while coro is not None and seen < 100:
        seen += 1
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if code is None:
            break
        owner, kind = "", None
        if frame is not None:
            this = frame.f_locals.get("self")
            if this is not None:
                owner = type(this).__name__
                kind = _caller_kind(this)
        out.append(Frame(code.co_name, owner, kind))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return out


def current_frames() -> list[Frame]:
    """The awaiting chain of the running task (empty outside a task)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return []
    return frames_of(task.get_coro()) if task is not None else []


def _caller_kind(obj: Any) -> str | None:
    """For a tornado request handler: 'user' or 'service', whoever made the request."""
    from tornado.web import RequestHandler

    if not isinstance(obj, RequestHandler):
        return None
    # JupyterHub's BaseHandler resolves its caller once per request, before the handler runs
    caller = getattr(obj, "_jupyterhub_user", None) or getattr(obj, "_current_user", None)
    return getattr(caller, "kind", None) or "user"


def classify(frames: list[Frame], ready: bool) -> tuple[EndReason | str, bool]:
    """(end reason, inferred) for a stop reached through `frames`; AT_START at hub start."""
    names = [f.name for f in frames]
    requested = next((f for f in frames if f.name == "stop" and f.handler_kind), None)
    if requested is not None:  # BaseHandler.stop_single_user's stop(): a REST or page request
        reason = EndReason.cull if requested.handler_kind == "service" else EndReason.user_stop
        return reason, False
    if "user_stopped" in names:  # a poll found the server gone; it ended before the poll
        return EndReason.found_dead, True
    if "check_spawner" in names:
        return AT_START, True
    spawning = {"finish_user_spawn"}
    if any(f.name in spawning or (f.owner == "User" and f.name in ("spawn", "_wait_up"))
           for f in frames):  # fmt: skip
        return EndReason.spawn_failed, False
    if frames and frames[0].owner == "User" and frames[0].name == "stop":
        # a task of its own on User.stop: JupyterHub.cleanup() at shutdown (cleanup_servers)
        return EndReason.hub_down, False
    log.debug("hub-extensions: unknown stop path %s", names)
    return (EndReason.user_stop if ready else EndReason.spawn_failed), False
