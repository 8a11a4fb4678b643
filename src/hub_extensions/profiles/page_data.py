"""What the spawn page receives: display fields only, never overrides, environment or secrets.

Display names and messages are plain text for the template or script to escape; descriptions
may hold simple HTML (links, emphasis, lists), sanitised here with nh3. KubeSpawner renders
both unescaped (its form's Jinja environment has no autoescape); we differ on purpose.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any, ClassVar

import nh3

from .checks import Checked, read
from .model import Choice, Groups, Option, Profile, Resources, visible
from .selection import (
    SIGNATURE_SUFFIX,
    SelectionError,
    UnlistedValue,
    choose,
    option_field,
    unlisted_field,
)

TAGS = {"a", "em", "strong", "code", "ul", "ol", "li", "p", "br"}
URL_SCHEMES = ("http:", "https:", "mailto:")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # nh3's url_schemes lets relative links through; only absolute http(s)/mailto links stay
    if attribute == "href" and not value.strip().lower().startswith(URL_SCHEMES):
        return None
    return value


def description_html(text: str | None) -> str | None:
    """Admin-written description as safe HTML: a few tags, http(s)/mailto links only."""
    if not text:
        return None
    return nh3.clean(
        text,
        tags=TAGS,
        attributes={"a": {"href", "title"}},
        attribute_filter=_keep_attribute,
        url_schemes=set(s.rstrip(":") for s in URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def _bytes_text(n: int) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _resources(r: Resources | None) -> dict[str, Any] | None:
    if r is None:
        return None
    memory = None if r.memory_bytes is None else _bytes_text(r.memory_bytes)
    return {
        "cpu": r.cpu,
        "memory": memory,
        "memory_bytes": r.memory_bytes,
        "gpu": r.gpu,
        "gpu_type": r.gpu_type,
    }


def _choice(c: Choice) -> dict[str, Any]:
    return {
        "key": c.key,
        "display_name": c.display_name,
        "description_html": description_html(c.description),
        "default": c.default,
        "resources": _resources(c.resources),
    }


def _option(slug: str, o: Option) -> dict[str, Any]:
    u = o.unlisted
    return {
        "key": o.key,
        "display_name": o.display_name,
        "field": option_field(slug, o.key),
        "choices": [_choice(c) for c in o.choices],
        "dynamic_builds": o.dynamic_builds,
        "unlisted": {
            "enabled": u.enabled,
            "display_name": u.display_name,
            "display_name_in_choices": u.display_name_in_choices,
            "pattern": u.validation_regex,
            "message": u.validation_message,
            "field": unlisted_field(slug, o.key),
        },
    }


def _profile(p: Profile) -> dict[str, Any]:
    return {
        "slug": p.slug,
        "display_name": p.display_name,
        "description_html": description_html(p.description),
        "default": p.default,
        "resources": _resources(p.resources),
        "options": [_option(p.slug, o) for o in p.options],
    }


def _defaults(p: Profile) -> dict[str, dict[str, str | None]]:
    return {
        o.key: {"choice": getattr(o.default_choice, "key", None), "unlisted": None}
        for o in p.options
    }


def profiles_data(profiles: list[Profile]) -> list[dict[str, Any]]:
    return [_profile(p) for p in profiles]


def selected_for(profiles: list[Profile], last_user_options: dict | None) -> dict[str, Any]:
    """`{"profile": slug, "options": {slug: {option key: {"choice", "unlisted"}}}}` for every
    profile: the last `user_options` where they are still valid for this user (as
    KubeSpawner's `_render_options_form` does, spawner.py:3514), else the defaults."""
    options = {p.slug: _defaults(p) for p in profiles}
    default = next((p.slug for p in profiles if p.default), None)
    selected = {"profile": default, "options": options}
    if last_user_options and profiles:
        try:
            chosen = choose(profiles, last_user_options, profiles)
        except SelectionError:
            pass
        else:
            selected["profile"] = chosen.profile.slug
            options[chosen.profile.slug] = {
                key: {"choice": None, "unlisted": c.value}
                if isinstance(c, UnlistedValue)
                else {"choice": c.key, "unlisted": None}
                for key, c in chosen.choices.items()
            }
    return selected


def page_data(profiles: list[Profile], last_user_options: dict | None) -> dict[str, Any]:
    """JSON-able display data for `profiles` (already filtered for the user)."""
    return {
        "profiles": profiles_data(profiles),
        "selected": selected_for(profiles, last_user_options),
    }


def without_signatures(options: dict) -> dict:
    return {k: v for k, v in options.items() if not str(k).endswith(SIGNATURE_SUFFIX)}


def link_summary(profiles: list[Profile], options: dict) -> dict[str, Any]:
    """What a spawn link asks to start, for the notice above the filled-in form.

    `items` are `{"label", "value", "typed"}` (typed: a value of the link's own, not one of
    the admin's choices), or `problem` says why the link cannot be used as it is. A built
    image's signature is never taken from a link: the form builds it for the user instead.
    """
    built = [k for k, v in options.items() if str(k).endswith(SIGNATURE_SUFFIX) and v]
    try:
        chosen = choose(profiles, without_signatures(options), profiles)
    except SelectionError as err:
        return {"items": [], "problem": err.message, "built": bool(built)}
    items = [{"label": "Environment", "value": chosen.profile.display_name, "typed": False}]
    for key, c in chosen.choices.items():
        option = chosen.profile.option(key)
        label = option.display_name if option is not None else key
        if isinstance(c, UnlistedValue):
            items.append({"label": label, "value": c.value, "typed": True})
        else:
            items.append({"label": label, "value": c.display_name, "typed": False})
    return {"items": items, "problem": None, "built": bool(built)}


class FormCache:
    """The read (and checked) `profile_list` of a spawner class and config, and the parts of
    its form that do not change between renders (display data, prices, build options).

    JupyterHub gives every spawner a deep copy of the configured list, so entries are keyed
    by spawner class and config object, and used only while the spawner's list still equals
    the one read. Callable lists are not cached: they are called for every render.
    """

    _entries: ClassVar[dict[tuple[type, int], FormCache]] = {}
    MAX_ENTRIES = 32
    MAX_FORMS = 64  # visible subsets (groups) x price periods, per entry
    PRICE_PERIOD = 900  # seconds: prices are recomputed at least this often (new versions)

    def __init__(self, config: Any, value: Any, checked: Checked):
        self.config, self.value, self.checked = config, value, checked
        self.forms: dict[tuple, dict] = {}
        self.views: dict[tuple, list[Profile]] = {}
        #: whether any profile or choice has `allowed_groups`: if none has, every user sees the
        #: same list, and a render need not read the user's groups (a database query)
        self.uses_groups = any(
            p.allowed_groups is not None
            or any(c.allowed_groups is not None for o in p.options for c in o.choices)
            for p in checked.profiles
        )

    def visible_to(self, groups: Groups) -> list[Profile]:
        """`visible(...)` of the list for members of `groups`, worked out once per group set."""
        key = (frozenset(groups), groups.ignore_case)
        found = self.views.get(key)
        if found is None:
            if len(self.views) >= self.MAX_FORMS:
                self.views.clear()
            found = self.views[key] = visible(self.checked.profiles, groups)
        return list(found)

    @classmethod
    def of(cls, spawner: Any) -> FormCache:
        key = (type(spawner), id(spawner.config))
        value = spawner.profile_list
        entry = cls._entries.get(key)
        if entry is None or entry.config is not spawner.config or entry.value != value:
            checked = read(value, spawner_cls=type(spawner))
            if len(cls._entries) >= cls.MAX_ENTRIES:
                cls._entries.clear()
            entry = cls._entries[key] = cls(spawner.config, copy.deepcopy(value), checked)
        return entry

    @staticmethod
    def static_for(
        entry: FormCache | None,
        spawner: Any,
        profiles: list[Profile],
        build: Callable[[Any, list[Profile]], dict],
    ) -> dict:
        if entry is None:
            return build(spawner, profiles)
        key = (_shape(profiles), int(time.time() // FormCache.PRICE_PERIOD), _own(spawner))
        found = entry.forms.get(key)
        if found is None:
            if len(entry.forms) >= FormCache.MAX_FORMS:
                entry.forms.clear()
            found = entry.forms[key] = build(spawner, profiles)
        return found


def _shape(profiles: list[Profile]) -> tuple:
    """What a user sees of a cached list (groups hide profiles and choices)."""
    return tuple(
        (
            p.slug,
            p.default,
            tuple(
                (o.key, tuple(c.key for c in o.choices), getattr(o.default_choice, "key", None))
                for o in p.options
            ),
        )
        for p in profiles
    )


def _own(spawner: Any) -> str:
    """The spawner's own resources, which prices start from (cost/form_prices.py)."""
    names = ("cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit", "extra_resource_limits")
    return repr([getattr(spawner, n, None) for n in names])
