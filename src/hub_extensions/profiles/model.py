"""`profile_list` as KubeSpawner 7.1 reads it, checked and normalised into frozen dataclasses.

Normalisation follows `KubeSpawner._get_initialized_profile_list` (spawner.py:3829): a dict
form is ordered by sorted key and its keys are otherwise ignored (`_sorted_dict_values`,
spawner.py:2210), a missing slug is `slugify(display_name)`, the first profile is the default
when none says so, and so is the first choice of each option; an enabled unlisted choice's
`display_name_in_choices` defaults to "Other...". Deliberate differences:

- every key is checked and unknown keys are refused with a "did you mean" (KubeSpawner ignores
  them); an optional key set to None counts as absent; a callable may also return a dict;
- several `default: True`: the first wins everywhere (KubeSpawner's server takes the first,
  its form's browser shows the last);
- refused here rather than failing at spawn: duplicate or empty slugs, a slug that prefixes
  another's form fields (`a` and `a--b`), an option with neither choices nor an enabled
  unlisted choice, reserved keys (option `profile`, `...--unlisted-choice`, `hub-extensions-...`;
  choice `unlisted-choice`), a `{...}` in an unlisted override that `str.format` rejects, and
  a `validation_regex` that means something else in JavaScript (see `pattern_problem`);
- option and choice `display_name` default to their key, an unlisted choice's to its
  option's (KubeSpawner shows an empty label);
- additions: `allowed_groups` and `resources` on profiles and choices, `description` on choices.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from slugify import slugify

from .patterns import pattern_problem, substitute

PROFILE_KEYS = ("slug", "display_name", "description", "default", "kubespawner_override",
                "profile_options", "allowed_groups", "resources")  # fmt: skip
OPTION_KEYS = ("display_name", "choices", "unlisted_choice", "dynamic_image_building")
CHOICE_KEYS = ("display_name", "description", "default", "kubespawner_override",
               "allowed_groups", "resources")  # fmt: skip
UNLISTED_KEYS = ("enabled", "display_name", "display_name_in_choices", "validation_regex",
                 "validation_message", "kubespawner_override")  # fmt: skip
RESOURCE_KEYS = ("cpu", "memory", "gpu", "gpu_type")
UNLISTED_CHOICE = "unlisted-choice"  # the <select> value of "Other..." in KubeSpawner's form
OUR_PREFIX = "hub-extensions-"
_MEMORY = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGT])i?")
_UNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # 1024-based, as ByteSpecification


class ProfileListError(ValueError):
    """A mistake in `profile_list`: the message starts with its path and ends with the fix."""

    def __init__(self, path: str, problem: str, fix: str = ""):
        self.path = path
        super().__init__(f"{path}: {problem}" + (f" Fix: {fix}" if fix else ""))


@dataclass(frozen=True)
class Resources:
    """What a profile or choice provides, for display only."""

    cpu: float | None = None
    memory_bytes: int | None = None
    gpu: int | None = None
    gpu_type: str | None = None


@dataclass(frozen=True)
class Choice:
    key: str
    display_name: str
    description: str | None = None
    default: bool = False
    kubespawner_override: dict[str, Any] = field(default_factory=dict)
    allowed_groups: frozenset[str] | None = None
    resources: Resources | None = None
    path: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Unlisted:
    enabled: bool = False
    display_name: str = ""
    display_name_in_choices: str | None = None
    validation_regex: str | None = None
    validation_message: str | None = None
    kubespawner_override: dict[str, Any] = field(default_factory=dict)
    path: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Option:
    key: str
    display_name: str
    choices: tuple[Choice, ...] = ()
    unlisted: Unlisted = field(default_factory=Unlisted)
    path: str = field(default="", compare=False, repr=False)
    #: users may build an image from a repository; a signed build result is accepted as the
    #: unlisted value even when it does not match validation_regex (hub-extensions addition)
    dynamic_builds: bool = False

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)

    @property
    def default_choice(self) -> Choice | None:
        return next((c for c in self.choices if c.default), None)


@dataclass(frozen=True)
class Profile:
    slug: str
    display_name: str
    description: str | None = None
    default: bool = False
    kubespawner_override: dict[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    allowed_groups: frozenset[str] | None = None
    resources: Resources | None = None
    path: str = field(default="", compare=False, repr=False)

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


def did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


# --- checking and normalising ----------------------------------------------------------------


def _mapping(
    value: Any, path: str, allowed: tuple[str, ...] | None, what: str, drop_none: bool = True
) -> dict:
    if not isinstance(value, Mapping):
        raise ProfileListError(path, f"expected {what}, got {type(value).__name__}.")
    for key in value:
        if not isinstance(key, str) or not key:
            raise ProfileListError(path, f"key {key!r} is not a non-empty string.")
        if allowed is not None and key not in allowed:
            raise ProfileListError(
                f"{path}.{key}",
                f"unknown key.{did_you_mean(key, allowed)}",
                f"use one of {', '.join(allowed)}.",
            )
    return {k: v for k, v in value.items() if v is not None or not drop_none}


def _text(d: dict, key: str, path: str, default: str | None = None) -> Any:
    value = d.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ProfileListError(f"{path}.{key}", f"{value!r} is not a string.")
    return value


def _flag(d: dict, key: str, path: str) -> bool:
    value = d.get(key, False)
    if not isinstance(value, bool):
        raise ProfileListError(f"{path}.{key}", f"{value!r} is not True or False.")
    return value


def _groups(d: dict, path: str) -> frozenset[str] | None:
    groups = d.get("allowed_groups")
    if groups is None:
        return None
    if isinstance(groups, str | bytes) or not isinstance(groups, list | tuple | set | frozenset):
        groups = None
    if not groups or not all(isinstance(g, str) and g for g in groups):
        raise ProfileListError(
            f"{path}.allowed_groups",
            f"{d['allowed_groups']!r} is not a non-empty list of JupyterHub group names.",
            "write e.g. ['gpu-users'], or remove the key to allow everyone.",
        )
    return frozenset(groups)


def _overrides(d: dict, path: str) -> dict[str, Any]:
    path = f"{path}.kubespawner_override"
    # None stays: KubeSpawner sets the option to None
    return _mapping(d.get("kubespawner_override", {}), path, None, "a dict of options", False)


def _resources(d: dict, path: str) -> Resources | None:
    if "resources" not in d:
        return None
    path = f"{path}.resources"
    r = _mapping(d["resources"], path, RESOURCE_KEYS, "a dict of cpu, memory, gpu, gpu_type")
    cpu, gpu, memory = r.get("cpu"), r.get("gpu"), r.get("memory")
    if cpu is not None and (
        isinstance(cpu, bool) or not isinstance(cpu, int | float) or not 0 < cpu < math.inf
    ):
        raise ProfileListError(f"{path}.cpu", f"{cpu!r} is not a number of cores above 0.")
    if gpu is not None and (isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 0):
        raise ProfileListError(f"{path}.gpu", f"{gpu!r} is not a whole number, 0 or more.")
    if isinstance(memory, str) and (m := _MEMORY.fullmatch(memory)):
        memory = int(float(m[1]) * _UNITS[m[2]])
    if memory is not None and (
        isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0
    ):
        raise ProfileListError(
            f"{path}.memory",
            f"{r['memory']!r} is not a memory size.",
            "write bytes as an int, or a string like '512M', '4G' or '4Gi' (1024-based).",
        )
    cpu = None if cpu is None else float(cpu)
    return Resources(cpu, memory, gpu, _text(r, "gpu_type", path))


def _unlisted(value: Any, path: str, option_name: str) -> Unlisted:
    u = _mapping(value, path, UNLISTED_KEYS, "a dict (the unlisted choice)")
    enabled = _flag(u, "enabled", path)
    regex = _text(u, "validation_regex", path) or None  # "" checks nothing, as in KubeSpawner
    if regex is not None and (problem := pattern_problem(regex)):
        raise ProfileListError(
            f"{path}.validation_regex",
            f"{regex!r}: {problem}",
            "use syntax that Python and JavaScript read alike; the value must match the whole "
            "pattern anyway, so anchors are not needed.",
        )
    overrides = _overrides(u, path)
    try:
        substitute(overrides, "value")
    except (ValueError, LookupError, AttributeError, TypeError) as err:
        raise ProfileListError(
            f"{path}.kubespawner_override",
            f"'{{value}}' cannot be substituted: {err}.",
            "write '{{' and '}}' for literal braces.",
        ) from None
    other = "Other..." if enabled else None
    return Unlisted(
        enabled,
        _text(u, "display_name", path, option_name),
        _text(u, "display_name_in_choices", path, other),
        regex,
        _text(u, "validation_message", path),
        overrides,
        path,
    )


T = TypeVar("T", Profile, Choice)


def with_one_default(items: list[T] | tuple[T, ...]) -> tuple[T, ...]:
    """Keep the first `default` (or make the first item the default) and clear the others."""
    first = next((i for i, item in enumerate(items) if item.default), 0)
    return tuple(replace(item, default=i == first) for i, item in enumerate(items))


def _option(key: str, value: Any, parent: str) -> Option:
    path = f"{parent}.{key}"
    reserved = ("--unlisted-choice", "--build-signature")
    if key == "profile" or key.endswith(reserved) or key.startswith(OUR_PREFIX):
        raise ProfileListError(path, "this option key is reserved for the form.", "rename it.")
    o = _mapping(value, path, OPTION_KEYS, "a dict (a profile option)")
    display_name = _text(o, "display_name", path, key)
    choices = []
    for ckey, cvalue in _mapping(o.get("choices", {}), f"{path}.choices", None, "a dict").items():
        cpath = f"{path}.choices.{ckey}"
        if ckey == UNLISTED_CHOICE:
            raise ProfileListError(cpath, "this choice key is reserved for the form.", "rename it.")
        c = _mapping(cvalue, cpath, CHOICE_KEYS, "a dict (a choice)")
        choices.append(
            Choice(
                ckey,
                _text(c, "display_name", cpath, ckey),
                _text(c, "description", cpath),
                _flag(c, "default", cpath),
                _overrides(c, cpath),
                _groups(c, cpath),
                _resources(c, cpath),
                cpath,
            )
        )
    unlisted = _unlisted(o.get("unlisted_choice", {}), f"{path}.unlisted_choice", display_name)
    if not choices and not unlisted.enabled:
        raise ProfileListError(
            path, "has no choices and no enabled unlisted_choice.", "add choices."
        )
    dpath = f"{path}.dynamic_image_building"
    building = _mapping(o.get("dynamic_image_building", {}), dpath, ("enabled",), "a dict")
    dynamic = _flag(building, "enabled", dpath)
    if dynamic and not unlisted.enabled:
        raise ProfileListError(
            dpath,
            "built images are applied through the option's unlisted_choice, which is off.",
            'enable unlisted_choice with a kubespawner_override such as {"image": "{value}"}.',
        )
    return Option(key, display_name, with_one_default(choices), unlisted, path, dynamic)


def _profile(value: Any, path: str) -> Profile:
    p = _mapping(value, path, PROFILE_KEYS, "a dict (a profile)")
    display_name = _text(p, "display_name", path)
    if not display_name:
        raise ProfileListError(f"{path}.display_name", "missing.", "name the profile.")
    slug = _text(p, "slug", path, slugify(display_name))
    if not slug:
        raise ProfileListError(f"{path}.slug", "empty.", "set a slug such as 'gpu-large'.")
    opts = _mapping(p.get("profile_options", {}), f"{path}.profile_options", None, "a dict")
    return Profile(
        slug,
        display_name,
        _text(p, "description", path),
        _flag(p, "default", path),
        _overrides(p, path),
        tuple(_option(k, v, f"{path}.profile_options") for k, v in opts.items()),
        _groups(p, path),
        _resources(p, path),
        path,
    )


def normalize(profile_list: Any, root: str = "profile_list") -> list[Profile]:
    """Check and normalise a list or dict-form `profile_list`, or raise ProfileListError."""
    if isinstance(profile_list, Mapping):
        if not all(isinstance(k, str) for k in profile_list):
            raise ProfileListError(root, "the keys of a dict-form profile_list must be strings.")
        items = [(f"{root}[{k!r}]", profile_list[k]) for k in sorted(profile_list)]
    elif isinstance(profile_list, list | tuple):
        items = [(f"{root}[{i}]", p) for i, p in enumerate(profile_list)]
    else:
        raise ProfileListError(
            root,
            f"expected a list of profiles, a dict of profiles or a callable, "
            f"got {type(profile_list).__name__}.",
        )
    profiles: list[Profile] = []
    for path, value in items:
        new = _profile(value, path)
        for old in profiles:
            a, b = sorted((old.slug + "--", new.slug + "--"), key=len)
            if b.startswith(a):
                raise ProfileListError(
                    f"{path}.slug",
                    f"{new.slug!r} is also the slug of {old.path}."
                    if new.slug == old.slug
                    else f"{new.slug!r} and the slug {old.slug!r} of {old.path} would mix "
                    "their form fields.",
                    "give each profile its own slug, not one that starts with another's + '--'.",
                )
        profiles.append(new)
    return list(with_one_default(profiles))


async def resolve(profile_list_value: Any, spawner: Any) -> list[Profile]:
    """The normalised profiles; a callable is called with the spawner (sync or async)."""
    if not callable(profile_list_value):
        return normalize(profile_list_value)
    name = getattr(profile_list_value, "__qualname__", type(profile_list_value).__name__)
    root = f"profile_list (callable {name})"
    try:
        result = profile_list_value(spawner)
        if inspect.isawaitable(result):
            result = await result
    except Exception as err:
        raise ProfileListError(
            root, f"raised {type(err).__name__}: {err}", "make it return a list of profiles."
        ) from err
    return normalize(result, root=root)


def allows(allowed_groups: frozenset[str] | None, groups: set[str]) -> bool:
    return allowed_groups is None or not allowed_groups.isdisjoint(groups)


def visible(profiles: list[Profile], groups: set[str]) -> list[Profile]:
    """What a member of `groups` may see; a hidden default passes to the first item left."""
    shown = []
    for p in profiles:
        if not allows(p.allowed_groups, groups):
            continue
        options = []
        for o in p.options:
            choices = [c for c in o.choices if allows(c.allowed_groups, groups)]
            if not choices and not o.unlisted.enabled:
                break  # this user could not complete the profile
            options.append(replace(o, choices=with_one_default(choices)))
        else:
            shown.append(replace(p, options=tuple(options)))
    return list(with_one_default(shown))
