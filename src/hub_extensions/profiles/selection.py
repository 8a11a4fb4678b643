"""From form fields or REST `user_options` to a validated selection, with KubeSpawner's names.

Follows KubeSpawner 7.1's `_options_from_form` (spawner.py:3600), `_validate_user_options`
(spawner.py:3665), `_get_profile` (spawner.py:3724) and the choice logic of `_load_profile`
(spawner.py:3775): no or an empty `profile` means the default profile, an absent or empty option
means its default choice, and an option with only an unlisted choice needs a value.
Deliberate differences, all refusals rather than silent fallbacks or KeyErrors:

- unknown profiles, options and choices, unknown keys, non-string values and anything the
  user's groups don't allow are refused (KubeSpawner ignores unknown keys, fails later with a
  KeyError on unknown choices); keys starting with `hub-extensions-` are left to their owners;
- an unlisted value must match the whole `validation_regex` (see `patterns.full_match`);
- when a listed choice and an unlisted value both arrive, the listed choice wins unless it is
  `unlisted-choice` (KubeSpawner takes the unlisted value), so a plain HTML form, which posts
  both fields, does what the user sees;
- jupyterhub-fancy-profiles' form posts `unlisted_choice` (for "Other...") or
  `--extra-selectable-item` (for a build) as the option's value, beside the unlisted value;
  both mean `unlisted-choice` here unless the option has a choice of that name, so the
  `user_options` a hub stored in its fancy-profiles days still start.

`as_user_options` turns the validated selection back into `user_options` with nothing stale:
that is what the spawner keeps, what the hub stores and what KubeSpawner's own
`load_user_options` reads, so KubeSpawner's preference for an unlisted value never applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..fields import (
    FANCY_UNLISTED,
    FORM_PROFILE,
    SIGNATURE_SUFFIX,
    UNLISTED_SUFFIX,
    option_field,
    unlisted_field,
)
from .model import (
    OUR_PREFIX,
    UNLISTED_CHOICE,
    Choice,
    Option,
    Profile,
    Unlisted,
    did_you_mean,
    visible,
)
from .patterns import PatternTooSlow, full_match

#: Longest value of one's own (an image reference is at most a few hundred characters): a
#: longer one is refused before the regex runs, and never stored with the user's options.
MAX_UNLISTED_LENGTH = 1024


def user_options_from_form(formdata: dict[str, list[str]]) -> dict:
    """KubeSpawner's `_options_from_form`: `profile` plus the chosen profile's fields, unprefixed.

    Other fields are dropped, as KubeSpawner does. An empty list counts as absent where
    KubeSpawner raises IndexError.
    """
    slug = next(iter(formdata.get(FORM_PROFILE) or []), None)
    user_options: dict[str, str] = {}
    if slug:
        user_options[FORM_PROFILE] = slug
        prefix = f"profile-option-{slug}--"
        for key, values in formdata.items():
            if key.startswith(prefix) and values:
                user_options[key[len(prefix) :]] = values[0]
    return user_options


class SelectionError(ValueError):
    """A refused selection; `.message` names the form field and says what to do."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.message = f"{field}: {problem}"
        super().__init__(self.message)


@dataclass(frozen=True)
class UnlistedValue:
    """A value the user typed for an option's unlisted choice; it matched the rule."""

    unlisted: Unlisted
    value: str


@dataclass(frozen=True)
class Selection:
    profile: Profile
    choices: dict[str, Choice | UnlistedValue]  # by option key, in the profile's option order


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _one_of(names: list[str]) -> str:
    return f"Choose one of: {', '.join(names)}." if names else "There is nothing to choose."


#: `verify_build(image, signature) -> bool`: is `image` a build result signed for this user?
VerifyBuild = Callable[[str, str], bool]


def select(
    profiles: list[Profile],
    user_options: Any,
    groups: set[str],
    verify_build: VerifyBuild | None = None,
) -> Selection:
    """Validate `user_options` against `profiles` for a member of `groups`, or raise."""
    return choose(visible(profiles, groups), user_options, profiles, verify_build)


def choose(
    shown: list[Profile],
    user_options: Any,
    everything: list[Profile],
    verify_build: VerifyBuild | None = None,
) -> Selection:
    """`select` on profiles already filtered for the user; `everything` names what is hidden."""
    if not isinstance(user_options, dict):
        raise SelectionError("user_options", "must be a JSON object of form fields.")
    values: dict[str, Any] = {}
    for key, value in user_options.items():
        if not isinstance(key, str):
            raise SelectionError(repr(key), "form field names must be strings.")
        if key.startswith(OUR_PREFIX) or value is None or value == "":
            continue  # None and "" mean "not given", as KubeSpawner's truthiness checks do
        values[key] = value
    slug = values.pop(FORM_PROFILE, None)
    if slug is not None and not isinstance(slug, str):
        raise SelectionError(FORM_PROFILE, f"must be text, got {type(slug).__name__}.")
    if not shown:
        raise SelectionError(FORM_PROFILE, "no profile is available to you. Ask the hub's admin.")
    profile = next((p for p in shown if p.slug == slug or (not slug and p.default)), None)
    if profile is None:
        slugs = [p.slug for p in shown]
        hidden = any(p.slug == slug for p in everything)
        problem = "is not available to you." if hidden else "is not a profile."
        raise SelectionError(FORM_PROFILE, f"{_shown(slug or '')} {problem} {_one_of(slugs)}")
    for key, value in values.items():
        field = option_field(profile.slug, key)
        if not isinstance(value, str):
            raise SelectionError(field, f"must be text, got {type(value).__name__}.")
        if profile.option(key.removesuffix(UNLISTED_SUFFIX).removesuffix(SIGNATURE_SUFFIX)) is None:
            keys = [o.key for o in profile.options]
            raise SelectionError(
                field,
                f"profile {profile.slug!r} has no option {key!r}.{did_you_mean(key, keys)} "
                + (f"Options: {', '.join(keys)}." if keys else "It has no options."),
            )
    original = next((p for p in everything if p.slug == profile.slug), profile)
    choices = {
        o.key: _chosen(profile.slug, o, original.option(o.key), values, verify_build)
        for o in profile.options
    }
    return Selection(profile, choices)


def as_user_options(selection: Selection, user_options: dict) -> dict:
    """The selection as KubeSpawner-style `user_options`, every option explicit.

    `profile`, then per option the listed choice's key, or `unlisted-choice` with the value in
    `<key>--unlisted-choice` (and its build signature, already verified, when it came with one).
    Leftover fields (an unlisted value beside a listed choice, other profiles' fields) are
    dropped; fields starting with `hub-extensions-` stay for their owners.
    """
    options: dict[str, Any] = {FORM_PROFILE: selection.profile.slug}
    for key, chosen in selection.choices.items():
        if isinstance(chosen, UnlistedValue):
            options[key] = UNLISTED_CHOICE
            options[key + UNLISTED_SUFFIX] = chosen.value
            signature = user_options.get(key + SIGNATURE_SUFFIX)
            if isinstance(signature, str) and signature:
                options[key + SIGNATURE_SUFFIX] = signature
        else:
            options[key] = chosen.key
    ours = {
        k: v for k, v in user_options.items() if isinstance(k, str) and k.startswith(OUR_PREFIX)
    }
    return {**options, **ours}


def _chosen(
    slug: str,
    option: Option,
    original: Option | None,
    values: dict,
    verify_build: VerifyBuild | None = None,
) -> Choice | UnlistedValue:
    field, ufield = option_field(slug, option.key), unlisted_field(slug, option.key)
    listed, typed = values.get(option.key), values.get(option.key + UNLISTED_SUFFIX)
    if listed in FANCY_UNLISTED and option.choice(listed) is None:
        listed = UNLISTED_CHOICE
    unlisted = option.unlisted
    keys = [c.key for c in option.choices]
    if typed is not None and not unlisted.enabled:
        raise SelectionError(ufield, f"this option takes no value of your own. {_one_of(keys)}")
    if listed is not None and listed != UNLISTED_CHOICE:
        choice = option.choice(listed)
        if choice is None:
            hidden = original is not None and original.choice(listed) is not None
            problem = "is not available to you." if hidden else "is not a choice."
            hint = "" if hidden else did_you_mean(listed, keys)
            raise SelectionError(field, f"{_shown(listed)} {problem}{hint} {_one_of(keys)}")
        return choice
    signature = values.get(option.key + SIGNATURE_SUFFIX)
    if signature is not None:
        sfield = option_field(slug, option.key) + SIGNATURE_SUFFIX
        if not option.dynamic_builds:
            raise SelectionError(sfield, "this option does not take built images.")
        if typed is None or verify_build is None or not verify_build(typed, signature):
            raise SelectionError(
                sfield,
                "not a valid signature for this image and user: launch images built on this "
                "hub, from the form's Build button.",
            )
        return UnlistedValue(unlisted, typed)
    if typed is not None:
        if len(typed) > MAX_UNLISTED_LENGTH:
            raise SelectionError(
                ufield,
                f"{len(typed)} characters is too long: a value has at most "
                f"{MAX_UNLISTED_LENGTH}. Enter a shorter value.",
            )
        pattern = unlisted.validation_regex
        try:
            matches = not pattern or full_match(pattern, typed)
        except PatternTooSlow:  # the admin's pattern backtracks on this value (#13)
            raise SelectionError(
                ufield,
                f"{_shown(typed)} could not be checked against ^(?:{pattern})$ in time: the "
                "pattern is too slow on this value (the hub's log says why). Enter another "
                "value, or ask the hub's admins to simplify the pattern.",
            ) from None
        if not matches:
            fix = unlisted.validation_message or "Enter a value that matches the whole pattern."
            raise SelectionError(ufield, f"{_shown(typed)} does not match ^(?:{pattern})$. {fix}")
        return UnlistedValue(unlisted, typed)
    if (listed == UNLISTED_CHOICE and unlisted.enabled) or option.default_choice is None:
        fix = unlisted.validation_message or f"Enter a value for {option.display_name!r}."
        raise SelectionError(ufield, f"no value given. {fix}")
    if listed == UNLISTED_CHOICE:
        raise SelectionError(field, f"'unlisted-choice' is not a choice. {_one_of(keys)}")
    return option.default_choice
