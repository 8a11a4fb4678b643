"""One check of every option of the suite, at hub start, at service start and in
`hub-extensions check-config`: each problem is a message naming the option and the fix.

A composition module: it knows every feature's options and checks, and no feature imports it.
"""

from __future__ import annotations

import difflib
import re
from importlib.metadata import entry_points

from traitlets import TraitError
from traitlets.config import Config, Configurable

from .auth.presets import check_cilogon_presets
from .builds.config import HubExtensionsBuilds, check_builds
from .config_values import option_value
from .cost.config import HubExtensionsCost, check_cost
from .options import HubExtensions
from .profiles.config_check import check_profiles
from .renames import REMOVED_OPTIONS, RENAMED_SECTIONS, renamed
from .usage.config import HubExtensionsUsage, check_usage

#: Every Configurable of the suite; check_config() validates each section of these.
CONFIGURABLES: list[type[Configurable]] = [
    HubExtensions,
    HubExtensionsBuilds,
    HubExtensionsUsage,
    HubExtensionsCost,
]
#: Checks of a whole section (what one option alone does not show), after each option's own.
SECTION_CHECKS = [check_builds, check_usage, check_cost]

_TYPE_ERROR_RE = re.compile(r"\AThe '(?P<name>\w+)' trait of an? \w+ instance (?P<rest>.*)\Z", re.S)


def _describe(cls: type[Configurable], key: str, err: TraitError) -> str:
    message = str(err)
    m = _TYPE_ERROR_RE.match(message)
    if m:
        return (
            f"{cls.__name__}.{key}: {m.group('rest')} See `hub-extensions check-config --help-all`."
        )
    if message.startswith(f"{cls.__name__}."):
        return message
    return f"{cls.__name__}.{key}: {message}"


def check_config(config: Config, warnings: list[str] | None = None) -> list[str]:
    """Return one message per problem in the suite's sections of `config` (empty when valid).

    Findings that do not stop the hub (e.g. profile_list keys that have no effect) are appended to
    `warnings` when a list is given.
    """
    config, renames = renamed(config)
    if warnings is not None:
        warnings.extend(renames)
    problems: list[str] = check_profiles(config, warnings)
    problems += check_cilogon_presets(config, warnings)
    problems += check_section_names(config)
    for check in SECTION_CHECKS:
        problems.extend(check(config))
    for cls in CONFIGURABLES:
        if cls.__name__ not in config:
            continue
        section = config[cls.__name__]
        known = set(cls.class_trait_names(config=True))
        for key, value in section.items():
            if (cls.__name__, key) in REMOVED_OPTIONS:
                problems.append(f"{cls.__name__}.{key}: {REMOVED_OPTIONS[cls.__name__, key]}")
                continue
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" Did you mean {cls.__name__}.{close[0]}?" if close else ""
                problems.append(f"{cls.__name__}.{key}: unknown option.{hint}")
                continue
            try:
                # checked as the object will get it (a `.append(...)` edit applied), without
                # resolving the admin's lazy value in place
                value = option_value(config, cls, key)
                cls(config=Config({cls.__name__: {key: value}}))
            except TraitError as err:
                problems.append(_describe(cls, key, err))
    return problems


#: How close a configuration section's name must be to one of the suite's class names to be
#: taken for a typo of it (difflib's ratio: "Buidls" vs "HubExtensionsBuilds" is 0.83).
TYPO_CUTOFF = 0.8


def suite_class_names() -> list[str]:
    """The classes of the suite an admin configures: options, spawners, authenticator."""
    names = [cls.__name__ for cls in CONFIGURABLES]
    for group in ("jupyterhub.spawners", "jupyterhub.authenticators"):
        for ep in entry_points(group=group):
            if ep.value.startswith("hub_extensions."):
                names.append(ep.value.rpartition(":")[2])
    return names


def _known_class_names() -> set[str]:
    """Configurable classes that exist here: loaded ones, and every spawner, authenticator and
    proxy that an installed package registers (their names, without importing them)."""
    seen: set[str] = set()
    todo: list[type] = [Configurable]
    while todo:
        cls = todo.pop()
        sub: type
        for sub in cls.__subclasses__():
            if sub.__name__ not in seen:
                seen.add(sub.__name__)
                todo.append(sub)
    for group in ("jupyterhub.spawners", "jupyterhub.authenticators", "jupyterhub.proxies"):
        seen.update(ep.value.rpartition(":")[2] for ep in entry_points(group=group))
    return seen


def check_section_names(config: Config) -> list[str]:
    """A section named like one of the suite's classes but not quite (`c.Buidls.max_builds`)
    is a typo whose options would be ignored in silence: a problem, with the likely name."""
    ours = suite_class_names()
    # a typo of an old name (`c.Buidls`) is taken for the new one it stands for
    candidates = [*ours, *RENAMED_SECTIONS]
    known: set[str] | None = None
    problems = []
    for section in config:
        if section in candidates or not section[:1].isupper():
            continue
        close = difflib.get_close_matches(section, candidates, n=1, cutoff=TYPO_CUTOFF) or [
            name for name in candidates if name[0] == section[0] and _one_edit_apart(section, name)
        ]  # short names: difflib finds 'Cots' too far from 'Cost'; 'Host' is no typo of it
        if not close:
            continue
        close = [RENAMED_SECTIONS[close[0]][0] if close[0] in RENAMED_SECTIONS else close[0]]
        if known is None:
            known = _known_class_names()
        if section in known:
            continue
        options = list(config[section]) if isinstance(config[section], Config) else []
        meant = close[0]
        set_here = ", ".join(f"{section}.{o}" for o in options) or section
        traits = {c.__name__: set(c.class_trait_names(config=True)) for c in CONFIGURABLES}
        fits = options and options[0] in traits.get(meant, {options[0]})
        example = f"{meant}.{options[0]}" if fits else meant
        problems.append(
            f"{section}: unknown configuration class; the hub would ignore {set_here}. "
            f"Did you mean {example}?"
        )
    return problems


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter changed, added, dropped, or two neighbours swapped (`Cots` for `Cost`)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
