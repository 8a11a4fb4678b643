"""The service process as an admin runs it: `python -m hub_extensions.service` is a traitlets
Application whose options come from the hub's JSON, a config file and the command line (each
overriding the one before), are checked once at start, and are then read from the objects built
there.

In process where that is enough (initialize() only: nothing listens), as a real process for
what an admin sees on the terminal. Not covered here: serving with a real hub (the lifecycle,
usage and builds modules start the service from their hubs).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from hub_extensions.checks import CONFIGURABLES
from hub_extensions.contract import SERVICE_CONFIG_ENV
from hub_extensions.service.app import build_context
from hub_extensions.service.application import HubExtensionsService

pytestmark = pytest.mark.unit

HUB_ENV = {
    "JUPYTERHUB_SERVICE_PREFIX": "/services/hub-extensions/",
    "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
    "JUPYTERHUB_API_TOKEN": "unused",
}


@pytest.fixture(autouse=True)
def _in_a_temporary_directory(tmp_path, monkeypatch) -> None:
    """The service writes its default files (the build-signing key) in its working directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The application configures logging for its whole process: put back this one's."""
    manager = logging.Logger.manager
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for name, lg in [("", logging.getLogger()), *manager.loggerDict.items()]
        if isinstance(lg, logging.Logger)
    }
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name or None)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled


def hub_json(monkeypatch, sections: dict) -> None:
    """Options as the hub passes them (wiring.service_config)."""
    monkeypatch.setenv(SERVICE_CONFIG_ENV, json.dumps(sections))


def started(*argv: str) -> HubExtensionsService:
    app = HubExtensionsService()
    app.initialize(list(argv))
    return app


def refused(*argv: str) -> str:
    """What the service says when it will not start (its exit message)."""
    with pytest.raises(SystemExit) as stop:
        started(*argv)
    assert stop.value.code not in (0, None)
    return str(stop.value.code)


def service(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub_extensions.service", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_help_all_lists_every_option_of_each_section_with_its_help(capsys):
    with pytest.raises(SystemExit) as stop:
        started("--help-all")
    assert stop.value.code == 0
    out = capsys.readouterr().out
    squeezed = "".join(out.split())  # help text is re-wrapped (and hyphens broken) for width
    for cls in CONFIGURABLES:
        assert f"{cls.__name__}(Configurable) options" in out
        for name, trait in cls.class_traits(config=True).items():
            assert f"--{cls.__name__}.{name}=" in out
            first_words = "".join(trait.help.split())[:60]
            assert first_words, f"{cls.__name__}.{name} has no help"
            assert first_words in squeezed, f"help of {cls.__name__}.{name} missing"
    assert "--log-level=" in out
    assert "--config=" in out


def test_the_command_line_wins_over_the_config_file_which_wins_over_the_hub(monkeypatch, tmp_path):
    hub_json(
        monkeypatch,
        {
            "HubExtensions": {"service_log_level": "ERROR"},
            "HubExtensionsBuilds": {"max_builds": 5, "max_queued_builds": 9, "image_prefix": "hub"},
        },
    )
    config_file = tmp_path / "service_config.py"
    config_file.write_text(
        "c.HubExtensionsBuilds.max_builds = 4\nc.HubExtensionsBuilds.max_queued_builds = 7\n"
    )
    app = started(f"--config={config_file}", "--HubExtensionsBuilds.max_builds=2")
    assert app.settings is not None
    builds = app.settings.builds
    assert (builds.max_builds, builds.max_queued_builds, builds.image_prefix) == (2, 7, "hub")
    # the log level follows HubExtensions.service_log_level, the hub's or the command line's
    assert app.log_level == logging.ERROR
    assert started("--HubExtensions.service_log_level=INFO").log_level == logging.INFO
    # ... unless the command line gives the application's own
    assert started("--log-level=WARNING").log_level == logging.WARNING
    assert started("--debug").log_level == logging.DEBUG


def test_requests_read_the_options_built_at_start(monkeypatch):
    hub_json(
        monkeypatch,
        {
            "HubExtensionsBuilds": {
                "executor": "binderhub",  # no Docker engine needed to build the context
                "binderhub_url": "http://127.0.0.1:1/",
            },
            "HubExtensionsCost": {"currency": "EUR"},
        },
    )
    app = started()
    settings = app.settings
    assert settings is not None
    ctx = build_context(settings, env=HUB_ENV)
    try:
        assert ctx.options is settings.hub_extensions
        assert ctx.builds.options is settings.builds
        assert ctx.usage.usage is settings.usage
        assert ctx.cost is settings.cost
        assert ctx.cost.currency == "EUR"
    finally:
        ctx.usage.close()


def test_a_bad_value_stops_the_service_naming_the_option_without_a_traceback():
    result = service("--HubExtensionsBuilds.max_builds=many")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "hub-extensions: invalid configuration, the service will not start:" in lines
    assert "UserWarning" not in result.stderr
    assert lines[-1] == (
        "  - HubExtensionsBuilds.max_builds: expected an int, not the str 'many'. "
        "See `hub-extensions check-config --help-all`."
    )
    assert "Traceback" not in result.stderr


def test_a_bad_value_from_the_hub_is_refused_too(monkeypatch):
    hub_json(monkeypatch, {"HubExtensions": {"service_log_level": "CHATTY"}})
    message = refused()
    assert "HubExtensions.service_log_level: expected any of" in message
    assert "'CHATTY'" in message


def test_a_misspelt_option_is_an_unknown_option_with_the_likely_name(monkeypatch):
    monkeypatch.delenv(SERVICE_CONFIG_ENV, raising=False)
    assert (
        "  - HubExtensionsBuilds.max_bulds: unknown option. "
        "Did you mean HubExtensionsBuilds.max_builds?"
    ) in refused("--HubExtensionsBuilds.max_bulds=2")


def test_a_missing_config_file_and_broken_hub_json_are_named(monkeypatch, tmp_path):
    monkeypatch.delenv(SERVICE_CONFIG_ENV, raising=False)
    missing = tmp_path / "nope.py"
    assert refused(f"--config={missing}") == (
        f"hub-extensions service: --config: no such file: {missing}"
    )
    monkeypatch.setenv(SERVICE_CONFIG_ENV, "{not json")
    assert refused().startswith(f"hub-extensions service: ${SERVICE_CONFIG_ENV} is not valid JSON")


def test_the_service_logs_through_the_application_in_the_hubs_layout(monkeypatch, capsys):
    monkeypatch.delenv(SERVICE_CONFIG_ENV, raising=False)
    started()  # level INFO: HubExtensions.service_log_level's default
    logging.getLogger("hub_extensions.service").info("hub-extensions service stopped")
    logging.getLogger("tornado.access").warning("404 GET /nope")
    logging.getLogger("hub_extensions.service").debug("not shown at INFO")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert re.fullmatch(
        r"\[I \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} hub_extensions\.service "
        r"test_service_application:\d+\] hub-extensions service stopped",
        lines[0],
    ), lines[0]
    assert lines[1].startswith("[W ")
    assert " tornado.access " in lines[1]
