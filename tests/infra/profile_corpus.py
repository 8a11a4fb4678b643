"""The corpus of real-world-shaped profile lists (tests/data/profile_lists) and the user choices
the conformance tests make on them.

A corpus file holds `profile_list` (list or dict form, as in `singleuser.profileList`) and, for
the test: `kubespawner` (base KubeSpawner settings, as a Z2JH chart sets them), `users` (name
to JupyterHub groups; default one user in no group), `callable` (a function of
`profile_list_callables` the list is wrapped in) with `callable_args`, and `samples` (values a
user types into "Other...": `valid` and `invalid`, by "profile-slug/option-key").

Which profiles and choices a user may pick follows the documented `allowed_groups` rule (exact
group names; a profile whose option keeps no choice and has no unlisted choice is hidden).
Defaults follow KubeSpawner's own initialisation (`_get_initialized_profile_list`).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from .profile_list_callables import CALLABLES

CORPUS = Path(__file__).resolve().parents[1] / "data" / "profile_lists"
MAX_COMBINATIONS = 12  # per list and user, unless covering each choice once needs more
UNLISTED = "unlisted"


@dataclass(frozen=True)
class Case:
    name: str
    shape: str
    raw: dict = field(repr=False)
    path: Path = field(repr=False, default=CORPUS)

    @property
    def users(self) -> dict[str, list[str]]:
        return self.raw.get("users") or {"alice": []}

    @property
    def kubespawner(self) -> dict:
        return self.raw.get("kubespawner") or {}

    def samples(self, slug: str, option: str, kind: str) -> list[str]:
        return (self.raw.get("samples") or {}).get(f"{slug}/{option}", {}).get(kind, [])

    def profile_list(self) -> Any:
        """The value for `c.KubeSpawner.profile_list`: the list, or the callable wrapping it."""
        profiles = copy.deepcopy(self.raw["profile_list"])
        name = self.raw.get("callable")
        if not name:
            return profiles
        func, args = CALLABLES[name], self.raw.get("callable_args") or {}
        listed = profiles if isinstance(profiles, list) else [profiles[k] for k in sorted(profiles)]
        if inspect.iscoroutinefunction(func):

            async def wrapped(spawner):
                return await func(spawner, copy.deepcopy(listed), **args)
        else:

            def wrapped(spawner):
                return func(spawner, copy.deepcopy(listed), **args)

        wrapped.__qualname__ = name
        return wrapped

    def initialized(self, user: str) -> list[dict]:
        """The list as KubeSpawner 7.1 initialises it for `user` (callable called, defaults set)."""
        from kubespawner import KubeSpawner

        value = self.profile_list()
        if callable(value):
            spawner = SimpleNamespace(
                user=SimpleNamespace(
                    name=user, groups=[SimpleNamespace(name=g) for g in self.users[user]]
                )
            )
            value = value(spawner)
            if inspect.isawaitable(value):
                value = asyncio.run(_awaited(value))
        elif isinstance(value, dict):
            value = [value[k] for k in sorted(value)]
        return KubeSpawner._get_initialized_profile_list(None, value)  # type: ignore[arg-type]


async def _awaited(value):
    return await value


def _shape(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines)


@functools.cache
def load_corpus() -> tuple[Case, ...]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        text = path.read_text()
        cases.append(Case(path.stem, _shape(text), yaml.safe_load(text), path))
    return tuple(cases)


# --- what a user picks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    option: str
    kind: str  # "listed" or UNLISTED
    value: str

    def label(self) -> str:
        return (
            f"{self.option}={self.value}"
            if self.kind == "listed"
            else f"{self.option}=Other:{self.value}"
        )


@dataclass(frozen=True)
class UserChoice:
    """A profile and, per option, a listed choice or a typed value; `profile=None`: the page
    submitted as shown."""

    profile: str | None
    picks: tuple[Pick, ...] = ()

    def label(self) -> str:
        if self.profile is None:
            return "as-shown"
        return "/".join([self.profile, *(p.label() for p in self.picks)])


def _allows(item: dict, groups: set[str]) -> bool:
    allowed = item.get("allowed_groups")
    return allowed is None or bool(groups & set(allowed))


def visible(profiles: list[dict], groups: set[str]) -> list[dict]:
    """The profiles (with their options' choices) a member of `groups` may pick."""
    shown = []
    for profile in profiles:
        if not _allows(profile, groups):
            continue
        options = {}
        for key, option in (profile.get("profile_options") or {}).items():
            choices = {k: c for k, c in (option.get("choices") or {}).items() if _allows(c, groups)}
            if not choices and not (option.get("unlisted_choice") or {}).get("enabled"):
                break
            options[key] = {**option, "choices": choices}
        else:
            shown.append({**profile, "profile_options": options})
    return shown


def _values(case: Case, slug: str, key: str, option: dict) -> list[Pick]:
    values = [Pick(key, "listed", choice) for choice in option["choices"]]
    if (option.get("unlisted_choice") or {}).get("enabled"):
        values += [Pick(key, UNLISTED, v) for v in case.samples(slug, key, "valid")]
    return values


def combinations(case: Case, user: str) -> list[UserChoice]:
    """Each profile, choice and valid typed value at least once; the page as shown first."""
    groups = set(case.users[user])
    result = [UserChoice(None)]
    for profile in visible(case.initialized(user), groups):
        options = {
            key: _values(case, profile["slug"], key, option)
            for key, option in profile["profile_options"].items()
        }
        rounds = max((len(v) for v in options.values()), default=1)
        for i in range(rounds):
            picks = tuple(values[i % len(values)] for values in options.values() if values)
            result.append(UserChoice(profile["slug"], picks))
    if len(result) > MAX_COMBINATIONS:  # keep what covers every choice, drop the rest
        covered: set[tuple[str | None, Pick]] = set()
        kept = []
        for choice in result:
            new = {(choice.profile, p) for p in choice.picks} - covered
            if choice.profile is None or new or not choice.picks:
                kept.append(choice)
                covered |= new
        result = kept
    return result


def rejected(case: Case, user: str) -> list[UserChoice]:
    """Typed values the list's validation_regex refuses (KubeSpawner rejects them too)."""
    result = []
    for profile in visible(case.initialized(user), set(case.users[user])):
        for key in profile["profile_options"]:
            for value in case.samples(profile["slug"], key, "invalid"):
                result.append(UserChoice(profile["slug"], (Pick(key, UNLISTED, value),)))
    return result


def second_visits(case: Case, user: str) -> list[tuple[UserChoice, UserChoice]]:
    """(last start used "Other...", this start) pairs: a listed choice now, and "as shown"."""
    result = []
    for profile in visible(case.initialized(user), set(case.users[user])):
        for key, option in profile["profile_options"].items():
            typed = case.samples(profile["slug"], key, "valid")
            if not typed:
                continue
            first = UserChoice(profile["slug"], (Pick(key, UNLISTED, typed[0]),))
            if option["choices"]:
                listed = next(iter(option["choices"]))
                result.append((first, UserChoice(profile["slug"], (Pick(key, "listed", listed),))))
            result.append((first, UserChoice(None)))
    return result
