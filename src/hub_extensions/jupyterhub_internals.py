"""Every JupyterHub internal the suite relies on, in one place, each checked when the hub starts.

JupyterHub gives a plugin no public way to act after the whole config file has been read, to
know when the hub has started, or to know why a server stopped. The suite reads a few private
names for that. They are all here, each with the JupyterHub version it appeared in, so that:

- the rest of the suite calls the functions below and never touches a private name itself;
- `check_internals()` (called at hub start by wiring.finalize) returns one warning per name the
  installed JupyterHub lacks, saying what degrades, instead of a traceback or silence.

The supported range is JupyterHub 5.3 to 6.x (pyproject.toml's floor; the hub tier runs the
newest release, and tests/test_jupyterhub_oldest.py runs 5.3.0). Every name used here exists since
JupyterHub 1.0 or earlier.

This is a core leaf module: it imports only the standard library, traitlets, tornado and
jupyterhub. jupyterhub.app is imported inside the functions that need it: it takes seconds to
import, and the service process and `hub-extensions check-config` never need it.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jupyterhub
from tornado.web import RequestHandler
from traitlets.config import Config

#: Where a warning of check_internals() asks admins to report a missing internal.
REPORT_URL = "https://github.com/hub-extensions/hub-extensions/issues"
#: Set on a JupyterHub app once after_config_loaded() has hooked it (makes the call idempotent).
_HOOKED = "_hub_extensions_after_config_hooked"

# --- deferred setup: after jupyterhub_config.py has been read ------------------------------------


def initializing_hub() -> Any | None:
    """The JupyterHub application whose config file is being loaded, or None.

    Relies on `JupyterHub.instance()` / `JupyterHub.initialized()`: JupyterHub is a traitlets
    `SingletonConfigurable`, and `jupyterhub` (`JupyterHub.launch_instance`) creates the
    singleton before loading the config file (all versions). None in the service process,
    in `hub-extensions check-config` and in tests that build a config without a hub.
    """
    if "jupyterhub.app" not in sys.modules:  # no hub in this process: don't import one
        return None
    from jupyterhub.app import JupyterHub

    return JupyterHub.instance() if JupyterHub.initialized() else None


def after_config_loaded(app: Any, callback: Callable[[Any, Config], None]) -> None:
    """Run `callback(app, app.config)` once, when the config file's merged config is applied.

    Relies on traitlets' `Application.load_config_file` ending with
    `self.update_config(merged_config)` (traitlets 4 and later; JupyterHub calls
    `load_config_file` in `JupyterHub.initialize`, all versions): `app.update_config` is
    wrapped on this one instance, then restored by its first call, so the callback sees every
    line of the file, including those after the call. A second call for the same app does
    nothing. If the wrap can no longer work, a warning says so on the hub's log at once (the
    callback would never run: the hub would start without what it adds).
    """
    if getattr(app, _HOOKED, False):
        return
    setattr(app, _HOOKED, True)
    if not _load_config_file_calls_update_config(type(app)):
        app.log.warning(_missing(*_INTERNALS_BY_KEY["update_config"][1:3]))
    original = app.update_config

    def update_config_then_callback(config: Config) -> None:
        app.update_config = original  # first: the callback may call update_config itself
        original(config)
        callback(app, app.config)

    app.update_config = update_config_then_callback


def _load_config_file_calls_update_config(app_class: type) -> bool:
    load = getattr(app_class, "load_config_file", None)
    return load is not None and "update_config" in _code_names(load)


# --- hub started -------------------------------------------------------------------------------


def hub_started(app: Any) -> Awaitable[None] | None:
    """What resolves once the hub has started (proxy routes added, servers checked), or None.

    Relies on `JupyterHub._start_future`, an asyncio Future that `JupyterHub.initialize`
    creates before loading the config file and `JupyterHub.start` resolves at its end (since
    JupyterHub 0.8). None when the app has none.
    """
    started = getattr(app, "_start_future", None)
    return started if inspect.isawaitable(started) else None


# --- who makes the current request --------------------------------------------------------------


def requesting_user_name(spawner: Any) -> str | None:
    """The user who makes the request the spawner is serving (form POST, REST call, spawn link),
    None when there is none or it is a service. Relies on `Spawner.handler` (set by JupyterHub
    while it serves a spawn, since 0.9) and the handler's `current_user`; `jupyterhub.user` is
    imported here, when a hub asks, so that the service and `check-config` never load it."""
    handler = getattr(spawner, "handler", None)
    current = getattr(handler, "current_user", None) if handler is not None else None
    if current is None:
        return None
    from jupyterhub.user import User

    return current.name if isinstance(current, User) else None


# --- a spawner's name in log lines -------------------------------------------------------------


def spawner_log_name(spawner: Any) -> str:
    """`user` or `user:server`, as JupyterHub names a server in its own log lines.

    Relies on the `Spawner._log_name` property (since JupyterHub 0.8); without it (or for an
    object that is not a spawner) the same text is built from `spawner.user.name` and
    `spawner.name`. Never raises: it is used in log and error messages.
    """
    try:
        name = spawner._log_name
    except Exception:
        name = None
    if isinstance(name, str) and name:
        return name
    user = getattr(getattr(spawner, "user", None), "name", None) or "(no user)"
    server = getattr(spawner, "name", "") or ""
    return f"{user}:{server}" if server else str(user)


# --- why a server stopped: the chain of coroutines that awaits User.stop -----------------------

#: The names of JupyterHub's coroutines found on the way to `User.stop`, one per stop path.
#: `BaseHandler.stop_single_user` runs its inner `stop()` (a REST API or page request, since 0.9).
REQUESTED_STOP = "stop"
#: `BaseHandler.user_stopped` and the inner `user_stopped` of `JupyterHub.init_spawners`: a poll
#: found the server dead (since 0.9).
POLL_FOUND_DEAD = "user_stopped"
#: The inner `check_spawner` of `JupyterHub.init_spawners`: servers checked at hub start (0.9).
CHECK_AT_START = "check_spawner"
#: The inner `finish_user_spawn` of `BaseHandler.spawn_single_user`: a spawn that failed (0.9).
FINISH_SPAWN = "finish_user_spawn"
#: `User.spawn` and `User._wait_up` (since 1.0): a spawn that failed before the server was up.
USER_SPAWN_STEPS = ("spawn", "_wait_up")
#: `User.stop` (owner class `User`), run as a task of its own by `JupyterHub.cleanup` at shutdown
#: (since 0.9).
USER_CLASS = "User"
USER_STOP = "stop"


@dataclass(frozen=True)
class Frame:
    """One coroutine of the awaiting chain: its function name and the class of its `self`."""

    name: str
    owner: str = ""  # class name of `self`, '' for functions
    handler_kind: str | None = None  # for a request handler: its caller's kind (user/service)


def frames_of(coro: Any) -> list[Frame]:
    """The chain of coroutines from `coro` down the `await`s (outermost first).

    Reads CPython's documented coroutine and generator attributes (`cr_code`, `cr_frame`,
    `cr_await`; `gi_*` for generator-based ones), read only: nothing is patched.
    """
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
                kind = handler_caller_kind(this)
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


def handler_caller_kind(obj: Any) -> str | None:
    """For a tornado request handler: 'user' or 'service', whoever made the request.

    Relies on `BaseHandler._jupyterhub_user`, the caller JupyterHub resolves once per request
    in `get_current_user`, before the handler runs (since 0.9); tornado's own cache
    `_current_user` is the fallback. Without either the caller counts as a user.
    """
    if not isinstance(obj, RequestHandler):
        return None
    caller = getattr(obj, "_jupyterhub_user", None) or getattr(obj, "_current_user", None)
    return getattr(caller, "kind", None) or "user"


# --- the start-time check ----------------------------------------------------------------------


def check_internals(app: Any = None) -> list[str]:
    """One warning per internal the installed JupyterHub lacks, naming what degrades.

    `app`: the JupyterHub being initialized (wiring.finalize passes it, from inside
    `JupyterHub.initialize`); its own class, spawner class and `_start_future` are checked.
    Without it, the installed JupyterHub's classes are. An empty list means all is there.
    """
    version = getattr(jupyterhub, "__version__", "?")
    found = _available(app)
    return [
        _missing(what, consequence, version)
        for key, (_, what, consequence) in _INTERNALS_BY_KEY.items()
        if not found[key]
    ]


def _missing(what: str, consequence: str, version: str | None = None) -> str:
    if version is None:
        version = getattr(jupyterhub, "__version__", "?")
    return f"JupyterHub {version} has no {what}: {consequence}. Report it at {REPORT_URL}"


def _available(app: Any) -> dict[str, bool]:
    """For each internal of _INTERNALS_BY_KEY: whether the installed JupyterHub has it."""
    # imported here: seconds of imports, needed once at hub start (where they are loaded)
    from jupyterhub.app import JupyterHub
    from jupyterhub.handlers.base import BaseHandler
    from jupyterhub.spawner import Spawner
    from jupyterhub.user import User

    hub_class = type(app) if app is not None else JupyterHub
    try:  # resolving the configured class imports it; a bad name is JupyterHub's to report
        spawner_class = getattr(app, "spawner_class", None) if app is not None else None
    except Exception:
        spawner_class = None
    if not isinstance(spawner_class, type):
        spawner_class = Spawner
    if app is not None:
        started = hub_started(app) is not None
    else:
        started = "_start_future" in _code_names(getattr(hub_class, "initialize", None))
    init_spawners = _inner_names(getattr(hub_class, "init_spawners", None))
    return {
        "singleton": callable(getattr(hub_class, "instance", None))
        and callable(getattr(hub_class, "initialized", None)),
        "update_config": _load_config_file_calls_update_config(hub_class),
        "start_future": started,
        "log_name": isinstance(inspect.getattr_static(spawner_class, "_log_name", None), property),
        "handler_user": "_jupyterhub_user" in _code_names(BaseHandler.get_current_user),
        "requested_stop": REQUESTED_STOP in _inner_names(BaseHandler.stop_single_user),
        "found_dead": POLL_FOUND_DEAD in init_spawners
        and inspect.iscoroutinefunction(getattr(BaseHandler, POLL_FOUND_DEAD, None)),
        "check_at_start": CHECK_AT_START in init_spawners,
        "failed_spawn": FINISH_SPAWN in _inner_names(BaseHandler.spawn_single_user)
        and all(inspect.iscoroutinefunction(getattr(User, n, None)) for n in USER_SPAWN_STEPS),
        "hub_down": inspect.iscoroutinefunction(getattr(User, USER_STOP, None))
        and {USER_STOP, "cleanup_servers"} <= set(_code_names(getattr(hub_class, "cleanup", None))),
    }


#: key: (since, what is missing, what degrades without it).
_INTERNALS_BY_KEY: dict[str, tuple[str, str, str]] = {
    "singleton": (
        "all versions",
        "JupyterHub.instance() / JupyterHub.initialized() (a traitlets SingletonConfigurable)",
        "hub_extensions.setup(c) cannot find the starting hub, so the suite's service, roles "
        "and option checks are not added",
    ),
    "update_config": (
        "traitlets 4",
        "Application.load_config_file ending with update_config()",
        "hub_extensions.setup(c) cannot act after the config file has been read, so the "
        "suite's service, roles and option checks are not added",
    ),
    "start_future": (
        "0.8",
        "JupyterHub._start_future",
        "the usage ledger reconciles at once instead of after the hub has started, so servers "
        "that ran through a hub restart may be closed as 'reconciled' and recorded again as "
        "new sessions",
    ),
    "log_name": (
        "0.8",
        "Spawner._log_name on its spawner class",
        "the suite's log lines name servers as user:server themselves (no loss)",
    ),
    "handler_user": (
        "0.9",
        "BaseHandler._jupyterhub_user set in get_current_user",
        "a stop requested by a service (the idle culler) may be recorded as 'user_stop' "
        "instead of 'cull'",
    ),
    "requested_stop": (
        "0.9",
        "inner stop() in BaseHandler.stop_single_user",
        "stops requested through the REST API or the home page are told from their session "
        "only: 'user_stop', and culls are recorded as 'user_stop' too",
    ),
    "found_dead": (
        "0.9",
        "user_stopped in JupyterHub.init_spawners and BaseHandler",
        "servers found dead by the hub's poll are recorded as 'user_stop' instead of 'found_dead'",
    ),
    "check_at_start": (
        "0.9",
        "inner check_spawner in JupyterHub.init_spawners",
        "servers found stopped when the hub starts are recorded as 'user_stop' instead of "
        "being closed by the ledger's reconciliation",
    ),
    "failed_spawn": (
        "1.0",
        "finish_user_spawn in BaseHandler.spawn_single_user, User.spawn or User._wait_up",
        "failed spawns are still recorded as 'spawn_failed' when the server never became "
        "ready; one that failed after being ready is recorded as 'user_stop'",
    ),
    "hub_down": (
        "0.9",
        "User.stop awaited by JupyterHub.cleanup",
        "servers stopped by the hub's shutdown (cleanup_servers) are recorded as 'user_stop' "
        "instead of 'hub_down'",
    ),
}


def _code_names(func: Any) -> tuple[str, ...]:
    """The global and attribute names `func`'s own code uses (decorators unwrapped)."""
    code = getattr(inspect.unwrap(func), "__code__", None) if func is not None else None
    return code.co_names if code is not None else ()


def _inner_names(func: Any) -> set[str]:
    """The names of the functions defined inside `func` (decorators unwrapped)."""
    code = getattr(inspect.unwrap(func), "__code__", None) if func is not None else None
    if code is None:
        return set()
    return {c.co_name for c in code.co_consts if inspect.iscode(c)}
