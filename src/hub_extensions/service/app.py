"""`python -m hub_extensions.service`: the tornado app JupyterHub starts as a managed service."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuth
from tornado import web
from tornado.log import enable_pretty_logging
from traitlets.config import Config, PyFileConfigLoader

from .._version import __version__
from ..config import HubExtensions, check_config, load
from ..wiring import CONFIG_PROBLEMS_ENV, SERVICE_CONFIG_ENV, USAGE_DB_URL_ENV, format_problems
from . import builds_handlers, cost_handlers, handlers, usage_handlers
from .context import HubURLs, ServiceContext, ServiceEnvironmentError

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger("hub_extensions.service")


def make_app(ctx: ServiceContext) -> web.Application:
    prefix = ctx.urls.service_prefix
    kw = {"ctx": ctx}
    routes = [
        (prefix, handlers.HomeHandler, kw),
        (prefix + "oauth_callback", handlers.OAuthCallbackHandler, kw),
        (prefix + "api/health", handlers.HealthHandler, kw),
        (prefix + "api/config-problems", handlers.ConfigProblemsHandler, kw),
        (prefix + r"build/(gh|gl|git)/(.+)", builds_handlers.BuildHandler, kw),
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


def build_context(options: HubExtensions, config: Config, env=os.environ) -> ServiceContext:
    urls = HubURLs.from_environment(env)
    hub_auth = HubOAuth(api_token=env["JUPYTERHUB_API_TOKEN"], cache_max_age=60)
    ctx = ServiceContext(options=options, urls=urls, hub_auth=hub_auth, version=__version__)
    ctx.builds = _builds(config)
    ctx.usage = _usage(config, env)
    if ctx.builds is not None and ctx.usage is not None:
        ctx.builds.broker.on_finish = partial(_record_build, ctx.usage)
    from ..cost.config import Cost

    ctx.cost = Cost(config=config)
    problems_file = env.get(CONFIG_PROBLEMS_ENV)
    ctx.config_problems_path = Path(problems_file) if problems_file else None
    return ctx


async def _record_build(store, build) -> None:
    """Keep a finished build (and its log) in the suite's database, beyond this process."""
    from ..builds import history
    from .usage_context import LedgerNotReady

    try:
        await store.run(lambda ledger: history.record(ledger.engine, build))
    except LedgerNotReady as err:
        log.warning("build %s kept in memory only: %s", build.id, err)


def _usage(config: Config, env=os.environ):
    """Read access to the ledger the hub writes: the configured URL, else the hub's default."""
    from ..usage.config import Usage, default_db_url
    from .usage_context import UsageStore

    usage = Usage(config=config)
    return UsageStore(usage, usage.db_url or env.get(USAGE_DB_URL_ENV) or default_db_url())


def _builds(config: Config):
    """The build machinery, or None (with the reason logged) when it cannot run here."""
    try:
        from ..builds.config import Builds
        from .builds_context import make_builds_context

        return make_builds_context(Builds(config=config))
    except (ImportError, NotImplementedError) as err:
        log.warning("builds disabled: %s", err)
        return None


async def serve(options: HubExtensions, config: Config) -> None:
    ctx = build_context(options, config)
    app = make_app(ctx)
    port = urlsplit(ctx.urls.service_url).port or options.service_port
    app.listen(port, address=options.bind_ip, xheaders=True)
    log.info(
        "hub-extensions %s serving %s on %s:%d",
        __version__,
        ctx.urls.service_prefix,
        options.bind_ip,
        port,
    )
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub_extensions.service", description=__doc__)
    parser.add_argument(
        "--config",
        help=f"a config file to read options from (default: the JSON in ${SERVICE_CONFIG_ENV}, "
        "which the hub sets)",
    )
    args = parser.parse_args(argv)
    enable_pretty_logging()
    config = read_config(args.config)
    problems = check_config(config)
    if problems:
        sys.exit(format_problems(problems))
    options = load(config)
    logging.getLogger().setLevel(options.service_log_level)
    try:
        asyncio.run(serve(options, config))
    except ServiceEnvironmentError as err:
        sys.exit(f"hub-extensions service: {err}")
    except KeyboardInterrupt:
        pass
