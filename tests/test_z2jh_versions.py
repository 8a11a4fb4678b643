"""The hub refuses to start on a JupyterHub or oauthenticator older than the suite needs.

Zero to JupyterHub images of charts 4.0.0-4.1.0 ship JupyterHub 5.2 (below the suite's floor),
and those of charts 4.2.0 to 4.3.2 ship oauthenticator 17.3, whose CILogonOAuthenticator reads
`allowed_idps` where the presets set `idps` (17.4's name): without this check such a hub
starts silently and every CILogon login answers 500. Versions are faked through the check's
parameters or its lookup of the installed version: nothing is installed. Not covered: a hub
really running oauthenticator 17.3 (tests/test_z2jh_images.py resolves that image's installs).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import tomllib
from traitlets import TraitError
from traitlets.config import Config

from hub_extensions import requirements_check, wiring
from hub_extensions.requirements_check import (
    MIN_JUPYTERHUB,
    MIN_OAUTHENTICATOR,
    parse_version,
    version_problems,
)

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def presets_config(authenticator="cilogon-presets") -> Config:
    c = Config()
    c.JupyterHub.authenticator_class = authenticator
    return c


def _floor(requirements: list[str], name: str) -> tuple[int, ...]:
    [spec] = [r for r in requirements if r.split(">=")[0].strip() == name]
    return parse_version(spec.split(">=")[1])


def test_floors_are_pyprojects():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert _floor(project["dependencies"], "jupyterhub") == MIN_JUPYTERHUB
    extra = project["optional-dependencies"]["cilogon"]
    assert _floor(extra, "oauthenticator") == MIN_OAUTHENTICATOR


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("5.4.3", (5, 4, 3)), ("5.5.0.dev0", (5, 5, 0)), ("6.0.0b1", (6, 0, 0)), ("17.4", (17, 4))],
)
def test_parse_version(text, parsed):
    assert parse_version(text) == parsed


def test_oauthenticator_17_3_is_refused_for_presets_with_the_fix():
    [problem] = version_problems(
        presets_config(), jupyterhub_version="5.4.3", oauthenticator_version="17.3.0"
    )
    assert "the CILogon presets need oauthenticator >= 17.4, and 17.3.0 is installed" in problem
    assert "allowed_idps" in problem  # why: the name 17.3 reads
    assert "pip install 'hub-extensions[cilogon]'" in problem  # the fix
    assert "images/hub/" in problem  # the Dockerfile per chart range


@pytest.mark.parametrize(
    "authenticator",
    [
        "cilogon-presets",
        "hub_extensions.auth.cilogon.CILogonPresetsAuthenticator",
    ],
)
def test_every_spelling_of_the_presets_is_checked(authenticator):
    problems = version_problems(
        presets_config(authenticator), jupyterhub_version="5.5.0", oauthenticator_version="17.3.0"
    )
    assert len(problems) == 1


def test_the_presets_class_and_subclasses_are_checked():
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    class Mine(CILogonPresetsAuthenticator):
        pass

    for cls in (CILogonPresetsAuthenticator, Mine):
        problems = version_problems(
            presets_config(cls), jupyterhub_version="5.5.0", oauthenticator_version="17.3.0"
        )
        assert len(problems) == 1


@pytest.mark.parametrize("oauthenticator", ["17.4.0", "17.4.1", "18.0.0"])
def test_new_enough_oauthenticator_passes(oauthenticator):
    assert (
        version_problems(
            presets_config(), jupyterhub_version="5.4.3", oauthenticator_version=oauthenticator
        )
        == []
    )


def test_other_authenticators_do_not_need_oauthenticator_17_4():
    for authenticator in ("dummy", "github", "oauthenticator.cilogon.CILogonOAuthenticator"):
        config = presets_config(authenticator)
        assert (
            version_problems(config, jupyterhub_version="5.4.3", oauthenticator_version="17.3.0")
            == []
        )
    assert version_problems(Config(), jupyterhub_version="5.4.3") == []


def test_presets_without_oauthenticator_say_what_to_install(monkeypatch):
    monkeypatch.setattr(requirements_check, "installed_version", lambda name: None)
    [problem] = requirements_check.oauthenticator_problems()
    assert "need oauthenticator, which is not installed" in problem
    assert "pip install 'hub-extensions[cilogon]'" in problem


@pytest.mark.parametrize("hub", ["5.2.1", "5.2.0", "4.1.6"])
def test_jupyterhub_below_the_floor_is_refused_with_the_fix(hub):
    [problem] = version_problems(Config(), jupyterhub_version=hub)
    assert f"JupyterHub {hub} is installed; hub-extensions needs JupyterHub >= 5.3" in problem
    assert "4.0.0 to 4.1.0" in problem  # the charts that ship it
    assert "upgrade the chart" in problem


@pytest.mark.parametrize("hub", ["5.3.0", "5.4.3", "5.5.0", "6.1.1"])
def test_supported_jupyterhub_passes(hub):
    assert version_problems(Config(), jupyterhub_version=hub) == []


def test_this_environment_passes():
    # the installed versions (pyproject's floors hold here): no false refusal
    assert version_problems(presets_config()) == []


# ------------------------------------------------------------ where the hub start calls it


def _fake_installed(monkeypatch, **versions):
    real = requirements_check.installed_version
    monkeypatch.setattr(
        requirements_check, "installed_version", lambda name: versions.get(name) or real(name)
    )


def test_the_presets_authenticator_refuses_oauthenticator_17_3(monkeypatch):
    """Also without hub_extensions.setup(c): the authenticator alone stops the hub."""
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    _fake_installed(monkeypatch, oauthenticator="17.3.0")
    c = Config()
    c.CILogonPresetsAuthenticator.providers = [{"preset": "orcid", "allow_all": True}]
    c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0
    with pytest.raises(TraitError) as refused:
        CILogonPresetsAuthenticator(config=c)
    assert "invalid CILogon presets, the hub will not start" in str(refused.value)
    assert "need oauthenticator >= 17.4, and 17.3.0 is installed" in str(refused.value)


class _App:
    """What finalize() uses of a starting JupyterHub: its log and exit()."""

    def __init__(self):
        self.messages: list[str] = []
        self.log = SimpleNamespace(critical=self.messages.append)
        self.exit_code = None

    def exit(self, code):
        self.exit_code = code
        raise SystemExit(code)


def test_setup_refuses_to_start_a_hub_on_old_versions(monkeypatch):
    _fake_installed(monkeypatch, jupyterhub="5.2.1", oauthenticator="17.3.0")
    app = _App()
    c = presets_config()
    c.CILogonPresetsAuthenticator.providers = [{"preset": "orcid", "allow_all": True}]
    with pytest.raises(SystemExit):
        wiring.finalize(app, c)
    assert app.exit_code == 1
    [message] = app.messages
    assert "invalid configuration, the hub will not start" in message
    assert "JupyterHub 5.2.1 is installed" in message
    assert "oauthenticator >= 17.4, and 17.3.0 is installed" in message
