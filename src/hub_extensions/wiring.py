"""`hub_extensions.setup(c)`: wire the suite into a jupyterhub_config.py."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import jupyterhub
from jupyterhub._data import DATA_FILES_PATH
from traitlets.config import Config

from . import page_style
from .checks import CONFIGURABLES, check_config
from .config_values import option_value
from .contract import (
    ADMIN_MARKER_SCOPE,
    CONFIG_PROBLEMS_ENV,
    HUB_DATA_FILES_ENV,
    HUB_PID_ENV,
    SERVICE_CONFIG_ENV,
    SERVICE_ROLE,
    SERVICE_SCOPES,
    USAGE_DB_URL_ENV,
    USAGE_READ_SCOPE,
    format_problems,
    format_warnings,
)
from .cost.config import HubExtensionsCost
from .cost.hub import CostHooks
from .cost.widget import WidgetVar
from .jupyterhub_internals import after_config_loaded, check_internals, initializing_hub
from .options import load, options_for
from .problems import CONFIG_PROBLEMS, problems_path
from .renames import RENAMED_SECTIONS, renamed
from .requirements_check import version_problems
from .store.db import default_db_url
from .usage.capture import install
from .usage.config import HubExtensionsUsage

HERE = Path(__file__).resolve().parent
HUB_TEMPLATES = HERE / "templates"

log = logging.getLogger("hub_extensions")


def setup(c: Config) -> None:
    """Wire hub-extensions into the JupyterHub being configured by `c`.

    Call it anywhere in jupyterhub_config.py. The wiring (managed service, its role,
    template path) is computed from the final configuration once the whole file has
    been read, and every hub-extensions option is checked then: a bad option stops
    the hub before it starts anything, with a message naming the option.
    """
    app = initializing_hub()
    if app is None:
        # not inside a starting hub (the service process, check-config, a unit test):
        # nothing to hook into; wire() and check_config() are available directly.
        return
    # act on the final configuration, once the whole file has been read (a second
    # setup(c) in the same file does nothing)
    after_config_loaded(app, finalize)


def log_through_hub(hub_log: logging.Logger) -> None:
    """Send every `hub_extensions.*` logger of this process through the hub's logger: its
    handlers, format and level, read at each record. JupyterHub hooks tornado's loggers up to
    `app.log` the same way (`JupyterHub.init_logging`)."""
    if not isinstance(hub_log, logging.Logger):
        return
    ours = logging.getLogger("hub_extensions")
    ours.parent = hub_log
    ours.propagate = True
    ours.setLevel(logging.NOTSET)


def finalize(app, config: Config) -> None:
    """Check the suite's options and add its wiring to the hub's final config."""
    log_through_hub(app.log)
    # old section names (c.Usage) are read as the new ones, with a warning
    config, warnings = renamed(config)
    # installed JupyterHub / oauthenticator too old for the suite: refuse with the fix
    problems = version_problems(config) + check_config(config, warnings)
    additions = None
    if not problems:
        try:
            additions = wire(config, hub_version=_hub_version())
            for old, (new, _) in RENAMED_SECTIONS.items():
                if old in app.config and new in config:  # spawners read the new name
                    additions[new] = config[new]
        except ValueError as err:
            problems = [str(err)]
    if problems:
        app.log.critical(format_problems(problems, warnings))
        app.exit(1)
    if warnings:
        app.log.warning(format_warnings(warnings))
    for missing in check_internals(app):  # a newer JupyterHub without an internal we read
        app.log.warning("hub-extensions: %s", missing)
    hub_db_url = _hub_option(config, "db_url")
    CONFIG_PROBLEMS.start(problems_path(hub_db_url), warnings)
    assert additions is not None  # app.exit() above did not return
    additions.JupyterHub.services[-1]["environment"][HUB_PID_ENV] = str(os.getpid())
    app.update_config(additions)
    options = load(config)
    app.log.info("hub-extensions: service %r at %s", options.service_name, options.service_url)


def service_config(config: Config) -> dict:
    """The options the service process needs, as JSON-able values (only those set)."""
    out: dict[str, dict] = {}
    for cls in CONFIGURABLES:
        if cls.__name__ not in config:
            continue
        instance = cls(config=config)
        section = {}
        for key in config[cls.__name__]:
            value = getattr(instance, key)
            try:
                json.dumps(value)
            except TypeError:
                raise ValueError(
                    f"{cls.__name__}.{key}: {type(value).__name__} values cannot be passed "
                    "to the hub-extensions service; use plain strings, numbers, lists and dicts."
                ) from None
            section[key] = value
        out[cls.__name__] = section
    return out


def _hub_version() -> tuple[int, ...]:
    return tuple(int(p) for p in jupyterhub.__version__.split(".")[:2] if p.isdigit())


#: The JupyterHub options the wiring reads, with JupyterHub's defaults (jupyterhub.app is not
#: imported for them: `check-config` runs without a hub).
HUB_DEFAULTS: dict = {
    "base_url": "/",
    "custom_scopes": {},
    "data_files_path": DATA_FILES_PATH,
    "db_url": "sqlite:///jupyterhub.sqlite",
    "extra_user_scopes": set(),
    "load_roles": [],
    "services": [],
    "template_paths": [],
    "template_vars": {},
}


def _hub_option(config: Config, name: str):
    """`JupyterHub.<name>` as the hub gets it (`c.JupyterHub.services.append(...)` included)."""
    return option_value(config, ["JupyterHub"], name, HUB_DEFAULTS[name])


def wire(config: Config, *, hub_version: tuple[int, ...] = (6, 0)) -> Config:
    """The additions to `config` that wire the suite in; the admin's own values are kept."""
    options = load(config)
    services = list(_hub_option(config, "services"))
    if any(s.get("name") == options.service_name for s in services):
        raise ValueError(
            f"JupyterHub.services already has a service named {options.service_name!r}; "
            "remove it (hub_extensions.setup adds it) or set HubExtensions.service_name."
        )
    env = {
        **options.service_environment,
        "PYTHONUNBUFFERED": "1",
        SERVICE_CONFIG_ENV: json.dumps(service_config(config), sort_keys=True),
    }
    data_files = str(_hub_option(config, "data_files_path"))
    if data_files != DATA_FILES_PATH:
        env[HUB_DATA_FILES_ENV] = data_files
    services.append(
        {
            "name": options.service_name,
            "url": options.service_url,
            "command": [sys.executable, "-m", "hub_extensions.service"],
            "environment": env,
            "oauth_no_confirm": True,
            "display": True,
            "info": {"description": "hub-extensions: profiles, builds, usage and cost"},
        }
    )
    additions = Config()
    wire_usage_access(config, services[-1], additions)
    access = f"access:services!service={options.service_name}"
    roles = [dict(r) for r in _hub_option(config, "load_roles")]
    roles.append(
        {
            "name": SERVICE_ROLE,
            "description": "What the hub-extensions service may read at the hub",
            "scopes": SERVICE_SCOPES,
            "services": [options.service_name],
        }
    )
    user_role = next((r for r in roles if r.get("name") == "user"), None)
    if user_role is not None:
        # the admin defined the user role: extend it rather than replace it
        user_role["scopes"] = [*user_role.get("scopes", ["self"]), access]
    elif hub_version >= (6, 0):
        additions.JupyterHub.extra_user_scopes = {
            *_hub_option(config, "extra_user_scopes"),
            access,
        }
    else:
        roles.append({"name": "user", "scopes": ["self", access]})
    additions.JupyterHub.services = services
    additions.JupyterHub.load_roles = roles
    paths = list(_hub_option(config, "template_paths"))
    if str(HUB_TEMPLATES) not in paths:
        paths.append(str(HUB_TEMPLATES))
    additions.JupyterHub.template_paths = paths
    stripped = _hub_option(config, "base_url").strip("/")
    base_url = f"/{stripped}/" if stripped else "/"
    # The spawn page loads JupyterHub's bootstrap and jQuery after the suite's form
    # (templates/spawn.html) only under JupyterHub's own page.html: an admin's page.html may run
    # scripts of its own that need them at once.
    own_page = any(
        (Path(folder) / "page.html").is_file() for folder in paths if folder != str(HUB_TEMPLATES)
    )
    service_prefix = f"{base_url}services/{options.service_name}/"
    # ... and links JupyterHub's stylesheet so that a visit asks the hub nothing before the
    # first frame (page_style.py); None keeps JupyterHub's link
    style = None if own_page else page_style.load(data_files)
    additions.JupyterHub.template_vars = {
        **_hub_option(config, "template_vars"),
        "hub_extensions": {
            "service_prefix": service_prefix,
            "page_scripts_after_form": not own_page,
            "page_style": style
            and {
                "href": (href := f"{service_prefix}page-style.css?v={style.version}"),
                "imports": list(style.imports),
                "links": page_style.links(style, data_files, base_url, href),
            },
        },
    }
    wire_usage_capture(config, additions)
    return additions


def wire_usage_capture(config: Config, additions: Config) -> None:
    """Record sessions in the ledger (HubExtensionsUsage.enabled): spawner hooks, and in a starting
    hub,
    its events, heartbeat and reconciliation (see usage/capture.py). With prices
    (HubExtensionsCost.enabled), the cost hooks ride on it and the hub's pages get the cost
    widget."""
    usage = options_for(HubExtensionsUsage, config)
    cost = options_for(HubExtensionsCost, config)
    hooks = None
    if usage.enabled and cost.enabled:
        hooks = CostHooks(cost, usage.timezone, per_user=usage.per_user_metrics)
    capture = install(config, additions, app=initializing_hub(), cost_hooks=hooks)
    if capture is not None and hooks is not None:
        widget = WidgetVar(capture.engine, hooks.cost, hooks.tz, hooks.stop_deadline)
        additions.JupyterHub.template_vars = {
            **additions.JupyterHub.template_vars,
            "hub_extensions_cost": widget,
        }


def wire_usage_access(config: Config, service: dict, additions: Config) -> None:
    """Define the usage-read scope, let the service's OAuth tokens carry it, share the ledger.

    JupyterHub refuses to change the scopes of its `admin` role, so admins cannot be given the
    scope by a role here: the service counts `admin: true` as holding it, and the hub admin
    grants it to others with a role in `load_roles`. The service runs with the hub's working
    directory but does not know the hub's db_url, so the default ledger URL is computed here.
    """
    additions.JupyterHub.custom_scopes = {
        **_hub_option(config, "custom_scopes"),
        USAGE_READ_SCOPE: {
            "description": "Read every user's server sessions and usage in hub-extensions",
        },
    }
    # tokens issued to the service carry each scope when (and only when) the user holds it
    service["oauth_client_allowed_scopes"] = [USAGE_READ_SCOPE, ADMIN_MARKER_SCOPE]
    hub_db_url = _hub_option(config, "db_url")
    service["environment"][USAGE_DB_URL_ENV] = default_db_url(hub_db_url)
    service["environment"][CONFIG_PROBLEMS_ENV] = str(problems_path(hub_db_url))
