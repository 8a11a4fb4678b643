"""Read an admin's `profile_list`: accept what KubeSpawner 7.1 launches, warn, or refuse.

The rule (docs/profiles.md, "Compatibility with KubeSpawner and fancy-profiles"):

- every list KubeSpawner 7.1 accepts and launches is accepted; keys fancy-profiles reads keep
  its meaning (`description_in_choices`, `validation_message`, `dynamic_image_building`; a
  choice's `slug` is informational there and here);
- keys that neither reads, override keys with no effect, several `default: true`, values
  KubeSpawner reads by truthiness: **warnings**, each with its path and fix;
- only what would fail or mislead at spawn is **refused** (duplicate or field-mixing slugs, a
  missing display name, an option nobody can complete, reserved keys, a regex Python and
  JavaScript read differently, a `{...}` KubeSpawner's formatting rejects, an override key that
  is a spawner attribute but not an option, an async override callable);
- every finding is collected, not just the first; a profile with a refusal is "broken" and is
  left out of `Checked.profiles` (callable lists withhold it from users; a static list with a
  refusal stops the hub at start).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import (
    CHOICE_KEYS,
    OPTION_KEYS,
    OUR_PREFIX,
    PROFILE_KEYS,
    RESOURCE_KEYS,
    UNLISTED_CHOICE,
    UNLISTED_KEYS,
    Choice,
    Option,
    Problem,
    Profile,
    ProfileListError,
    Resources,
    Unlisted,
    did_you_mean,
    resources_from,
    slugify,
    with_one_default,
)
from .overrides import override_problems
from .patterns import pattern_problem, substitute

#: Unknown keys that people write for a reason: the fix to suggest.
_HINTS = {
    ("unlisted", "description"): "neither KubeSpawner nor fancy-profiles shows it; to describe "
    "the 'Other...' entry in the list, rename it to description_in_choices.",
    ("choice", "display_name_in_choices"): "it belongs to an unlisted_choice; on a choice, "
    "display_name is the label in the list.",
}


@dataclass
class Checked:
    """The usable profiles of a list, and every problem found (warnings and refusals)."""

    profiles: list[Profile]
    problems: list[Problem] = field(default_factory=list)

    @property
    def refusals(self) -> list[Problem]:
        return [p for p in self.problems if p.refusal]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.refusal]


class _Reader:
    def __init__(self, spawner_cls: type | None):
        self.spawner_cls = spawner_cls
        self.problems: list[Problem] = []

    @property
    def refusals(self) -> int:
        return sum(p.refusal for p in self.problems)

    def warn(self, path: str, problem: str, fix: str = "") -> None:
        self.problems.append(Problem(path, problem, fix))

    def attempt(self, fn, *args, default=None):
        """`fn(*args)`, or `default` with its refusal recorded (so reading goes on)."""
        try:
            return fn(*args)
        except ProfileListError as err:
            self.problems.extend(err.problems)
            return default

    # --- values ------------------------------------------------------------------------------

    def mapping(
        self, value: Any, path: str, allowed: tuple[str, ...] | None, what: str, kind: str = ""
    ) -> dict:
        """A dict with None values dropped (absent); unknown keys are warnings."""
        if not isinstance(value, Mapping):
            raise ProfileListError(path, f"expected {what}, got {type(value).__name__}.")
        out = {}
        for key, v in value.items():
            if allowed is not None and key not in allowed:
                self.unknown(f"{path}.{key}", key, allowed, kind)
            elif v is not None:
                out[key] = v
        return out

    def unknown(self, path: str, key: Any, allowed: tuple[str, ...], kind: str) -> None:
        hint = _HINTS.get((kind, key))
        close = "" if hint else did_you_mean(str(key), allowed)
        self.warn(
            path,
            "not read by KubeSpawner, fancy-profiles or hub-extensions: it has no effect." + close,
            hint or (f"rename it to{close[len(' Did you mean') : -1]}." if close else "remove it."),
        )

    def keys(self, value: dict, path: str, what: str) -> dict[str, Any]:
        """Choice and option keys reach form fields and user_options: non-empty strings only."""
        for key in value:
            if not isinstance(key, str) or not key:
                raise ProfileListError(
                    f"{path}[{key!r}]",
                    f"a {what} key must be a non-empty string: KubeSpawner cannot find it again "
                    "at spawn.",
                    f"quote it, e.g. '{key}'." if key != "" else "give it a name.",
                )
        return value

    def text(self, d: dict, key: str, path: str, default: str | None = None) -> Any:
        value = d.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.warn(
                f"{path}.{key}",
                f"{value!r} is a number; it is shown as text.",
                f"quote it: '{value}'.",
            )
            return str(value)
        if value is not None and not isinstance(value, str):
            raise ProfileListError(f"{path}.{key}", f"{value!r} is not a string.")
        return value

    def flag(self, d: dict, key: str, path: str) -> bool:
        value = d.get(key, False)
        if not isinstance(value, bool):
            self.warn(
                f"{path}.{key}",
                f"{value!r} is not true or false; KubeSpawner reads it as {bool(value)}, and so "
                "does hub-extensions.",
                f"write {str(bool(value)).lower()}.",
            )
        return bool(value)

    def groups(self, d: dict, path: str) -> frozenset[str] | None:
        groups = d.get("allowed_groups")
        if groups is None:
            return None
        ok = isinstance(groups, list | tuple | set | frozenset) and groups
        if not ok or not all(isinstance(g, str) and g for g in groups):
            raise ProfileListError(
                f"{path}.allowed_groups",
                f"{groups!r} is not a non-empty list of JupyterHub group names.",
                "write e.g. ['gpu-users'], or remove the key to allow everyone.",
            )
        return frozenset(groups)

    def overrides(self, d: dict, path: str) -> dict[str, Any]:
        path = f"{path}.kubespawner_override"
        # None values stay: KubeSpawner sets the option to None
        value = d.get("kubespawner_override", {})
        if not isinstance(value, Mapping):
            raise ProfileListError(path, f"expected a dict of options, got {type(value).__name__}.")
        refusals: list[Problem] = []
        for problem in override_problems(path, value, self.spawner_cls):
            (refusals if problem.refusal else self.problems).append(problem)
        if refusals:
            raise ProfileListError(path, "", problems=tuple(refusals))
        return dict(value)

    def resources(self, d: dict, path: str) -> Resources | None:
        if "resources" not in d:
            return None
        path = f"{path}.resources"
        r = self.mapping(
            d["resources"], path, RESOURCE_KEYS, "a dict of cpu, memory, gpu, gpu_type"
        )
        return resources_from(r, path, self.text(r, "gpu_type", path))

    def defaults(self, items: list, path: str, what: str) -> None:
        named = [i for i in items if i.default]
        if len(named) > 1:
            names = [repr(getattr(i, "key", None) or i.slug) for i in named]
            self.warn(
                path,
                f"{', '.join(names[:-1])} and {names[-1]} "
                f"{'both' if len(names) == 2 else 'all'} say default: true; the first "
                f"({names[0]}) is the default {what}, as KubeSpawner's server picks it.",
                "keep default: true on one of them.",
            )

    # --- structure ---------------------------------------------------------------------------

    def unlisted(self, value: Any, path: str, option_name: str) -> Unlisted:
        u = self.mapping(value, path, UNLISTED_KEYS, "a dict (the unlisted choice)", "unlisted")
        enabled = self.flag(u, "enabled", path)
        regex = self.text(u, "validation_regex", path) or None  # "" checks nothing
        if regex is not None and (problem := pattern_problem(regex)):
            raise ProfileListError(
                f"{path}.validation_regex",
                f"{regex!r}: {problem}",
                "use syntax that Python and JavaScript read alike; the value must match the "
                "whole pattern anyway, so anchors are not needed.",
            )
        overrides = self.overrides(u, path)
        try:
            substitute(overrides, "value")
        except (ValueError, LookupError, AttributeError, TypeError) as err:
            raise ProfileListError(
                f"{path}.kubespawner_override",
                f"'{{value}}' cannot be substituted: {err}.",
                "write '{{' and '}}' for literal braces.",
            ) from None
        return Unlisted(
            enabled,
            self.text(u, "display_name", path, option_name),
            self.text(u, "display_name_in_choices", path, "Other..." if enabled else None),
            regex,
            self.text(u, "validation_message", path),
            overrides,
            path,
            self.text(u, "description_in_choices", path),
        )

    def choice(self, key: str, value: Any, path: str) -> Choice:
        if key == UNLISTED_CHOICE:
            raise ProfileListError(path, "this choice key is reserved for the form.", "rename it.")
        c = self.mapping(value, path, CHOICE_KEYS, "a dict (a choice)", "choice")
        if "slug" in c and c["slug"] != key:
            self.warn(
                f"{path}.slug",
                f"{c['slug']!r} is not read: the choice's key {key!r} names it in the form, "
                "user_options and links (as in KubeSpawner and fancy-profiles).",
                "remove slug, or rename the choice's key.",
            )
        parts = (
            self.attempt(self.text, c, "display_name", path, key, default=key),
            self.attempt(self.text, c, "description", path),
            self.flag(c, "default", path),
            self.attempt(self.overrides, c, path, default={}),
            self.attempt(self.groups, c, path),
            self.attempt(self.resources, c, path),
        )
        return Choice(key, *parts, path=path)

    def option(self, key: str, value: Any, parent: str) -> Option:
        path = f"{parent}.{key}"
        reserved = ("--unlisted-choice", "--build-signature")
        if key == "profile" or key.endswith(reserved) or key.startswith(OUR_PREFIX):
            raise ProfileListError(path, "this option key is reserved for the form.", "rename it.")
        o = self.mapping(value, path, OPTION_KEYS, "a dict (a profile option)", "option")
        display_name = self.attempt(self.text, o, "display_name", path, key, default=key)
        cpath = f"{path}.choices"
        raw = self.attempt(self.mapping, o.get("choices", {}), cpath, None, "a dict", default={})
        choices = [
            self.attempt(self.choice, k, v, f"{cpath}.{k}")
            for k, v in self.attempt(self.keys, raw, cpath, "choice", default={}).items()
        ]
        self.defaults([c for c in choices if c], cpath, "choice")
        upath = f"{path}.unlisted_choice"
        unlisted = self.attempt(self.unlisted, o.get("unlisted_choice", {}), upath, display_name)
        if not raw and unlisted and not unlisted.enabled:
            raise ProfileListError(
                path,
                "has no choices and no enabled unlisted_choice: KubeSpawner fails at spawn.",
                "add choices.",
            )
        dpath = f"{path}.dynamic_image_building"
        building = self.mapping(o.get("dynamic_image_building", {}), dpath, ("enabled",), "a dict")
        dynamic = self.flag(building, "enabled", dpath)
        if dynamic and unlisted and not unlisted.enabled:
            raise ProfileListError(
                dpath,
                "built images are applied through the option's unlisted_choice, which is off.",
                'enable unlisted_choice with a kubespawner_override such as {"image": "{value}"}.',
            )
        choices = [c for c in choices if c is not None]  # a broken one is recorded
        return Option(
            key, display_name, with_one_default(choices), unlisted or Unlisted(), path, dynamic
        )

    def profile(self, value: Any, path: str) -> Profile:
        p = self.mapping(value, path, PROFILE_KEYS, "a dict (a profile)", "profile")
        display_name = self.text(p, "display_name", path)
        if not display_name:
            raise ProfileListError(
                f"{path}.display_name", "missing: KubeSpawner fails at spawn.", "name the profile."
            )
        slug = self.text(p, "slug", path, slugify(display_name))
        if not slug:
            raise ProfileListError(f"{path}.slug", "empty.", "set a slug such as 'gpu-large'.")
        description = self.attempt(self.text, p, "description", path)
        default = self.flag(p, "default", path)
        overrides = self.attempt(self.overrides, p, path, default={})
        opath = f"{path}.profile_options"
        raw = self.mapping(p.get("profile_options", {}), opath, None, "a dict")
        options = [
            self.attempt(self.option, k, v, opath)
            for k, v in self.attempt(self.keys, raw, opath, "option", default={}).items()
        ]
        return Profile(
            slug,
            display_name,
            description,
            default,
            overrides,
            tuple(o for o in options if o is not None),  # a broken one is recorded
            self.attempt(self.groups, p, path),
            self.attempt(self.resources, p, path),
            path,
        )


def _items(profile_list: Any, root: str) -> list[tuple[str, Any]]:
    if isinstance(profile_list, Mapping):
        try:
            keys = sorted(profile_list)  # as KubeSpawner's _sorted_dict_values
        except TypeError:
            raise ProfileListError(
                root,
                "the keys of a dict-form profile_list cannot be "
                "sorted (KubeSpawner fails on them).",
                "use strings as keys.",
            ) from None
        return [(f"{root}[{k!r}]", profile_list[k]) for k in keys]
    if isinstance(profile_list, list | tuple):
        return [(f"{root}[{i}]", p) for i, p in enumerate(profile_list)]
    raise ProfileListError(
        root,
        f"expected a list of profiles, a dict of profiles or a callable, "
        f"got {type(profile_list).__name__}.",
    )


def read(profile_list: Any, root: str = "profile_list", spawner_cls: type | None = None) -> Checked:
    """Every finding in a list or dict-form `profile_list`, and its profiles without the broken.

    Raises ProfileListError only when the whole value is unusable (not a list or dict).
    Override keys are checked against `spawner_cls` when given.
    """
    reader = _Reader(spawner_cls)
    profiles: list[Profile] = []
    seen: list[Profile] = []  # broken ones too: their slugs still take form fields
    for path, value in _items(profile_list, root):
        before = reader.refusals
        new = reader.attempt(reader.profile, value, path)
        if new is None:
            continue
        clash = next((old for old in seen if _mixes(old.slug, new.slug)), None)
        seen.append(new)
        if clash is not None:
            reader.problems.append(
                Problem(
                    f"{path}.slug",
                    f"{new.slug!r} is also the slug of {clash.path}."
                    if new.slug == clash.slug
                    else f"{new.slug!r} and the slug {clash.slug!r} of {clash.path} would mix "
                    "their form fields.",
                    "give each profile its own slug, not one that starts with another's + '--'.",
                    True,
                )
            )
            continue
        if reader.refusals == before:  # else broken: left out
            profiles.append(new)
    reader.defaults(profiles, root, "profile")
    return Checked(list(with_one_default(profiles)), reader.problems)


def _mixes(a: str, b: str) -> bool:
    short, long = sorted((a + "--", b + "--"), key=len)
    return long.startswith(short)


def normalize(
    profile_list: Any, root: str = "profile_list", spawner_cls: type | None = None
) -> list[Profile]:
    """The profiles of a list, or ProfileListError naming every refusal (warnings are dropped)."""
    checked = read(profile_list, root, spawner_cls)
    if checked.refusals:
        first = checked.refusals[0]
        raise ProfileListError(first.path, first.problem, first.fix, tuple(checked.refusals))
    return checked.profiles


def callable_root(value: Any) -> str:
    name = getattr(value, "__qualname__", type(value).__name__)
    return f"profile_list (callable {name})"


async def evaluate(profile_list_value: Any, spawner: Any) -> Checked:
    """Read the profiles for `spawner`, calling a callable (sync or async) with it.

    Raises ProfileListError when the callable raises or returns something unusable; broken
    profiles are left out of the result and described in its problems.
    """
    if not callable(profile_list_value):
        return read(profile_list_value, spawner_cls=type(spawner))
    root = callable_root(profile_list_value)
    try:
        result = profile_list_value(spawner)
        if inspect.isawaitable(result):
            result = await result
    except Exception as err:
        raise ProfileListError(
            root, f"raised {type(err).__name__}: {err}", "make it return a list of profiles."
        ) from err
    return read(result, root=root, spawner_cls=type(spawner))


async def resolve(profile_list_value: Any, spawner: Any) -> list[Profile]:
    """The usable profiles for `spawner` (see `evaluate`)."""
    return (await evaluate(profile_list_value, spawner)).profiles
