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

import logging

from ..jupyterhub_internals import (
    CHECK_AT_START,
    FINISH_SPAWN,
    POLL_FOUND_DEAD,
    REQUESTED_STOP,
    USER_CLASS,
    USER_SPAWN_STEPS,
    USER_STOP,
    Frame,
    current_frames,
    frames_of,
)
from ..store.models import EndReason

# Frame, frames_of and current_frames are read from JupyterHub's coroutines in
# jupyterhub_internals (with the other JupyterHub internals); they are part of this module's API.
__all__ = ["AT_START", "Frame", "classify", "current_frames", "frames_of"]

log = logging.getLogger("hub_extensions.usage")

#: At hub start, before the ledger reconciles: nothing to record (reconciliation closes it).
AT_START = "at_start"


def classify(frames: list[Frame], ready: bool) -> tuple[EndReason | str, bool]:
    """(end reason, inferred) for a stop reached through `frames`; AT_START at hub start."""
    names = [f.name for f in frames]
    requested = next((f for f in frames if f.name == REQUESTED_STOP and f.handler_kind), None)
    if requested is not None:  # BaseHandler.stop_single_user's stop(): a REST or page request
        reason = EndReason.cull if requested.handler_kind == "service" else EndReason.user_stop
        return reason, False
    if POLL_FOUND_DEAD in names:  # a poll found the server gone; it ended before the poll
        return EndReason.found_dead, True
    if CHECK_AT_START in names:
        return AT_START, True
    if any(f.name == FINISH_SPAWN or (f.owner == USER_CLASS and f.name in USER_SPAWN_STEPS)
           for f in frames):  # fmt: skip
        return EndReason.spawn_failed, False
    if frames and frames[0].owner == USER_CLASS and frames[0].name == USER_STOP:
        # a task of its own on User.stop: JupyterHub.cleanup() at shutdown (cleanup_servers)
        return EndReason.hub_down, False
    log.debug("hub-extensions: unknown stop path %s", names)
    return (EndReason.user_stop if ready else EndReason.spawn_failed), False
