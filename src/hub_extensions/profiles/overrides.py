"""Apply a selection's `kubespawner_override`s to any traitlets object, as KubeSpawner 7.1 does.

Order and values follow `KubeSpawner._load_profile` (spawner.py:3775): the profile's overrides,
then each option's chosen (or default) choice in the profile's option order, an unlisted
value substituted for `{value}` as `recursive_format` does (utils.py:242). Application follows
`_apply_overrides` (spawner.py:3747): a callable is called with the target, a dict meeting a
dict option is merged recursively with `None` deleting a key (`recursive_update`, utils.py:209),
anything else replaces the option. Deliberate differences:

- the merged dict is a new value set on the trait (KubeSpawner updates the current dict in
  place): the result is the same, the trait's validation runs and no shared dict is touched;
  where a nested dict meets a non-dict, the dict replaces it (KubeSpawner raises TypeError);
- an override key that is not a configurable trait of the target is refused (KubeSpawner sets
  any attribute, even a method); `check_override_keys` finds these at hub start;
- an override callable that returns an awaitable is refused with a clear error: KubeSpawner 7.1
  does not await it either and fails on the coroutine.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from traitlets import HasTraits

from .model import Profile, ProfileListError, did_you_mean
from .patterns import substitute
from .selection import Selection, UnlistedValue


def _copied(overrides: dict[str, Any]) -> dict[str, Any]:
    # deep copies keep the spawner's values apart from the configuration (KubeSpawner deep
    # copies the whole profile_list); callables are kept as they are
    return {k: v if callable(v) else copy.deepcopy(v) for k, v in overrides.items()}


def overrides_for(selection: Selection) -> list[dict[str, Any]]:
    """The overrides of a selection, in the order they apply, with `{value}` substituted."""
    result = [_copied(selection.profile.kubespawner_override)]
    for option in selection.profile.options:
        chosen = selection.choices[option.key]
        if isinstance(chosen, UnlistedValue):
            raw = chosen.unlisted.kubespawner_override
            result.append(_copied({k: substitute(v, chosen.value) for k, v in raw.items()}))
        else:
            result.append(_copied(chosen.kubespawner_override))
    return result


def _merged(current: dict, new: dict) -> dict:
    merged = dict(current)
    for key, value in new.items():
        if isinstance(value, dict):
            inner = merged.get(key)
            merged[key] = _merged(inner if isinstance(inner, dict) else {}, value)
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _problem(cls: type, key: str) -> str | None:
    names = cls.class_trait_names(config=True) if issubclass(cls, HasTraits) else []
    if key in names:
        return None
    return f"{cls.__name__} has no option {key!r}.{did_you_mean(key, names)}"


def apply_overrides(target: HasTraits, overrides: list[dict[str, Any]]) -> None:
    """Set each override on `target` in order (callables called with it; dicts merged)."""
    for override in overrides:
        for key, value in override.items():
            problem = _problem(type(target), key)
            if problem:
                raise ProfileListError(f"kubespawner_override.{key}", problem)
            if callable(value):
                value = value(target)
                if inspect.isawaitable(value):
                    getattr(value, "close", lambda: None)()  # no "never awaited" warning
                    raise ProfileListError(
                        f"kubespawner_override.{key}",
                        "the callable returned an awaitable; override callables are not awaited.",
                        "make it a plain function that returns the value.",
                    )
            current = getattr(target, key)
            if isinstance(value, dict) and isinstance(current, dict):
                value = _merged(current, value)
            setattr(target, key, value)


def _all_overrides(profiles: list[Profile]):
    for profile in profiles:
        yield profile.path, profile.kubespawner_override
        for option in profile.options:
            for choice in option.choices:
                yield choice.path, choice.kubespawner_override
            yield option.unlisted.path, option.unlisted.kubespawner_override


def check_override_keys(profiles: list[Profile], spawner_cls: type) -> list[str]:
    """One message per override key that `spawner_cls` has no configurable option for."""
    return [
        f"{path}.kubespawner_override.{key}: {problem}"
        for path, overrides in _all_overrides(profiles)
        for key in overrides
        if (problem := _problem(spawner_cls, key))
    ]
