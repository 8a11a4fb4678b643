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
- an override key that is not an option of the target is skipped (KubeSpawner sets it as an
  attribute nothing reads), unless it is part of the spawner (a method, a property, a
  non-config trait): that is refused, where KubeSpawner would break; deprecated names
  (KubeSpawner's `_deprecated_traits`, e.g. `image_spec`) set their new option;
  `override_problems` reports all of these when the list is read;
- an override callable that returns an awaitable is refused with a clear error: KubeSpawner 7.1
  does not await it either and fails on the coroutine.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, cast

from traitlets import HasTraits, TraitError

from .model import Problem, ProfileListError, did_you_mean
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


#: keys of a profile or choice, written one level too deep by mistake
_MISPLACED = (
    "default",
    "display_name",
    "description",
    "slug",
    "allowed_groups",
    "resources",
    "profile_options",
    "kubespawner_override",
)


def _option_names(cls: type) -> list[str]:
    return list(cls.class_trait_names(config=True)) if issubclass(cls, HasTraits) else []


def _templated(value: Any) -> bool:
    """Does `value` hold a `{...}` the unlisted choice fills in (so it is checked at spawn)?"""
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_templated(k) or _templated(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_templated(v) for v in value)
    return False


_bare: dict[type, Any] = {}


def _refused_value(cls: type, name: str, value: Any) -> str | None:
    """Why the option `name` of `cls` would refuse `value` at spawn (KubeSpawner raises a
    TraitError in `load_user_options`), or None. Values filled in at spawn are not judged."""
    trait = cls.class_traits().get(name) if issubclass(cls, HasTraits) else None
    if trait is None or callable(value) or _templated(value):
        return None
    if value is None:
        return None if trait.allow_none else f"{name} cannot be None (null)."
    if cls not in _bare:  # an instance without __init__: no kube config, no clients
        _bare[cls] = cast(Any, cls).__new__(cls)
    try:
        cast(Any, trait).validate(_bare[cls], value)  # each trait type defines validate
    except TraitError as err:
        return f"{value!r} is not a valid {cls.__name__}.{name}: {err}"
    except Exception:  # a trait that needs a configured instance: left to the spawn
        return None
    return None


def _alias(cls: type, key: str) -> str | None:
    """The option a deprecated name forwards to (KubeSpawner keeps e.g. `image_spec`)."""
    new = getattr(cls, "_deprecated_traits", {}).get(key)
    return new[0] if isinstance(new, tuple) and new else None


def override_problems(path: str, overrides: Any, cls: type | None) -> list[Problem]:
    """What each override key does on `cls`: refusals (it would fail or mislead at spawn) and
    warnings (it has no effect, or a newer name)."""
    out = []
    for key, value in overrides.items():
        kpath = f"{path}.{key}"
        if inspect.iscoroutinefunction(value):
            out.append(
                Problem(
                    kpath,
                    "an async callable: KubeSpawner does not await override "
                    "callables and fails on the coroutine.",
                    "make it a plain function that returns the value.",
                    True,
                )
            )
        if cls is None or not isinstance(key, str):
            continue
        names = _option_names(cls)
        if key in names or (alias := _alias(cls, key)) in names:
            bad = _refused_value(cls, key if key in names else str(alias), value)
            if bad:
                out.append(Problem(kpath, bad, f"give {key!r} a value the option takes.", True))
            if key in names:
                continue
        where = f"{cls.__name__} has no option {key!r}"
        if key in _MISPLACED and not hasattr(cls, key):
            out.append(
                Problem(
                    kpath,
                    f"{where}: inside kubespawner_override it sets nothing.",
                    f"move {key!r} out of kubespawner_override, next to it.",
                )
            )
        elif (new := _alias(cls, key)) is not None:
            out.append(
                Problem(
                    kpath,
                    f"a deprecated name of {new!r}; it still works.",
                    f"rename it to {new!r}.",
                )
            )
        elif hasattr(cls, key):
            fix = f"move {key!r} out of kubespawner_override." if key in _MISPLACED else ""
            out.append(
                Problem(
                    kpath,
                    f"{where}; {key!r} is part of the spawner itself, and "
                    "setting it fails or breaks the spawn.",
                    fix or "remove it.",
                    True,
                )
            )
        else:
            close = did_you_mean(key, names)
            out.append(
                Problem(
                    kpath,
                    f"{where}: it has no effect (KubeSpawner sets it as an "
                    f"attribute nothing reads).{close}",
                    "remove it, or use the option's exact name.",
                )
            )
    return out


def _target_key(target: HasTraits, key: str) -> str | None:
    """The option `key` sets on `target`, or None when it has no effect there."""
    cls = type(target)
    if key in _option_names(cls):
        return key
    if (new := _alias(cls, key)) is not None:
        return new
    if hasattr(cls, key):
        raise ProfileListError(
            f"kubespawner_override.{key}",
            f"{cls.__name__} has no option {key!r}; it is part of the spawner itself.",
            "remove it.",
        )
    return None


def apply_overrides(target: HasTraits, overrides: list[dict[str, Any]]) -> None:
    """Set each override on `target` in order (callables called with it; dicts merged)."""
    for override in overrides:
        for raw_key, value in override.items():
            key = _target_key(target, raw_key)
            if key is None:
                continue  # no effect, as in KubeSpawner (a warning at start says so)
            if callable(value):
                value = value(target)
                if inspect.isawaitable(value):
                    getattr(value, "close", lambda: None)()  # no "never awaited" warning
                    raise ProfileListError(
                        f"kubespawner_override.{raw_key}",
                        "the callable returned an awaitable; override callables are not awaited.",
                        "make it a plain function that returns the value.",
                    )
            current = getattr(target, key)
            if isinstance(value, dict) and isinstance(current, dict):
                value = _merged(current, value)
            setattr(target, key, value)
