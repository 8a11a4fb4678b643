"""`profile_list` as KubeSpawner 7.1 reads it, normalised into frozen dataclasses.

`checks.read` fills these from an admin's list (what is accepted, warned about or refused is
written there and in docs/profiles.md, "Compatibility with KubeSpawner and fancy-profiles").
Normalisation follows `KubeSpawner._get_initialized_profile_list` (spawner.py:3829): a dict
form is ordered by sorted key and its keys are otherwise ignored (`_sorted_dict_values`,
spawner.py:2210), a missing slug is `slugify(display_name)`, the first profile is the default
when none says so, and so is the first choice of each option; an enabled unlisted choice's
`display_name_in_choices` defaults to "Other...". Where several say `default: true`, the first
wins, as KubeSpawner's server picks it (`_get_profile`, `_load_profile`).

Additions: `allowed_groups` and `resources` on profiles and choices.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from slugify import slugify  # the function KubeSpawner makes slugs with

__all__ = ["slugify"]

PROFILE_KEYS = ("slug", "display_name", "description", "default", "kubespawner_override",
                "profile_options", "allowed_groups", "resources")  # fmt: skip
OPTION_KEYS = ("display_name", "choices", "unlisted_choice", "dynamic_image_building")
CHOICE_KEYS = ("display_name", "description", "default", "kubespawner_override",
               "allowed_groups", "resources", "slug")  # fmt: skip
UNLISTED_KEYS = ("enabled", "display_name", "display_name_in_choices", "description_in_choices",
                 "validation_regex", "validation_message", "kubespawner_override")  # fmt: skip
RESOURCE_KEYS = ("cpu", "memory", "gpu", "gpu_type")
UNLISTED_CHOICE = "unlisted-choice"  # the <select> value of "Other..." in KubeSpawner's form
OUR_PREFIX = "hub-extensions-"
_MEMORY = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGT])i?")
_UNITS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # 1024-based, as ByteSpecification


class ProfileListError(ValueError):
    """A refused `profile_list`: the message starts with its path and ends with the fix.

    `problems` holds every refusal when more than one was found (one per line in the message).
    """

    def __init__(self, path: str, problem: str, fix: str = "", problems: tuple = ()):
        self.path = path
        self.problems: tuple[Problem, ...] = problems or (Problem(path, problem, fix, True),)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Problem:
    """One finding in a `profile_list`: a refusal (it would fail or mislead at spawn) or a
    warning (accepted; it has no effect or a better spelling)."""

    path: str
    problem: str
    fix: str = ""
    refusal: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}" + (f" Fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Resources:
    """What a profile or choice provides, for display only."""

    cpu: float | None = None
    memory_bytes: int | None = None
    gpu: int | None = None
    gpu_type: str | None = None


def resources_from(r: dict, path: str, gpu_type: str | None) -> Resources:
    """`resources` checked: cores above 0, whole GPUs, memory read like `mem_limit`."""
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
    return Resources(cpu, memory, gpu, gpu_type)


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
    #: fancy-profiles' description of the "Other..." entry in the list of choices
    description_in_choices: str | None = None


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


T = TypeVar("T", Profile, Choice)


def with_one_default(items: list[T] | tuple[T, ...]) -> tuple[T, ...]:
    """Keep the first `default` (or make the first item the default) and clear the others."""
    first = next((i for i, item in enumerate(items) if item.default), 0)
    return tuple(replace(item, default=i == first) for i, item in enumerate(items))


class Groups(frozenset):
    """A user's group names; with `ignore_case`, `allowed_groups` match them case-insensitively."""

    ignore_case: bool

    def __new__(cls, names: Iterable[str] = (), ignore_case: bool = False):
        self = super().__new__(cls, names)
        self.ignore_case = ignore_case
        return self


def allows(allowed_groups: frozenset[str] | None, groups: Iterable[str]) -> bool:
    """Exact match by default; case-insensitive when `groups` is `Groups(..., ignore_case=True)`."""
    if allowed_groups is None:
        return True
    if getattr(groups, "ignore_case", False):
        folded = {g.casefold() for g in allowed_groups}
        return any(g.casefold() in folded for g in groups)
    return not allowed_groups.isdisjoint(groups)


def visible(profiles: list[Profile], groups: Iterable[str]) -> list[Profile]:
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


def github_teams(spawner: Any, auth_state: dict | None) -> list[str]:
    """GitHub teams as `org:team-slug` names, from oauthenticator's GitHubOAuthenticator
    auth_state (`teams`, filled when `populate_teams_in_auth_state` is on): a ready-made
    `groups_from_auth_state`. The same spelling as its `allowed_organizations`."""
    teams = (auth_state or {}).get("teams") or []
    return [
        f"{t['organization']['login']}:{t['slug']}"
        for t in teams
        if isinstance(t, dict) and isinstance(t.get("organization"), dict)
        and t["organization"].get("login") and t.get("slug")
    ]  # fmt: skip
