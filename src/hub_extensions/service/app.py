"""The service's tornado app and its lifecycle: listen, watch the hub, stop in time.

The process around it (options, logging, command line) is service/application.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from tornado import web
from traitlets.config import Config, PyFileConfigLoader

from .._version import __version__
from ..builds import history
from ..builds.config import HubExtensionsBuilds
from ..contract import (
    CONFIG_PROBLEMS_ENV,
    HUB_DATA_FILES_ENV,
    HUB_PID_ENV,
    SERVICE_CONFIG_ENV,
    USAGE_DB_URL_ENV,
)
from ..usage.config import HubExtensionsUsage, default_db_url
from . import builds_handlers, cost_handlers, handlers, usage_handlers
from .builds_context import make_builds_context
from .context import HubURLs, ServiceContext, ServiceEnvironmentError, ServiceOptions
from .token_cache import ExpiryAwareHubOAuth
from .usage_context import LedgerNotReady, UsageStore

STATIC = Path(__file__).resolve().parent.parent / "static"
TOKEN_CACHE_SECONDS = 5
log = logging.getLogger("hub_extensions.service")


def make_app(ctx: ServiceContext) -> web.Application:
    prefix = ctx.urls.service_prefix
    kw = {"ctx": ctx}
    routes = [
        (prefix, handlers.HomeHandler, kw),
        (prefix + "oauth_callback", handlers.OAuthCallbackHandler, kw),
        (prefix + "api/health", handlers.HealthHandler, kw),
        (prefix + r"page-style\.css", handlers.PageStyleHandler, kw),
        (prefix + "api/config-problems", handlers.ConfigProblemsHandler, kw),
        (prefix + r"build/([^/]+)/(.+)", builds_handlers.BuildHandler, kw),
        (prefix + "api/repoproviders", builds_handlers.ProvidersHandler, kw),
        (prefix + "api/builds", builds_handlers.BuildsHandler, kw),
        (prefix + r"api/builds/([^/]+)", builds_handlers.OneBuildHandler, kw),
        (prefix + "usage", usage_handlers.UsagePageHandler, kw),
        (prefix + "api/usage/sessions", usage_handlers.SessionsHandler, kw),
        (prefix + r"api/usage/sessions\.csv", usage_handlers.SessionsCSVHandler, kw),
        (prefix + "api/usage/summary", usage_handlers.SummaryHandler, kw),
        (prefix + "api/usage/daily", usage_handlers.DailyHandler, kw),
        (prefix + "api/usage/active-users", usage_handlers.ActiveUsersHandler, kw),
        (prefix + "cost", cost_handlers.CostPageHandler, kw),
        (prefix + "api/cost/report", cost_handlers.CostReportHandler, kw),
        (prefix + r"api/cost/report\.csv", cost_handlers.CostReportCSVHandler, kw),
        (prefix + "api/cost/me", cost_handlers.MyCostHandler, kw),
        (prefix + "api/.*", handlers.APINotFoundHandler, kw),
    ]
    return web.Application(
        routes,
        static_path=str(STATIC),
        static_url_prefix=prefix + "static/",
        default_handler_class=handlers.PageNotFoundHandler,
        default_handler_args=kw,
        cookie_secret=os.urandom(32),
        xsrf_cookies=False,  # HubOAuth checks XSRF on its own cookie-authenticated requests
        log_function=_log_request,
    )


def _log_request(handler: web.RequestHandler) -> None:
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(
        level,
        "%d %s %s %.1fms",
        status,
        handler.request.method,
        handler.request.path,
        1000 * handler.request.request_time(),
    )


def read_config(path: str | None, env=os.environ) -> Config:
    """Options from a config file (standalone runs) or from the hub (the usual case)."""
    if path:
        p = Path(path)
        return PyFileConfigLoader(p.name, path=str(p.parent), log=log).load_config()
    return Config(json.loads(env.get(SERVICE_CONFIG_ENV) or "{}"))


def build_context(options: ServiceOptions, env=os.environ) -> ServiceContext:
    urls = HubURLs.from_environment(env)
    # what the hub says of a token is kept this long, and never past the token's expiry: a
    # revoked token stops working here within seconds, an expired one at once (JupyterHub's
    # default keeps answers 5 minutes, whatever the expiry)
    hub_auth = ExpiryAwareHubOAuth(
        api_token=env["JUPYTERHUB_API_TOKEN"], cache_max_age=TOKEN_CACHE_SECONDS
    )
    ctx = ServiceContext(
        options=options.hub_extensions, urls=urls, hub_auth=hub_auth, version=__version__
    )
    ctx.builds = _builds(options.builds)
    ctx.usage = _usage(options.usage, env)
    if ctx.builds is not None and ctx.usage is not None:
        ctx.builds.broker.on_finish = partial(_record_build, ctx.usage)
    ctx.cost = options.cost
    problems_file = env.get(CONFIG_PROBLEMS_ENV)
    ctx.config_problems_path = Path(problems_file) if problems_file else None
    ctx.hub_data_files_path = env.get(HUB_DATA_FILES_ENV) or None
    return ctx


async def _record_build(store, build) -> None:
    """Keep a finished build (and its log) in the suite's database, beyond this process."""

    try:
        await store.run(lambda ledger: history.record(ledger.engine, build))
    except LedgerNotReady as err:
        log.warning("build %s kept in memory only: %s", build.id, err)


def _usage(usage: HubExtensionsUsage, env=os.environ) -> UsageStore:
    """Read access to the ledger the hub writes: the configured URL, else the hub's default."""
    return UsageStore(usage, usage.db_url or env.get(USAGE_DB_URL_ENV) or default_db_url())


def _builds(builds: HubExtensionsBuilds):
    """The build machinery, or None (with the reason logged) when it cannot run here."""
    try:
        return make_builds_context(builds)
    except (ImportError, NotImplementedError) as err:
        log.warning("builds disabled: %s", err)
        return None


async def serve(settings: ServiceOptions) -> None:
    parent = os.getppid()  # the hub starts this process itself (JupyterHub's _ServiceSpawner)
    hub_pid = int(os.environ.get(HUB_PID_ENV) or 0) or None
    options = settings.hub_extensions
    ctx = build_context(settings)
    app = make_app(ctx)
    port = urlsplit(ctx.urls.service_url).port or options.service_port
    stopping = asyncio.get_running_loop().create_future()
    stop_on_signals(stopping)
    watchdog = asyncio.ensure_future(watch_hub(parent, hub_pid, stopping))
    server = await listen(app, port, options.bind_ip, stopping)
    if server is None:
        log.info("hub-extensions service stopped before it listened (%s)", stopping.result())
        return
    log.info(
        "hub-extensions %s serving %s on %s:%d",
        __version__,
        ctx.urls.service_prefix,
        options.bind_ip,
        port,
    )
    reason = await stopping
    watchdog.cancel()
    await shutdown(server, ctx, reason)


#: How long a port held by a previous service (e.g. one whose hub was killed and which exits
#: within a second of noticing) is waited for before giving up with a message.
BIND_WAIT = 10.0
#: Once asked to stop, the process exits within this many seconds whatever it was doing
#: (JupyterHub waits 30 s after SIGINT, then 30 s after SIGTERM: far longer than needed).
STOP_DEADLINE = 5.0
PARENT_POLL_INTERVAL = 1.0


async def listen(
    app: web.Application, port: int, address: str, stopping: asyncio.Future, wait=BIND_WAIT
):
    """Listen on the service's fixed port, waiting a little for a previous holder to go;
    None when asked to stop meanwhile."""
    deadline = time.monotonic() + wait
    while not stopping.done():
        try:
            return app.listen(port, address=address, xheaders=True)
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise ServiceEnvironmentError(
                    f"cannot listen on {address}:{port}: {err.strerror}"
                ) from None
            if time.monotonic() >= deadline:
                raise ServiceEnvironmentError(
                    f"{address}:{port} (HubExtensions.service_url) is still in use after "
                    f"{wait:.0f}s. Another process holds it, e.g. a hub-extensions service "
                    "of an older version left running by a hub that crashed: stop that "
                    "process, or set HubExtensions.service_url to a free port."
                ) from None
            log.warning("%s:%d is in use; waiting for it to be freed", address, port)
            await asyncio.sleep(0.5)
    return None


def stop_on_signals(stopping: asyncio.Future) -> None:
    """SIGTERM and SIGINT stop the service. Set here rather than relying on Python's
    defaults: a process started with SIGINT ignored (a background job of a shell without job
    control, and so every child of it) would otherwise ignore the hub's SIGINT and stop only
    after JupyterHub's 30 s interrupt timeout."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):

        def stop(sig: signal.Signals = sig) -> None:
            if not stopping.done():
                stopping.set_result(f"received {sig.name}")

        loop.add_signal_handler(sig, stop)


async def watch_hub(
    parent: int, hub_pid: int | None, stopping: asyncio.Future, interval=PARENT_POLL_INTERVAL
) -> None:
    """Stop when the hub that started this process is gone (even after its `kill -9`).

    An orphaned service would keep the fixed service port, so the next hub's service could
    not listen on it, and it would answer users for a hub that is no more. A dead parent
    re-parents this process (to init, or to a subreaper such as a container's tini), which
    changes `getppid()`; the hub also passes its pid, which covers a hub that died before
    this process got here. Polling both is portable and cannot misfire, unlike Linux's
    PR_SET_PDEATHSIG: that fires when the *thread* that forked exits, is cleared when the
    hub starts the service as another user (setuid), and is the hub's to set before exec.
    """
    while not stopping.done():
        gone = None
        if parent > 1 and os.getppid() != parent:
            gone = f"the hub (pid {parent}) exited"
        elif hub_pid is not None and not _alive(hub_pid):
            gone = f"the hub (pid {hub_pid}) is gone"
        if gone:
            log.error("%s: the hub-extensions service stops with it", gone)
            stopping.set_result(gone)
            return
        await asyncio.sleep(interval)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    return True


async def shutdown(server, ctx: ServiceContext, reason: str, deadline=STOP_DEADLINE) -> None:
    """Stop listening, let requests in flight end briefly, close the ledger; bounded in time."""
    log.info("hub-extensions service stopping (%s)", reason)
    # whatever hangs below (a stuck database connection in a worker thread, a stream), the
    # process ends by the deadline: the hub and the next service must not wait for it
    killer = threading.Timer(deadline, _exit_now, args=(reason,))
    killer.daemon = True
    killer.start()
    server.stop()
    stop_builds = getattr(ctx.builds.broker, "shutdown", None) if ctx.builds else None
    if stop_builds is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stop_builds(), timeout=deadline / 2)
    # streams (build logs) stay open for as long as their build: close them after a moment
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(server.close_all_connections(), timeout=1.0)
    if ctx.usage is not None:
        ctx.usage.close()
    log.info("hub-extensions service stopped")


def _exit_now(reason: str) -> None:
    log.error(
        "hub-extensions service did not stop in %.0fs (%s): exiting now", STOP_DEADLINE, reason
    )
    logging.shutdown()
    os._exit(1)
