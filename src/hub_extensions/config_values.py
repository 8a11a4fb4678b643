"""Read an option from a traitlets Config the way the configured object will read it.

jupyterhub_config.py may change a container option instead of replacing it:
`c.KubeSpawner.profile_list.append({...})`, `.extend`, `.prepend`, `.insert`, `.update` on a
dict, `.add` on a set. traitlets stores such an edit as a `LazyConfigValue` and applies it to
the option's default when it creates the object. A value set on a parent class's section
(`c.Spawner.x`) applies to a subclass, and a subclass's section wins; a subclass's lazy edit
is merged onto the parent's value (`Configurable._find_my_config`, `Config.merge`).

The suite reads some options before any such object exists (the start checks, the wiring).
`option_value` gives what the object will get, so a check never sees a `LazyConfigValue`.
This module is a leaf: it imports traitlets only, never the rest of the package.

Not covered: a dynamic default (`@default(...)`) is not computed (it needs an instance): a
lazy edit applies to the trait's static default, or to the `default` the caller passes; and
sections nested under a parent object (`c.JupyterHub.Authenticator.x`) are not read.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from traitlets import HasTraits, TraitError, TraitType
from traitlets.config import Config, Configurable
from traitlets.config.loader import DeferredConfig, LazyConfigValue

#: A class whose options are read (its sections: the class and its configurable bases), or
#: the section names themselves, least specific first (for a class that may not be importable).
Owner = type | Sequence[str]

_TRAIT_DEFAULT: Any = object()  # `default` not given: the trait's own default
_UNSET: Any = object()


def section_names(owner: Owner) -> list[str]:
    """The config sections an object of `owner` reads, least specific first."""
    if isinstance(owner, str):
        return [owner]
    if isinstance(owner, type):
        if issubclass(owner, Configurable):
            return owner.section_names()
        return [k.__name__ for k in reversed(owner.__mro__) if k is not object]
    return list(owner)


def option_is_set(config: Config, owner: Owner, name: str) -> bool:
    """Whether any section `owner` reads sets `name` (a lazy edit counts as set)."""
    return any(_section_value(config, s, name) is not _UNSET for s in section_names(owner))


def option_value(config: Config, owner: Owner, name: str, default: Any = _TRAIT_DEFAULT) -> Any:
    """The value of option `name` that an object of `owner` gets from `config`.

    `default` is the value before config applies (returned when no section sets the option,
    and what `.append(...)`-style edits apply to); when not given it is the default of
    `owner`'s trait `name` (None when there is no such trait). The config is not changed. A
    set value is returned as the admin's object itself: copy it before changing it.
    """
    trait = _trait(owner, name)
    found = _merged(config, section_names(owner), name)
    if found is _UNSET or isinstance(found, LazyConfigValue):
        initial = _trait_default(trait) if default is _TRAIT_DEFAULT else default
        if found is _UNSET:
            return copy.deepcopy(initial)
        return found.get_value(initial)
    if isinstance(found, DeferredConfig) and trait is not None:
        return found.get_value(trait)  # a command-line string, parsed by the trait
    return found


def _merged(config: Config, sections: list[str], name: str) -> Any:
    """The sections' values of `name` merged as traitlets merges them (most specific last)."""
    merged = Config()
    for section in sections:
        value = _section_value(config, section, name)
        if value is _UNSET:
            continue
        if isinstance(value, (LazyConfigValue, Config)):
            # Config.merge and LazyConfigValue.get_value change these objects in place (a
            # lazy value also caches its first result): work on copies, never the admin's
            value = copy.deepcopy(value)
        merged.merge({name: value})
    return merged[name] if name in merged else _UNSET


def _section_value(config: Config, section: str, name: str) -> Any:
    # `config[section]` would create a missing section: look before reading
    part = dict.get(config, section)
    if isinstance(part, dict) and name in part:
        return dict.__getitem__(part, name)
    return _UNSET


def _trait(owner: Owner, name: str) -> TraitType | None:
    if isinstance(owner, type) and issubclass(owner, HasTraits):
        return owner.class_traits().get(name)
    return None


def _trait_default(trait: TraitType | None) -> Any:
    if trait is None:
        return None
    try:
        return trait.default()
    except TraitError:  # a trait without a static default (only a dynamic one)
        return None
