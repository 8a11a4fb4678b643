"""The unlisted-value rule shared by the server and the browser, and `{value}` substitution.

The browser checks a value with `new RegExp("^(?:" + pattern + ")$")` (no flags); the server
applies the same full match here. Patterns whose meaning differs between the two are refused
at config time by `pattern_problem`.
"""

from __future__ import annotations

import re
from typing import Any

_PYTHON_ONLY_ESCAPES = "AZzGhUNa"
_PYTHON_ONLY_GROUPS = {
    "P<": "named groups (?P<name>...)",
    "P=": "named backreferences (?P=name)",
    "<=": "lookbehind (?<=...)",
    "<!": "lookbehind (?<!...)",
    ">": "atomic groups (?>...)",
    "(": "conditionals (?(...)...)",
    "#": "comments (?#...)",
}
# What JavaScript's `.` and `$` mean without flags, for Python (whose `.` takes "\r" and whose
# `$` also matches before a final newline).
_JS_DOT = "[^\\n\\r\\u2028\\u2029]"
_JS_END = "\\Z"


def _scan(pattern: str) -> tuple[str | None, str]:
    """(why the pattern is not portable or None, its Python translation)."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c, nxt = pattern[i], pattern[i + 1 : i + 2]
        if c == "\\":
            if nxt and nxt in _PYTHON_ONLY_ESCAPES:
                return f"'\\{nxt}' means something else, or nothing, in JavaScript.", ""
            out.append(pattern[i : i + 2])
            i += 2
            continue
        was_in_class = in_class
        if in_class:
            in_class = c != "]"
        elif c == "[":
            start = i + 1 + (nxt == "^")
            if pattern[start : start + 1] == "]":
                return "a ']' first in a class is literal in Python but ends it in JavaScript.", ""
            out.append(pattern[i:start])
            in_class, i = True, start
            continue
        elif pattern.startswith("(?", i):
            rest = pattern[i + 2 :]
            for prefix, what in _PYTHON_ONLY_GROUPS.items():
                if rest.startswith(prefix):
                    return f"Python-only syntax: {what}.", ""
            if rest[:1] and rest[:1] in "aiLmsux-":
                return "Python-only syntax: inline flags such as (?i).", ""
        elif c in "*+?}" and nxt == "+":
            return "Python-only syntax: possessive quantifiers such as '*+'.", ""
        elif c == "{" and re.match(r"\{,[0-9]*\}", pattern[i:]):
            return "'{,n}' is a repeat in Python but literal text in JavaScript.", ""
        if not was_in_class and c in ".$":
            c = _JS_DOT if c == "." else _JS_END
        out.append(c)
        i += 1
    return None, "".join(out)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be the shared rule (not portable, or no Python regex); else None."""
    problem, translated = _scan(pattern)
    if problem is None:
        try:
            re.compile(pattern)
            re.compile(translated, re.ASCII)
        except re.error as err:
            problem = f"not a valid regular expression: {err}."
    return problem


def full_match(pattern: str, value: str) -> bool:
    """The one rule: `value` matches the whole of `pattern`, as JS `^(?:pattern)$` does.

    KubeSpawner uses `re.match` (a prefix match, Unicode classes); we differ on purpose. `.`,
    `$`, `\\d`, `\\w` and `\\b` are read as JavaScript reads them; residual differences, where
    the server is the stricter: `\\s` is ASCII here; a character outside the BMP counts as
    two for JavaScript's `.`.
    """
    return re.fullmatch(_scan(pattern)[1], value, re.ASCII) is not None


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return f"{{{key}}}"


def substitute(obj: Any, value: str) -> Any:
    """KubeSpawner's `recursive_format(obj, value=...)` (utils.py:242): strings, lists, sets and
    dicts (keys too) are formatted; other `{names}` are kept; anything else is returned as is."""
    if isinstance(obj, str):
        return obj.format_map(_KeepMissing(value=value))
    if isinstance(obj, list):
        return [substitute(i, value) for i in obj]
    if isinstance(obj, set):
        return {substitute(i, value) for i in obj}
    if isinstance(obj, dict):
        return {substitute(k, value): substitute(v, value) for k, v in obj.items()}
    return obj
