"""`python -m hub_extensions.service`: the suite's managed service, a traitlets Application.

The hub starts it with no arguments and its options as JSON in $HUB_EXTENSIONS_SERVICE_CONFIG
(wiring.service_config). Run by hand, it takes the same options from a config file
(`--config`) and from the command line (`--HubExtensionsBuilds.max_builds=2`, `--help-all`
lists them all); each source overrides the one before. The options are checked once, here,
and the objects built from them serve every request (service/app.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from tornado.log import LogFormatter
from traitlets import Enum, Unicode, default
from traitlets.config import Application, catch_config_error

from .._version import __version__
from ..builds.config import HubExtensionsBuilds
from ..checks import CONFIGURABLES, check_config
from ..contract import SERVICE_CONFIG_ENV, format_problems
from ..cost.config import HubExtensionsCost
from ..options import HubExtensions
from ..renames import renamed
from ..usage.config import HubExtensionsUsage
from .app import read_config, serve
from .context import ServiceEnvironmentError, ServiceOptions

#: The logger every module of the suite logs under (`hub_extensions.service`, `…builds.broker`):
#: the application's own, so one handler and one level cover them all.
SUITE_LOGGER = "hub_extensions"


class HubExtensionsService(Application):
    """The hub-extensions service: build, usage and cost pages and APIs for one hub."""

    name = "hub-extensions-service"
    version = __version__
    description = """
    The hub-extensions managed service. JupyterHub starts it (`hub_extensions.setup(c)` in
    jupyterhub_config.py adds it) and passes it the suite's options; the options below may also be
    given here, and override the hub's.
    """
    examples = """
    python -m hub_extensions.service --help-all
    python -m hub_extensions.service --log-level=DEBUG
    python -m hub_extensions.service --config=service_config.py --HubExtensionsBuilds.max_builds=2
    """
    classes = [*CONFIGURABLES]
    aliases = {
        "log-level": "HubExtensionsService.log_level",
        "config": "HubExtensionsService.config_file",
    }

    config_file = Unicode(
        "",
        help="""
        A Python config file (`c.HubExtensionsBuilds.max_builds = 2`, …) read after the
        options the hub passes and before the command line. Default: none, the hub's options only.
        """,
    ).tag(config=True)

    log_level = Enum(
        (0, 10, 20, 30, 40, 50, "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL"),
        logging.WARN,
        help="""
        Log level of the service, by name or value. Default: HubExtensions.service_log_level
        (INFO unless set); this option, `--log-level` and `--debug` override it.
        """,
    ).tag(config=True)

    #: The suite's options, built once by initialize().
    settings: ServiceOptions | None = None

    # tornado's formatter (colours on a terminal), in the hub's layout, so that the service's
    # lines read like the hub's in the log they share
    _log_formatter_cls = LogFormatter  # type: ignore[assignment]

    @default("log_format")
    def _default_log_format(self) -> str:
        return (
            "%(color)s[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s "
            "%(module)s:%(lineno)d]%(end_color)s %(message)s"
        )

    @default("log")
    def _default_log(self) -> logging.Logger:
        return logging.getLogger(SUITE_LOGGER)

    def get_default_logging_config(self) -> dict[str, Any]:
        """traitlets' console handler (its level is `log_level`) for the suite's loggers, for
        tornado's (access log, HubOAuth's messages) and for other libraries' warnings."""
        config = super().get_default_logging_config()
        if "handlers" not in config:  # pythonw: traitlets logs nowhere
            return config
        ours = {"level": "DEBUG", "handlers": ["console"], "propagate": False}
        config["loggers"] = {SUITE_LOGGER: ours, "tornado": dict(ours)}
        config["root"] = {"level": "WARNING", "handlers": ["console"]}
        return config

    @catch_config_error
    def initialize(self, argv: list[str] | None = None) -> None:
        """Read the options (the hub's, the config file, the command line), check them once,
        and build the objects the service reads them from; exit with the problems if any."""
        self.parse_command_line(argv)
        self.load_config_sources()
        config, renames = renamed(self.config)
        problems = check_config(config)
        if problems:
            sys.exit(format_problems(problems, who="the service"))
        # merged in place, not assigned: an assignment would log every option, secrets too,
        # at DEBUG (traitlets' "Config changed"); the old sections stay, and nothing reads them
        self.update_config(config)
        self.settings = ServiceOptions(
            hub_extensions=HubExtensions(parent=self),
            builds=HubExtensionsBuilds(parent=self),
            usage=HubExtensionsUsage(parent=self),
            cost=HubExtensionsCost(parent=self),
        )
        if not self._log_level_configured():
            self.log_level = self.settings.hub_extensions.service_log_level
        for message in renames:
            self.log.warning("%s", message)

    def load_config_sources(self) -> None:
        """The hub's JSON, then the config file, then the command line again (it wins)."""
        try:
            self.update_config(read_config(None))
        except json.JSONDecodeError as err:
            sys.exit(
                f"hub-extensions service: ${SERVICE_CONFIG_ENV} is not valid JSON ({err}). "
                "The hub sets it: start the service from the hub, or unset it and use --config."
            )
        if self.config_file:
            path = Path(self.config_file)
            if not path.is_file():
                sys.exit(f"hub-extensions service: --config: no such file: {path}")
            try:
                self.update_config(read_config(str(path)))
            except Exception as err:  # the admin's Python: any error, named, without a traceback
                sys.exit(f"hub-extensions service: cannot read {path}: {type(err).__name__}: {err}")
        self.update_config(self.cli_config)

    def _log_level_configured(self) -> bool:
        """Whether `--log-level`, `--debug` or the config file set the application's level
        (else HubExtensions.service_log_level, which the hub passes, sets it)."""
        return any(
            "log_level" in self.config[name] for name in self.section_names() if name in self.config
        )

    def start(self) -> None:
        assert self.settings is not None, "initialize() first"
        try:
            asyncio.run(serve(self.settings))
        except ServiceEnvironmentError as err:
            sys.exit(f"hub-extensions service: {err}")
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> None:
    HubExtensionsService.launch_instance(argv)
