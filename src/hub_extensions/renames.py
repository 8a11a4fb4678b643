"""Renamed configuration sections and removed options: the old name warns and maps to the new.

As JupyterHub does for its renamed options: an admin's file that still says `c.Usage.db_url`
keeps working, with a warning at start that names the new spelling; where both are set, the
new name's value wins. A removed option is a problem that says what replaces it.
"""

from __future__ import annotations

import copy

from traitlets.config import Config

#: Old section name -> (new section name, the version that renamed it).
RENAMED_SECTIONS: dict[str, tuple[str, str]] = {
    "Usage": ("HubExtensionsUsage", "0.1.0"),
    "Cost": ("HubExtensionsCost", "0.1.0"),
    "Builds": ("HubExtensionsBuilds", "0.1.0"),
}
#: (section, option) -> what to do instead, for options that are gone.
REMOVED_OPTIONS: dict[tuple[str, str], str] = {
    ("HubExtensionsCost", "timezone"): (
        "removed in 0.1.0: prices and budgets follow the ledger's days. "
        "Set HubExtensionsUsage.timezone instead (and remove this line)."
    ),
}


def renamed(config: Config) -> tuple[Config, list[str]]:
    """`config` with each old section's options moved under the new name, and one warning per
    old section. `config` itself is left as it is; the new name's own values win."""
    old = [name for name in RENAMED_SECTIONS if name in config and _is_section(config[name])]
    if not old:
        return config, []
    out = copy.deepcopy(config)
    warnings = []
    for name in old:
        new, version = RENAMED_SECTIONS[name]
        moved = out.pop(name)
        merged = Config({new: moved})
        if new in out:
            merged.merge(Config({new: out[new]}))  # the new name's values win
        out.merge(merged)
        warnings.append(
            f"{name} is deprecated since hub-extensions {version}: rename c.{name} to "
            f"c.{new} (until then the hub reads its options as {new}'s)."
        )
    return out, warnings


def _is_section(value: object) -> bool:
    return isinstance(value, Config)
