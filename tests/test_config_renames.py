"""Renamed sections: `c.Usage`, `c.Cost` and `c.Builds` of earlier versions warn and map to
`c.HubExtensionsUsage`, `c.HubExtensionsCost` and `c.HubExtensionsBuilds` (as JupyterHub's
deprecated options do). The start of a real hub with an old name is in test_usage_hub.py's
sibling tests; here the reading itself, with the real option classes."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from hub_extensions.checks import check_config
from hub_extensions.renames import renamed
from hub_extensions.usage.config import HubExtensionsUsage
from hub_extensions.wiring import service_config

pytestmark = pytest.mark.unit


def test_an_old_section_warns_and_its_options_reach_the_new_class():
    c = Config()
    c.Usage.timezone = "Europe/Paris"
    c.Builds.max_builds = 3
    warnings: list[str] = []
    assert check_config(c, warnings) == []
    assert warnings[:2] == [
        "Usage is deprecated since hub-extensions 0.1.0: rename c.Usage to c.HubExtensionsUsage "
        "(until then the hub reads its options as HubExtensionsUsage's).",
        "Builds is deprecated since hub-extensions 0.1.0: rename c.Builds to "
        "c.HubExtensionsBuilds (until then the hub reads its options as HubExtensionsBuilds's).",
    ]
    new, _ = renamed(c)
    assert HubExtensionsUsage(config=new).timezone == "Europe/Paris"
    # the service gets them under the new names
    assert service_config(new) == {
        "HubExtensionsBuilds": {"max_builds": 3},
        "HubExtensionsUsage": {"timezone": "Europe/Paris"},
    }
    assert "Usage" in c
    assert "HubExtensionsUsage" not in c


def test_the_new_name_wins_where_both_are_set_and_lazy_edits_survive():
    c = Config()
    c.Usage.timezone = "Europe/Paris"
    c.Usage.db_url = "sqlite:////tmp/old.sqlite"
    c.HubExtensionsUsage.timezone = "UTC"
    c.Cost.user_budgets = {"ada": 5.0}
    c.Cost.user_budgets.update({"bob": 7.0})  # a lazy value, as `.update()` in a config file
    new, warnings = renamed(c)
    usage = HubExtensionsUsage(config=new)
    assert (usage.timezone, usage.db_url) == ("UTC", "sqlite:////tmp/old.sqlite")
    assert len(warnings) == 2
    assert check_config(c) == []


def test_a_bad_value_under_an_old_name_is_named_with_the_new_one():
    c = Config()
    c.Cost.currency = "euro"
    assert check_config(c) == [
        "HubExtensionsCost.currency: 'euro' is not an ISO 4217 code. Use e.g. 'EUR'."
    ]


def test_a_typo_of_an_old_name_points_to_the_new_name():
    c = Config()
    c.Buidls.max_builds = 2
    assert check_config(c) == [
        "Buidls: unknown configuration class; the hub would ignore Buidls.max_builds. "
        "Did you mean HubExtensionsBuilds.max_builds?"
    ]
