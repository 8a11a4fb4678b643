"""Render the profiles form (server-side HTML) from display data."""

from __future__ import annotations

import hashlib
import time
from functools import cache, lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from ..cost.prices import money
from .selection import MAX_UNLISTED_LENGTH

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True),
        trim_blocks=False,
        auto_reload=False,  # compiled once per process, not checked on disk per render
    )
    env.globals["resources_text"] = resources_text
    env.globals["money"] = money
    env.globals["max_unlisted"] = MAX_UNLISTED_LENGTH
    return env


@cache
def _form_template() -> Template:
    return _env().get_template("profiles/form.html")


def resources_text(resources: dict) -> str:
    """'2 CPU · 4 GiB · 1 GPU (T4)' from a display `resources` dict."""
    parts = []
    if resources.get("cpu") is not None:
        parts.append(f"{resources['cpu']:g} CPU")
    if resources.get("memory"):
        parts.append(_bytes_text(resources["memory"]))
    if resources.get("gpu"):
        gpu = f"{resources['gpu']} GPU"
        if resources.get("gpu_type"):
            gpu += f" ({resources['gpu_type']})"
        parts.append(gpu)
    return " · ".join(parts)


def _bytes_text(value: int | str) -> str:
    if isinstance(value, str):
        return value
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if value >= size:
            return f"{value / size:g} {unit}"
    return f"{value} B"


def render_form(data: dict, *, service_prefix: str, spawn_url: str) -> str:
    """The form's inner HTML; JupyterHub's spawn.html wraps it in <form> with a Start button.
    It carries no token: the build panel asks for one when it is first used."""
    return _form_template().render(
        data=data,
        service_prefix=service_prefix,
        spawn_url=spawn_url,
        script_url=f"{service_prefix}static/dist/{script_version()}",
    )


SCRIPT = "profiles-form.js"
DIST = Path(__file__).resolve().parent.parent / "static" / "dist"


_VERSION: list = [0.0, SCRIPT]  # [when looked at, versioned name]


def script_version() -> str:
    """The form script's versioned name, as the page links it (the file is looked at once a
    second at most, not at every render)."""
    now = time.monotonic()
    if now - _VERSION[0] >= 1.0:
        _VERSION[:] = [now, versioned(SCRIPT)]
    return str(_VERSION[1])


def versioned(name: str) -> str:
    """`name?v=<digest>`: the service's static handler lets browsers cache a versioned URL
    for good, so a second visit to the spawn page fetches no script at all."""
    try:
        mtime = (DIST / name).stat().st_mtime_ns
    except OSError:  # not built (a source checkout without `npm run build`)
        return name
    return f"{name}?v={_digest(name, mtime)}"


@lru_cache(maxsize=16)
def _digest(name: str, mtime_ns: int) -> str:
    return hashlib.sha256((DIST / name).read_bytes()).hexdigest()[:16]
