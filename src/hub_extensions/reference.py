"""The configuration reference (docs/configuration.md), generated from the help texts."""

from __future__ import annotations

import inspect

from .checks import CONFIGURABLES
from .profiles.spawner_mixin import ProfilesMixin


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md), generated from the help texts."""
    out = [
        "# Configuration reference",
        "",
        "Generated from the traitlets help texts by `hub-extensions config-reference`;",
        "do not edit by hand. Set options in `jupyterhub_config.py`, e.g.",
        '`c.HubExtensions.service_url = "http://hub:10101"`.',
    ]
    for cls in CONFIGURABLES:
        out += ["", f"## {cls.__name__}", "", inspect.getdoc(cls) or ""]
        for name, trait in sorted(cls.class_traits(config=True).items()):
            default = trait.default_value_repr()
            out += [
                "",
                f"### `{cls.__name__}.{name}`",
                "",
                f"{type(trait).__name__}, default `{default}`.",
                "",
                inspect.cleandoc(trait.help),
            ]
    out += _profiles_reference() + _cilogon_reference()
    return "\n".join(out) + "\n"


def _cilogon_reference() -> list[str]:
    try:
        from .auth.cilogon import CILogonPresetsAuthenticator as cls
    except ImportError:  # oauthenticator not installed: nothing to document here
        return []
    out = [
        "",
        "## CILogonPresetsAuthenticator",
        "",
        "Entry point `cilogon-presets`; a CILogonOAuthenticator configured by presets",
        "(see docs/cilogon.md). Its own options (the rest are CILogonOAuthenticator's):",
    ]
    for name, trait in sorted(cls.class_own_traits(config=True).items()):
        out += [
            "",
            f"### `{cls.__name__}.{name}`",
            "",
            f"{type(trait).__name__}, default `{trait.default_value_repr()}`.",
            "",
            inspect.cleandoc(trait.help),
        ]
    return out


def _profiles_reference() -> list[str]:
    trait = ProfilesMixin.class_traits()["profile_list"]
    groups = []
    for name in ("allowed_groups_ignore_case", "groups_from_auth_state"):
        t = ProfilesMixin.class_traits()[name]
        groups += [
            "",
            f"### `<ProfilesSpawner>.{name}`",
            "",
            f"{type(t).__name__}, default `{t.default_value_repr()}`.",
            "",
            inspect.cleandoc(t.help),
        ]
    return [
        "",
        "## Profiles spawners",
        "",
        "Spawner classes with the profiles form, by entry point: `profiles-local`",
        "(LocalProcessSpawner), `profiles-docker` (DockerSpawner), `profiles-loopback-docker`",
        "(DockerSpawner on the host's loopback network), `profiles-kubernetes` (KubeSpawner).",
        "Set the option on the class, e.g. `c.ProfilesDockerSpawner.profile_list = [...]`.",
        "",
        "### `<ProfilesSpawner>.profile_list`",
        "",
        f"List, dict or callable, default `{trait.default_value_repr()}`.",
        "",
        inspect.cleandoc(trait.help),
        *groups,
    ]
