"""What the CILogon presets of a config compile to, as Python and as Z2JH `hub.config` YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from traitlets.config import Config, PyFileConfigLoader

from .presets import (
    SECTIONS,
    Compiled,
    authenticator_class,
    compile_config,
    configured,
    is_presets_class,
)

_PLAIN = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.-]*\Z")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
ORCID_NOTE = (
    "orcid: plain CILogonOAuthenticator would name users 'orcid:http://orcid.org/<iD>'; "
    "CILogonPresetsAuthenticator reduces the oidc claim to the bare iD, so keep it."
)


def load_config_file(path: Path) -> Config:
    """A jupyterhub_config.py, loaded as JupyterHub loads it."""
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def compile_file_config(config: Config) -> tuple[Compiled, dict[str, list[str]]]:
    """The compiled presets of `config` and its user lists; raises PresetConfigError."""
    cls = authenticator_class(config)
    cls = cls if is_presets_class(cls) else None
    compiled = compile_config(config, cls)
    sections = [k.__name__ for k in reversed(cls.__mro__)] if cls else list(SECTIONS)
    users = {
        name: sorted(configured(config, sections, name, set()) or ())
        for name in ("admin_users", "allowed_users")
    }
    return compiled, {k: v for k, v in users.items() if v}


def py_literal(value: object, indent: int = 0) -> str:
    """A Python literal, one key or item per line (sets sorted), indented by 4."""
    pad, inner = "    " * indent, "    " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{k!r}: {py_literal(v, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, set, frozenset)) and value:
        seq = sorted(value) if isinstance(value, (set, frozenset)) else value
        text = ", ".join(py_literal(v, indent + 1) for v in seq)
        if len(text) < 60 and not any(isinstance(v, (dict, list)) for v in seq):
            return f"{{{text}}}" if isinstance(value, (set, frozenset)) else f"[{text}]"
        items = [f"{inner}{py_literal(v, indent + 1)}," for v in seq]
        ends = "{}" if isinstance(value, (set, frozenset)) else "[]"
        return ends[0] + "\n" + "\n".join(items) + f"\n{pad}" + ends[1]
    return repr(value)


def _assign(target: str, value: object) -> str:
    return f"{target} = {py_literal(value)}"


def as_python(compiled: Compiled, users: dict[str, list[str]]) -> str:
    """The compiled configuration as jupyterhub_config.py lines."""
    lines = ["# CILogon presets compiled (for review; the presets apply this at hub start)"]
    lines += [f"# {line}" for line in compiled.summary]
    if compiled.orcid_entity_ids:
        lines.append(f"# {ORCID_NOTE}")
    lines.append(_assign("c.CILogonOAuthenticator.idps", compiled.idps))
    lines.append(_assign("c.CILogonOAuthenticator.scope", compiled.scope))
    for name, values in users.items():
        lines.append(_assign(f"c.Authenticator.{name}", set(values)))
    return "\n".join(lines) + "\n"


def as_z2jh_yaml(compiled: Compiled, users: dict[str, list[str]]) -> str:
    """The compiled configuration as Zero to JupyterHub `hub.config` values."""
    section: dict = {"CILogonOAuthenticator": {"idps": compiled.idps, "scope": compiled.scope}}
    if users:
        section["Authenticator"] = users
    head = ["# CILogon presets compiled, as Zero to JupyterHub values (for review)"]
    if compiled.orcid_entity_ids:
        head.append(f"# {ORCID_NOTE}")
    return "\n".join(head + to_yaml({"hub": {"config": section}})) + "\n"


def to_yaml(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML for dicts, lists and scalars (strings quoted when YAML needs it)."""
    pad = "  " * indent
    lines: list[str] = []
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    for key, item in items:
        head = f"{pad}{_scalar(key)}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(item, (dict, list)) and item:
            sub = to_yaml(item, indent + 1)
            if isinstance(value, dict):
                lines += [head, *sub]
            else:  # a list item's first key goes on the dash line
                lines += [f"{head} {sub[0].lstrip()}", *sub[1:]]
        else:
            lines.append(f"{head} {_scalar(item)}")
    return lines


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    text = str(value)
    plain = _PLAIN.match(text) and text.lower() not in _YAML_WORDS
    return text if plain else json.dumps(text)  # JSON strings are valid YAML scalars
