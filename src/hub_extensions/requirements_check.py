"""Start-time check of the installed JupyterHub and oauthenticator against what the suite needs.

pip normally enforces these floors, but a hub image can end up below them: an image built with
`pip install --no-deps`, a constraints file that pins the image's older JupyterHub, or a
Zero to JupyterHub image of charts 4.2.0-4.3.2 (oauthenticator 17.3) with `hub-extensions` installed
without its `[cilogon]` extra. On oauthenticator 17.3 the CILogon presets would set `idps`, a
name that version does not read (it reads `allowed_idps`): the hub starts silently and every
login answers 500. This module turns that into a refusal at start that says what to install.

The floors repeat pyproject.toml's (`jupyterhub>=` in dependencies, `oauthenticator>=` in the
`cilogon` extra); tests/test_z2jh_versions.py checks that they agree.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

from traitlets.config import Config

#: The oldest JupyterHub the suite runs on (pyproject.toml: `jupyterhub>=5.3`).
MIN_JUPYTERHUB = (5, 3)
#: The oldest oauthenticator whose CILogonOAuthenticator reads `idps` (17.3 read `allowed_idps`).
MIN_OAUTHENTICATOR = (17, 4)
#: How users get a matching image on Zero to JupyterHub (see docs/zero-to-jupyterhub.md).
IMAGE_HINT = (
    "On Zero to JupyterHub, build the hub image from the Dockerfile for your chart version in "
    "images/hub/ (docs/zero-to-jupyterhub.md, section 1)."
)


def parse_version(text: str) -> tuple[int, ...]:
    """`(5, 4, 3)` from `5.4.3`, `5.5.0.dev0` or `6.0.0b1`: the leading numeric release."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in match.group(0).split("."))


def _dotted(parts: tuple[int, ...]) -> str:
    return ".".join(map(str, parts))


def installed_version(distribution: str) -> str | None:
    """The installed version of `distribution`, or None when it is not installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def jupyterhub_problems(jupyterhub_version: str | None = None) -> list[str]:
    """A problem when the JupyterHub running the suite is older than the suite supports."""
    found = jupyterhub_version or installed_version("jupyterhub")
    if found is None or parse_version(found) >= MIN_JUPYTERHUB:
        return []
    need = _dotted(MIN_JUPYTERHUB)
    return [
        f"JupyterHub {found} is installed; hub-extensions needs JupyterHub >= {need}. "
        f"Fix: upgrade JupyterHub (pip install 'jupyterhub>={need}'). On Zero to JupyterHub, "
        f"charts that ship JupyterHub older than {need} (4.0.0 to 4.1.0 ship 5.2) are not "
        f"supported: upgrade the chart. {IMAGE_HINT}"
    ]


def oauthenticator_problems(oauthenticator_version: str | None = None) -> list[str]:
    """A problem when the installed oauthenticator is too old for the CILogon presets."""
    found = oauthenticator_version or installed_version("oauthenticator")
    need = _dotted(MIN_OAUTHENTICATOR)
    if found is None:
        return [
            "the CILogon presets (authenticator_class 'cilogon-presets') need oauthenticator, "
            "which is not installed. Fix: pip install 'hub-extensions[cilogon]'. " + IMAGE_HINT
        ]
    if parse_version(found) >= MIN_OAUTHENTICATOR:
        return []
    return [
        f"the CILogon presets need oauthenticator >= {need}, and {found} is installed: they "
        "set CILogonOAuthenticator.idps, which oauthenticator 17.3 and older do not read (they "
        "read allowed_idps), so every login would fail with a 500. Fix: install the suite "
        "with its cilogon extra, pip install 'hub-extensions[cilogon]' (it upgrades "
        f"oauthenticator to >= {need}). {IMAGE_HINT}"
    ]


def uses_cilogon_presets(config: Config) -> bool:
    """Whether `config` selects the presets authenticator (or a subclass of it)."""
    hub = config.JupyterHub if "JupyterHub" in config else Config()
    value = hub.get("authenticator_class")
    if value is None:
        return False
    if isinstance(value, str):
        # the entry point name or a dotted path; no import needed (it may be what fails)
        return value == "cilogon-presets" or value.endswith(".CILogonPresetsAuthenticator")
    if isinstance(value, type):
        return any(k.__name__ == "CILogonPresetsAuthenticator" for k in value.__mro__)
    return False


def version_problems(
    config: Config,
    *,
    jupyterhub_version: str | None = None,
    oauthenticator_version: str | None = None,
) -> list[str]:
    """Every version problem for a hub configured by `config` (installed versions by default)."""
    problems = jupyterhub_problems(jupyterhub_version)
    if uses_cilogon_presets(config):
        problems += oauthenticator_problems(oauthenticator_version)
    return problems
