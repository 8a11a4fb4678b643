"""Does a regular expression match some text in exponentially many ways? (issue #13)

A backtracking engine (Python's `re`, the browser's RegExp) tries every way a pattern can
match before it gives up on a value that does not match. When a loop can go round the same
text in two different ways, that is 2^n tries for n rounds: `(a|aa)+`, `(a|a?)+` and
`(\\w|\\d)+` against forty characters and a '!' keep the engine busy for minutes.
`patterns._backtracks` catches the common shape (a repetition directly inside a repeated
group); this module catches the rest, alternatives that overlap under a repetition
included, with the textbook test for "exponential degree of ambiguity":

1. the pattern becomes a Glushkov automaton: one state per character item (a literal, a
   class, `.`), an edge from each state to every state that may follow it;
2. in the product of that automaton with itself, a state pair (p, q) steps to (p', q') when
   p' may follow p, q' may follow q, and some character matches both p' and q';
3. the pattern is exponentially ambiguous exactly when a strongly connected component of the
   product holds a pair (p, p) and a pair (p', q') with p' != q': from p, two different paths
   read the same text and come back to p, and each round doubles the ways.

The pattern is parsed here rather than with Python's own parser, which rewrites `(\\w|\\d)`
as the class `[\\w\\d]` (harmless to `re`, but the browser's engine runs the alternation as
written). A counted repetition of up to MAX_UNROLLED rounds is written out (`x{1,3}` as
`x(x)?(x)?`: a few rounds cannot multiply the ways exponentially), a longer one becomes a loop
after a few copies (`x{3,50}` as `xxx` then `x*`); lookaheads and anchors read no text. A
pattern with backreferences or over MAX_STATES items is not judged (`None`): the match
timeout (patterns.MATCH_TIMEOUT) bounds those. Measured in V8 (Node, as Chromium): '(\\w|\\d)+'
takes 1.5 s on 26 digits and a '!'.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

INF = -1
MAX_UNROLLED = 10  # a counted repetition of at most this many rounds is read exactly
MAX_COPIES = 3  # copies of a longer one's body, before the rest becomes a loop
MAX_STATES = 200
MAX_STEPS = 2_000_000  # product edges looked at before giving up (patterns are short)
_QUANTIFIER = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")
EPS: tuple = ("eps",)

Ranges = list[tuple[int, int]]


class _Unjudged(Exception):
    """A pattern this check does not judge (backreferences, too large)."""


class _Parser:
    """The JavaScript-portable subset patterns._scan lets through, as a small tree."""

    def __init__(self, pattern: str, chars: Callable[[str], Ranges]):
        self.p, self.i, self.chars = pattern, 0, chars

    def peek(self) -> str:
        return self.p[self.i : self.i + 1]

    def parse(self) -> tuple:
        node = self.alternation()
        if self.i != len(self.p):
            raise _Unjudged(f"unexpected {self.peek()!r}")
        return node

    def alternation(self) -> tuple:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def sequence(self) -> tuple:
        items = []
        while self.peek() and self.peek() not in "|)":
            items.append(self.quantified(self.atom()))
        return ("seq", items)

    def close(self) -> None:
        if self.peek() != ")":
            raise _Unjudged("unbalanced group")
        self.i += 1

    def atom(self) -> tuple:
        p, i = self.p, self.i
        c = p[i]
        if c == "(":
            lookahead = p.startswith(("(?=", "(?!"), i)
            self.i += 3 if lookahead or p.startswith("(?:", i) else 1
            node = self.alternation()
            self.close()
            return EPS if lookahead else node  # a lookahead reads no text
        if c == "^":
            self.i += 1
            return EPS
        if c == "[":
            end = i + 1 + (p[i + 1 : i + 2] == "^")
            while end < len(p) and p[end] != "]":
                end += 2 if p[end] == "\\" else 1
            self.i = end + 1
            return ("chars", self.chars(p[i : end + 1]))
        if c == "\\":
            nxt = p[i + 1 : i + 2]
            if nxt in ("b", "B", "Z"):  # word boundaries; \Z is the translation of '$'
                self.i += 2
                return EPS
            if nxt.isdigit() and nxt != "0":
                raise _Unjudged("backreference")
            size = {"x": 4, "u": 6}.get(nxt, 2)
            if nxt == "0":
                size = 2 + len(re.match(r"[0-7]{0,2}", p[i + 2 :])[0])  # type: ignore[index]
            self.i += size
            return ("chars", self.chars(p[i : i + size]))
        self.i += 1
        return ("chars", self.chars(re.escape(c)))

    def quantified(self, node: tuple) -> tuple:
        while True:
            c = self.peek()
            if c and c in "*+?":
                low, high = {"*": (0, INF), "+": (1, INF), "?": (0, 1)}[c]
                self.i += 1
            elif c == "{" and (m := _QUANTIFIER.match(self.p, self.i)):
                low = int(m[1])
                high = low if not m[2] else (int(m[3]) if m[3] else INF)
                self.i = m.end()
            else:
                return node
            if self.peek() == "?":  # lazy: the same paths, tried in another order
                self.i += 1
            node = ("rep", node, low, high)


class _Glushkov:
    """States (one per character item) with their characters and followers."""

    def __init__(self) -> None:
        self.labels: list[Ranges] = [[]]  # state 0: the start
        self.follow: list[set[int]] = [set()]

    def build(self, node: tuple) -> tuple[bool, set[int], set[int]]:
        """(matches the empty text, first states, last states) of a sub-pattern."""
        kind = node[0]
        if kind == "eps":
            return True, set(), set()
        if kind == "chars":
            if len(self.labels) > MAX_STATES:
                raise _Unjudged("too many items")
            self.labels.append(node[1])
            self.follow.append(set())
            state = len(self.labels) - 1
            return False, {state}, {state}
        if kind == "alt":
            built = [self.build(b) for b in node[1]]
            return (
                any(empty for empty, _, _ in built),
                set().union(*(first for _, first, _ in built)),
                set().union(*(last for _, _, last in built)),
            )
        if kind == "seq":
            return self._sequence(node[1])
        if kind in ("star", "opt"):
            _, first, last = self.build(node[1])
            if kind == "star":
                for state in last:
                    self.follow[state] |= first
            return True, first, last
        _, body, low, high = node  # rep
        if high != INF and high <= MAX_UNROLLED:  # a few rounds at most: exactly, no loop
            return self._sequence([body] * low + [("opt", body)] * (high - low))
        # many rounds: a loop after a few copies (2^high ways is as bad as unbounded)
        return self._sequence([body] * min(low, MAX_COPIES) + [("star", body)])

    def _sequence(self, items: list) -> tuple[bool, set[int], set[int]]:
        nullable, first, last = True, set[int](), set[int]()
        for item in items:
            empty, item_first, item_last = self.build(item)
            for state in last:
                self.follow[state] |= item_first
            if nullable:
                first |= item_first
            last = (item_last | last) if empty else item_last
            nullable = nullable and empty
        return nullable, first, last


def _overlap(a: Ranges, b: Ranges) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def exponentially_ambiguous(pattern: str, chars: Callable[[str], Ranges]) -> bool | None:
    """True when some text can be matched by `pattern` in 2^n ways; None when not judged.

    `pattern` is the Python translation of a portable pattern (patterns._scan); `chars`
    gives the characters one item (a literal, an escape, a class) matches.
    """
    try:
        tree = _Parser(pattern, chars).parse()
        auto = _Glushkov()
        _, first, _ = auto.build(tree)
        auto.follow[0] = first
        return _has_ambiguous_cycle(auto)
    except _Unjudged:
        return None
    except Exception:  # a pattern this parser misreads must not stop the hub: not judged
        logging.getLogger(__name__).debug("pattern not judged: %r", pattern, exc_info=True)
        return None


def _has_ambiguous_cycle(auto: _Glushkov) -> bool:
    overlaps: dict[tuple[int, int], bool] = {}
    steps = 0

    def successors(pair: tuple[int, int]) -> list[tuple[int, int]]:
        nonlocal steps
        out = []
        for a in auto.follow[pair[0]]:
            for b in auto.follow[pair[1]]:
                steps += 1
                key = (a, b) if a <= b else (b, a)
                if key not in overlaps:
                    overlaps[key] = _overlap(auto.labels[a], auto.labels[b])
                if overlaps[key]:
                    out.append((a, b))
        if steps > MAX_STEPS:
            raise _Unjudged("too large to judge")
        return out

    # Tarjan's strongly connected components, iteratively, from the start pair
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    stack: list[tuple[int, int]] = []
    on_stack: set[tuple[int, int]] = set()
    start = (0, 0)
    work = [(start, iter(successors(start)))]
    index[start] = low[start] = 0
    stack.append(start)
    on_stack.add(start)
    while work:
        node, children = work[-1]
        advanced = False
        for child in children:
            if child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(successors(child))))
                advanced = True
                break
            if child in on_stack:
                low[node] = min(low[node], index[child])
        if advanced:
            continue
        work.pop()
        if work:
            parent = work[-1][0]
            low[parent] = min(low[parent], low[node])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            diagonal = any(a == b for a, b in component)
            if diagonal and any(a != b for a, b in component):
                return True
    return False
