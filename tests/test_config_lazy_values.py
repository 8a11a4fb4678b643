"""`c.X.y.append(...)`-style config: the suite reads an option as the configured object gets it.

traitlets itself is the oracle: every case compares `option_value` with the option of a real
instance (`ProfilesLocalProcessSpawner(config=c).profile_list`, a Spawner's dict, an
Authenticator's set, JupyterHub's own defaults) built from the same config. Each config is
built twice because traitlets changes lazy values in place while it loads them.

Not covered: dynamic defaults (`@default`) as the base of a lazy edit (the reader uses the
trait's static default or the caller's), and sections nested under a parent object.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from jupyterhub.auth import Authenticator
from jupyterhub.spawner import Spawner
from traitlets import Dict, Integer, List, Set
from traitlets.config import Config, Configurable
from traitlets.config.loader import DeferredConfigString

from hub_extensions.auth.presets import SECTIONS, configured
from hub_extensions.checks import check_config
from hub_extensions.config_values import option_is_set, option_value
from hub_extensions.spawners.profiles_local import ProfilesLocalProcessSpawner
from hub_extensions.wiring import HUB_DEFAULTS, wire

SMALL = {"display_name": "Small", "slug": "small"}
LARGE = {"display_name": "Large", "slug": "large"}
GPU = {"display_name": "GPU", "slug": "gpu"}


def same_as_traitlets(cls: type, name: str, build: Callable[[Config], None]):
    """`option_value` of a config `build` makes, asserted equal to what an instance gets."""
    ours, theirs = Config(), Config()
    build(ours)
    build(theirs)
    value = option_value(ours, cls, name)
    assert value == getattr(cls(config=theirs), name)
    # reading changed nothing: an instance made from the config read still gets the same
    assert getattr(cls(config=ours), name) == value
    return value


PROFILE_LIST_EDITS = {
    "append": lambda c: c.ProfilesLocalProcessSpawner.profile_list.append(SMALL),
    "extend": lambda c: c.ProfilesLocalProcessSpawner.profile_list.extend([SMALL, LARGE]),
    "prepend": lambda c: c.ProfilesLocalProcessSpawner.profile_list.prepend([SMALL, LARGE]),
    "insert": lambda c: c.ProfilesLocalProcessSpawner.profile_list.insert(0, SMALL),
    "append onto a parent class's list": lambda c: (
        setattr(c.Spawner, "profile_list", [SMALL]),
        c.ProfilesLocalProcessSpawner.profile_list.append(LARGE),
    ),
    "parent's list, subclass's insert": lambda c: (
        setattr(c.LocalProcessSpawner, "profile_list", [SMALL, LARGE]),
        c.ProfilesLocalProcessSpawner.profile_list.insert(1, GPU),
    ),
    "lazy on parent and subclass": lambda c: (
        c.Spawner.profile_list.append(SMALL),
        c.ProfilesLocalProcessSpawner.profile_list.extend([LARGE, GPU]),
    ),
    "subclass's list wins over the parent's edit": lambda c: (
        c.Spawner.profile_list.append(SMALL),
        setattr(c.ProfilesLocalProcessSpawner, "profile_list", [LARGE]),
    ),
    "parent class only": lambda c: c.Spawner.profile_list.append(GPU),
}


@pytest.mark.unit
@pytest.mark.parametrize("build", PROFILE_LIST_EDITS.values(), ids=PROFILE_LIST_EDITS.keys())
def test_profile_list_edits_read_as_the_spawner_gets_them(build):
    value = same_as_traitlets(ProfilesLocalProcessSpawner, "profile_list", build)
    assert value
    assert all(isinstance(p, dict) for p in value)


class LazyEditsBase(Configurable):
    """Container options with non-empty defaults: a lazy edit must keep them."""

    labels = Dict({"team": "hub"}).tag(config=True)
    admins = Set({"root"}).tag(config=True)
    steps = List(["build"]).tag(config=True)
    retries = Integer(1).tag(config=True)


class LazyEditsChild(LazyEditsBase):
    pass


CONTAINER_EDITS = {
    "dict update": ("labels", lambda c: c.LazyEditsChild.labels.update({"cost": "a1"})),
    "dict update on parent and child": (
        "labels",
        lambda c: (
            c.LazyEditsBase.labels.update({"cost": "a1"}),
            c.LazyEditsChild.labels.update({"x": "1"}),
        ),
    ),
    "set add": ("admins", lambda c: c.LazyEditsChild.admins.add("ann")),
    "set update on the parent": ("admins", lambda c: c.LazyEditsBase.admins.update({"ann", "bob"})),
    "list append to a default": ("steps", lambda c: c.LazyEditsChild.steps.append("push")),
    "list prepend, parent's plain value": (
        "steps",
        lambda c: (setattr(c.LazyEditsBase, "steps", ["a"]), c.LazyEditsChild.steps.prepend(["z"])),
    ),
    "unset: the default": ("steps", lambda c: None),
    "a command-line string, parsed by the trait": (
        "retries",
        lambda c: setattr(c.LazyEditsChild, "retries", DeferredConfigString("3")),
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "build"), CONTAINER_EDITS.values(), ids=list(CONTAINER_EDITS.keys())
)
def test_dict_and_set_edits_keep_the_default_as_traitlets_does(name, build):
    same_as_traitlets(LazyEditsChild, name, build)


@pytest.mark.unit
def test_jupyterhub_dict_and_set_options():
    env = same_as_traitlets(
        Spawner, "environment", lambda c: c.Spawner.environment.update({"A": "1"})
    )
    assert env == {"A": "1"}
    admins = same_as_traitlets(
        Authenticator,
        "admin_users",
        lambda c: (
            setattr(c.Authenticator, "admin_users", {"ann"}),
            c.Authenticator.admin_users.add("bob"),
        ),
    )
    assert admins == {"ann", "bob"}


@pytest.mark.unit
def test_the_presets_reader_follows_traitlets_over_named_sections():
    from oauthenticator.cilogon import CILogonOAuthenticator

    def build(c):
        c.Authenticator.admin_users = {"ann"}
        c.CILogonOAuthenticator.admin_users.add("bob")

    ours, theirs = Config(), Config()
    build(ours)
    build(theirs)
    value = configured(ours, SECTIONS, "admin_users", set())
    assert value == CILogonOAuthenticator(config=theirs).admin_users == {"ann", "bob"}


@pytest.mark.unit
def test_a_default_given_by_the_caller_is_the_base_and_unset_is_told_apart():
    c = Config()
    assert not option_is_set(c, ProfilesLocalProcessSpawner, "profile_list")
    assert option_value(c, ProfilesLocalProcessSpawner, "apply_user_options", default=None) is None
    c.ProfilesLocalProcessSpawner.profile_list.append(SMALL)
    assert option_is_set(c, ProfilesLocalProcessSpawner, "profile_list")
    assert option_value(c, ["ProfilesLocalProcessSpawner"], "profile_list", [LARGE]) == [
        LARGE,
        SMALL,
    ]
    # the read above did not fix the lazy value: the spawner still applies it to its default
    assert ProfilesLocalProcessSpawner(config=c).profile_list == [SMALL]


@pytest.mark.unit
def test_the_wiring_uses_jupyterhubs_own_defaults_and_keeps_appended_services():
    from jupyterhub.app import JupyterHub

    traits = JupyterHub.class_traits()
    assert {k: traits[k].default() for k in HUB_DEFAULTS} == HUB_DEFAULTS
    c = Config()
    c.JupyterHub.services.append({"name": "admins-own", "api_token": "x" * 32})
    c.JupyterHub.template_paths.append("/srv/templates")
    c.JupyterHub.load_roles.append({"name": "readers", "scopes": ["read:users"]})
    additions = wire(c)
    names = [s["name"] for s in additions.JupyterHub.services]
    assert names == ["admins-own", "hub-extensions"]
    assert additions.JupyterHub.template_paths[0] == "/srv/templates"
    assert "readers" in [r["name"] for r in additions.JupyterHub.load_roles]


@pytest.mark.unit
def test_the_start_check_reads_appended_profiles():
    """The check the hub runs at start sees what `.append()` adds: a good list passes, a
    broken appended profile is refused by name (not 'got LazyConfigValue')."""
    c = Config()
    c.JupyterHub.spawner_class = "profiles-local"
    c.ProfilesLocalProcessSpawner.profile_list.append(SMALL)
    assert check_config(c) == []
    c.ProfilesLocalProcessSpawner.profile_list.append({"slug": "nameless"})
    assert check_config(c) == [
        "ProfilesLocalProcessSpawner.profile_list[1].display_name: missing: KubeSpawner "
        "fails at spawn. Fix: name the profile."
    ]


@pytest.mark.unit
def test_check_config_command_accepts_append(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "jupyterhub_config.py"
    path.write_text(
        "c = get_config()\n"
        "c.JupyterHub.spawner_class = 'profiles-local'\n"
        f"c.ProfilesLocalProcessSpawner.profile_list.append({SMALL!r})\n"
        f"c.ProfilesLocalProcessSpawner.profile_list.extend([{LARGE!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "hub_extensions.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("hub-extensions options are valid")


APPENDS = (
    "c = get_config()  # noqa: F821\n"
    "c.JupyterHub.spawner_class = 'profiles-local'\n"
    "c.ProfilesLocalProcessSpawner.profile_list.append("
    "{'display_name': 'Appended one', 'slug': 'appended-one', 'default': True})\n"
    "c.ProfilesLocalProcessSpawner.profile_list.append("
    "{'display_name': 'Appended two', 'slug': 'appended-two'})\n"
)


@pytest.mark.hub
@pytest.mark.hub_ahead(config=APPENDS)
def test_a_hub_whose_config_appends_profiles_starts_and_lists_them(make_hub):
    """The spawn page of a hub configured with `.append()` lists the appended profiles."""
    demo = make_hub(config=APPENDS)
    page = demo.login("ann").get(demo.hub_url("spawn"), timeout=30)
    assert page.status_code == 200
    assert 'name="profile" value="appended-one"' in page.text
    assert 'name="profile" value="appended-two"' in page.text
