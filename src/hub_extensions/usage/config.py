"""Options of the activity ledger, checked at hub start."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from traitlets import Bool, Float, TraitError, Unicode, validate
from traitlets.config import Config, Configurable

from ..store.db import default_db_url

#: URL schemes (dialect+driver) the ledger is tested with; a bare `postgresql` means psycopg2.
SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg2")


def db_url_problem(value: str) -> str | None:
    """Why `value` cannot be the ledger's database URL, or None ('' is fine: the default)."""
    if not value:
        return None
    try:
        url = make_url(value)
    except ArgumentError:
        return f"{value!r} is not a database URL. Use e.g. 'sqlite:////srv/jupyterhub/usage.sqlite'"
    if url.drivername not in SCHEMES:
        return (
            f"scheme {url.drivername!r} is not supported. Use 'sqlite:///PATH' or "
            "'postgresql+psycopg2://USER:PASSWORD@HOST/DB' (a bare 'postgresql://' means psycopg2)"
        )
    if url.drivername.startswith("sqlite") and url.database in (None, "", ":memory:"):
        return "an in-memory SQLite ledger is lost at every restart. Give a file path"
    return None


def timezone_problem(value: str) -> str | None:
    """Why `value` is not an IANA time zone name, or None."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not an IANA time zone name. Use e.g. 'UTC' or 'Europe/Paris'"
    return None


class HubExtensionsUsage(Configurable):
    """The activity ledger: where sessions are recorded and how they are rolled up."""

    enabled = Bool(
        True,
        help="""
        Record every server session in the ledger (default: True). When False the suite records
        nothing and its usage and cost pages have nothing to show.
        """,
    ).tag(config=True)

    db_url = Unicode(
        "",
        help="""
        SQLAlchemy URL of the ledger's own database. Empty (the default) means a SQLite file
        `hub-extensions-usage.sqlite` next to the hub's SQLite database, or in the hub's
        working directory when the hub uses another database. For Zero to JupyterHub use
        PostgreSQL, e.g. `postgresql+psycopg2://ledger:SECRET@postgres/ledger` (needs the
        `postgres` extra; a bare `postgresql://` also means psycopg2). Migrations are applied
        when the ledger starts.
        """,
    ).tag(config=True)

    timezone = Unicode(
        "UTC",
        help="""
        IANA time zone (e.g. `Europe/Paris`) whose midnights and month starts delimit the daily
        roll-ups, month-to-date summaries and active-user counts. Times are still stored in UTC.
        Default: `UTC`. Changing it later does not move days already rolled up.
        """,
    ).tag(config=True)

    heartbeat_interval = Float(
        60.0,
        help="""
        Seconds between two heartbeats, at which the hub accrues the running servers' time and
        idle time into the ledger (default: 60). A server's idle time in a tick is the time
        since its last activity, capped to the time since the previous tick.
        """,
    ).tag(config=True)

    active_users_refresh_interval = Float(
        300.0,
        help="""
        Seconds between two refreshes of the active-user gauges on the hub's `/hub/metrics`
        (`hub_extensions_active_users`, `hub_extensions_active_users_by_group`), read from the
        ledger's daily roll-ups (default: 300). They are also refreshed when the hub starts.
        """,
    ).tag(config=True)

    per_user_metrics = Bool(
        False,
        help="""
        Export Prometheus metrics labelled by user name (default: False). With many users this
        makes many time series, and user names become visible to whoever reads the metrics.
        """,
    ).tag(config=True)

    @validate("db_url")
    def _check_db_url(self, proposal):
        problem = db_url_problem(proposal.value)
        if problem:
            raise TraitError(f"HubExtensionsUsage.db_url: {problem}.")
        return proposal.value

    @validate("timezone")
    def _check_timezone(self, proposal):
        problem = timezone_problem(proposal.value)
        if problem:
            raise TraitError(f"HubExtensionsUsage.timezone: {problem}.")
        return proposal.value

    @validate("heartbeat_interval", "active_users_refresh_interval")
    def _check_interval(self, proposal):
        if not proposal.value > 0:
            example = 60 if proposal.trait.name == "heartbeat_interval" else 300
            raise TraitError(
                f"HubExtensionsUsage.{proposal.trait.name}: {proposal.value!r} must be a number of "
                "seconds "
                f"above 0, e.g. {example}."
            )
        return proposal.value


def resolve_db_url(
    usage: HubExtensionsUsage, hub_db_url: str = "", cwd: str | Path | None = None
) -> str:
    """The configured `HubExtensionsUsage.db_url`, or the default one for this hub."""
    return usage.db_url or default_db_url(hub_db_url, cwd)


def check_usage(config: Config) -> list[str]:
    """Problems of the Usage section that one option alone does not show (driver, directory)."""
    if "HubExtensionsUsage" not in config:
        return []
    try:
        with warnings.catch_warnings():  # unknown options are reported by check_config
            warnings.simplefilter("ignore")
            usage = HubExtensionsUsage(config=config)
    except TraitError:
        return []  # each bad option is reported on its own by check_config
    if not usage.db_url:
        return []
    url = make_url(usage.db_url)
    if url.drivername.startswith("postgresql") and importlib.util.find_spec("psycopg2") is None:
        return [
            "HubExtensionsUsage.db_url: PostgreSQL needs the psycopg2 driver. "
            "Install it with `pip install hub-extensions[postgres]`."
        ]
    if url.drivername.startswith("sqlite"):
        parent = Path(url.database or "").expanduser().parent
        if not parent.is_dir():
            return [
                f"HubExtensionsUsage.db_url: directory {str(parent)!r} of the SQLite ledger does "
                "not exist. "
                "Create it or point db_url at an existing directory."
            ]
    return []
