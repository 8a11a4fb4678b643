"""What the spawn page receives: display fields only, never overrides, environment or secrets.

Display names and messages are plain text for the template or script to escape; descriptions
may hold simple HTML (links, emphasis, lists), sanitised here with nh3. KubeSpawner renders
both unescaped (its form's Jinja environment has no autoescape); we differ on purpose.
"""

from __future__ import annotations

from typing import Any

import nh3

from .model import Choice, Option, Profile, Resources
from .selection import SelectionError, UnlistedValue, choose, option_field, unlisted_field

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


def page_data(profiles: list[Profile], last_user_options: dict | None) -> dict[str, Any]:
    """JSON-able display data for `profiles` (already filtered for the user).

    `selected` is `{"profile": slug, "options": {slug: {option key: {"choice", "unlisted"}}}}`
    for every profile: the last `user_options` where they are still valid for this user (as
    KubeSpawner's `_render_options_form` does, spawner.py:3514), else the defaults.
    """
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
    return {"profiles": [_profile(p) for p in profiles], "selected": selected}
