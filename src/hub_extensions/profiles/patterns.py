"""The unlisted-value rule shared by the server and the browser, and `{value}` substitution.

The browser checks a value with `new RegExp("^(?:" + pattern + ")$")` (no flags); the server
applies the same full match here. Patterns whose meaning differs between the two are refused
at config time by `pattern_problem`.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from typing import Any

import regex

from .ambiguity import exponentially_ambiguous

# the regex parser of Python's own `re` (a private module, stable in practice)
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

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
_REPEAT = re.compile(r"\{[0-9]+(,[0-9]*)?\}")
#: A value is checked against a pattern for at most this long (seconds): what the start check
#: cannot judge costs no more, and the user is told (PatternTooSlow).
MATCH_TIMEOUT = 0.1
log = logging.getLogger(__name__)


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
        elif (was_in_class and c == "[") or (
            not was_in_class and c == "{" and not _REPEAT.match(pattern, i)
        ):
            # literal for `re` and JavaScript, syntax for the `regex` module that matches
            # values (POSIX classes `[[:alpha:]]`, fuzzy matches `{e<=1}`): escaped
            c = "\\" + c
        out.append(c)
        i += 1
    return None, "".join(out)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be the shared rule (not portable, no Python regex, or open to
    catastrophic backtracking); else None."""
    problem, translated = _scan(pattern)
    if problem is None:
        try:
            re.compile(pattern)
            re.compile(translated, re.ASCII)
        except re.error as err:
            problem = f"not a valid regular expression: {err}."
    if problem is None and _backtracks(_sre.parse(translated, re.ASCII)):
        problem = (
            "a repeated group contains a repetition that can match the same text in many "
            "ways (as in '(a+)+' or '(\\w+\\s?)*'): a crafted value of a few dozen characters "
            "would keep the hub and the browser busy for minutes (catastrophic "
            "backtracking). Make each repetition of the group start or end with a character "
            "the inner repetition cannot match, e.g. '([a-z0-9]+/)*' or '(/[a-z0-9]+)+' "
            "rather than '([a-z0-9/]+)+', or drop the outer repetition."
        )
    if problem is None and _ambiguous(translated):
        problem = (
            "a repeated part can match the same text in two ways (overlapping alternatives, "
            "as in '(a|aa)+', '(a|a?)+' or '(\\w|\\d)+'): a crafted value of a few dozen "
            "characters would keep the hub and the browser busy for minutes (catastrophic "
            "backtracking). Make the alternatives exclusive (none matching what another "
            "matches or begins with), e.g. '\\w+' rather than '(\\w|\\d)+', 'a+' rather "
            "than '(a|aa)+'."
        )
    return problem


def _ambiguous(translated: str) -> bool:
    return bool(exponentially_ambiguous(translated, _item_chars))


def _item_chars(text: str) -> Ranges:
    """The characters one item of a pattern (a literal, an escape, a class) matches."""
    items = _sre.parse(text, re.ASCII)
    one = _one_char(*items[0]) if len(items) == 1 else None
    return _ALL if one is None else one


# -- catastrophic backtracking -------------------------------------------------------------
# A regex engine that backtracks (Python's, JavaScript's) can take exponential time when a
# repeated group holds a variable repetition and nothing marks where one round of the group
# ends and the next begins: '(a+)+' against 'aaaa...!' tries every way to split the a's.
# The check below refuses exactly that shape: a group repeated more than once whose body
# holds a variable repetition, unless the body has a mandatory character that none of its
# inner repetitions can match (a separator, as '/' in '(/[a-z]+)+'), which makes the split
# unique. Overlapping alternatives ('(a|aa)+') are found by ambiguity.py; what neither check
# judges is bounded at match time (MATCH_TIMEOUT).

Ranges = list[tuple[int, int]]
_ALL: Ranges = [(0, sys.maxunicode)]
_ASCII_CATEGORIES: dict[Any, Ranges] = {
    _sre.CATEGORY_DIGIT: [(48, 57)],
    _sre.CATEGORY_SPACE: [(9, 13), (32, 32)],
    _sre.CATEGORY_WORD: [(48, 57), (65, 90), (95, 95), (97, 122)],
}
_NEGATED_CATEGORIES = {
    _sre.CATEGORY_NOT_DIGIT: _sre.CATEGORY_DIGIT,
    _sre.CATEGORY_NOT_SPACE: _sre.CATEGORY_SPACE,
    _sre.CATEGORY_NOT_WORD: _sre.CATEGORY_WORD,
}
_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)}


def _normal(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _invert(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for lo, hi in _normal(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    return out + ([(start, sys.maxunicode)] if start <= sys.maxunicode else [])


def _overlap(a: Ranges, b: Ranges) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _one_char(op, av) -> Ranges | None:
    """The characters a single-character item matches; None for anything else."""
    if op is _sre.LITERAL:
        return [(av, av)]
    if op is _sre.NOT_LITERAL:
        return _invert([(av, av)])
    if op is _sre.ANY:
        return _invert([(10, 10)])
    if op is not _sre.IN:
        return None
    ranges: Ranges = []
    negate = False
    for item_op, item_av in av:
        if item_op is _sre.NEGATE:
            negate = True
        elif item_op is _sre.LITERAL:
            ranges.append((item_av, item_av))
        elif item_op is _sre.RANGE:
            ranges.append(item_av)
        elif item_op is _sre.CATEGORY and item_av in _ASCII_CATEGORIES:
            ranges += _ASCII_CATEGORIES[item_av]
        elif item_op is _sre.CATEGORY and item_av in _NEGATED_CATEGORIES:
            ranges += _invert(_ASCII_CATEGORIES[_NEGATED_CATEGORIES[item_av]])
        else:
            ranges += _ALL  # anything unusual: assume it may match anything
    return _invert(ranges) if negate else _normal(ranges)


def _children(op, av) -> list:
    """The sub-patterns (lists of items) directly inside one item."""
    if op in _REPEATS:
        return [av[2]]
    if op is _sre.SUBPATTERN:
        return [av[-1]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return [av]
    return []


def _chars(items) -> Ranges:
    """Every character the items may consume (an over-estimate is safe)."""
    out: Ranges = []
    for op, av in items:
        one = _one_char(op, av)
        if one is not None:
            out += one
        elif op is _sre.GROUPREF:
            out += _ALL
        for child in _children(op, av):
            out += _chars(child)
    return _normal(out)


def _variable_repeats(items) -> list[Ranges]:
    """The characters of each repetition with a variable count inside the items."""
    out = []
    for op, av in items:
        if op in _REPEATS and av[1] != av[0]:
            out.append(_chars(av[2]))
        for child in _children(op, av):
            out += _variable_repeats(child)
    return out


def _mandatory_chars(items) -> list[Ranges]:
    """Single-character items that every match of the sequence consumes."""
    out = []
    for op, av in items:
        one = _one_char(op, av)
        if one is not None:
            out.append(one)
        elif op is _sre.SUBPATTERN:
            out += _mandatory_chars(av[-1])
        elif op in _REPEATS and av[0] >= 1 and len(av[2]) == 1:
            out += _mandatory_chars(av[2])
    return out


def _backtracks(items) -> bool:
    for op, av in items:
        if op in _REPEATS and (av[1] == _sre.MAXREPEAT or av[1] > 1):
            inner = _variable_repeats(av[2])
            if inner:
                separators = _mandatory_chars(av[2])
                if not any(all(not _overlap(sep, r) for r in inner) for sep in separators):
                    return True
        if any(_backtracks(child) for child in _children(op, av)):
            return True
    return False


def full_match(pattern: str, value: str) -> bool:
    """The one rule: `value` matches the whole of `pattern`, as JS `^(?:pattern)$` does.

    KubeSpawner uses `re.match` (a prefix match, Unicode classes); we differ on purpose. `.`,
    `$`, `\\d`, `\\w` and `\\b` are read as JavaScript reads them; residual differences, where
    the server is the stricter: `\\s` is ASCII here; a character outside the BMP counts as
    two for JavaScript's `.`.
    """
    translated = _scan(pattern)[1]
    re.compile(translated, re.ASCII)  # what `re` refuses stays refused (re.error)
    try:
        # the `regex` module, for its timeout; on this translation it reads as `re` does
        found = regex.fullmatch(
            translated, value, flags=regex.ASCII | regex.VERSION0, timeout=MATCH_TIMEOUT
        )
    except TimeoutError:
        log.warning(
            "validation_regex %r took over %.0f ms on a %d-character value: it is open to "
            "catastrophic backtracking; simplify it",
            pattern,
            MATCH_TIMEOUT * 1000,
            len(value),
        )
        raise PatternTooSlow(pattern) from None
    return found is not None


class PatternTooSlow(ValueError):
    """A value took longer than MATCH_TIMEOUT to check (catastrophic backtracking the start
    check did not catch); the hub's log names the pattern."""


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
