"""The ledger's options: defaults, checks at hub start, and the default database place."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from hub_extensions.checks import check_config
from hub_extensions.usage import HubExtensionsUsage, Ledger, default_db_url

pytestmark = pytest.mark.unit


def cfg(**options) -> Config:
    return Config({"HubExtensionsUsage": options})


def test_defaults_and_valid_options_have_no_problems(tmp_path):
    usage = HubExtensionsUsage()
    assert (usage.enabled, usage.db_url, usage.timezone) == (True, "", "UTC")
    assert (usage.heartbeat_interval, usage.per_user_metrics) == (60.0, False)
    good = cfg(db_url=f"sqlite:///{tmp_path}/u.sqlite", timezone="Pacific/Auckland",
               heartbeat_interval=30, per_user_metrics=True)  # fmt: skip
    assert check_config(good) == []
    assert check_config(cfg(db_url="postgresql+psycopg2://u:p@db/ledger")) == []
    assert check_config(cfg(db_url="postgresql://u:p@db/ledger")) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"timezone": "Mars/Olympus"},
            "HubExtensionsUsage.timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            {"db_url": "mysql://u@h/db"},
            "HubExtensionsUsage.db_url: scheme 'mysql' is not supported. Use 'sqlite:///PATH'",
        ),
        ({"db_url": "sqlite://"}, "HubExtensionsUsage.db_url: an in-memory SQLite ledger is lost"),
        ({"db_url": "not a url"}, "HubExtensionsUsage.db_url: 'not a url' is not a database URL"),
        (
            {"heartbeat_interval": 0},
            "HubExtensionsUsage.heartbeat_interval: 0.0 must be a number of seconds above 0",
        ),
        (
            {"heartbeat_intervall": 5},
            "HubExtensionsUsage.heartbeat_intervall: unknown option. Did you mean HubExtensionsUsage.heartbeat_interval?",
        ),
        (
            {"db_url": "sqlite:////nonexistent-dir/u.sqlite"},
            "HubExtensionsUsage.db_url: directory '/nonexistent-dir' of the SQLite ledger does not exist",
        ),
    ],
)
def test_each_bad_option_is_named_with_its_fix(options, expected):
    problems = check_config(cfg(**options))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_default_ledger_sits_next_to_the_hubs_sqlite_file(tmp_path):
    assert default_db_url("sqlite:///state/jupyterhub.sqlite", cwd=tmp_path) == (
        f"sqlite:///{tmp_path / 'state' / 'hub-extensions-usage.sqlite'}"
    )
    assert default_db_url("sqlite:////srv/hub/jupyterhub.sqlite", cwd=tmp_path) == (
        "sqlite:////srv/hub/hub-extensions-usage.sqlite"
    )
    # a hub on PostgreSQL: the ledger defaults to the hub's working directory
    assert default_db_url("postgresql://hub@db/hub", cwd=tmp_path) == (
        f"sqlite:///{tmp_path / 'hub-extensions-usage.sqlite'}"
    )


def test_ledger_from_config_uses_the_default_place_and_timezone(tmp_path):
    usage = HubExtensionsUsage(config=cfg(timezone="Europe/Paris"))
    ledger = Ledger.from_config(usage, hub_db_url="sqlite:///jupyterhub.sqlite", cwd=tmp_path)
    ledger.start()
    try:
        assert (tmp_path / "hub-extensions-usage.sqlite").is_file()
        assert ledger.tz.key == "Europe/Paris"
    finally:
        ledger.close()
    with pytest.raises(ValueError, match="timezone: 'Nowhere' is not an IANA time zone name"):
        Ledger(f"sqlite:///{tmp_path}/x.sqlite", timezone="Nowhere")
