"""Catastrophic regexes in `validation_regex` are refused when the hub starts (#13).

Through the real start check (`check_config` on a profiles spawner's `profile_list`), and
`pattern_problem` itself on the shapes that backtrack exponentially and on real-world patterns
that must stay accepted, overlapping alternatives under a repetition ('(a|aa)+', found by
ambiguity.py), and the match timeout that bounds what neither check judges: a 400 naming the
field, through the real `select`. Not covered: the browser's own check of a value, which
has no timeout (a pattern the start check misses can slow the typing user's own tab).
"""

from __future__ import annotations

import re
import time

import pytest
from traitlets.config import Config

from hub_extensions.checks import check_config
from hub_extensions.profiles import SelectionError, normalize, select
from hub_extensions.profiles.patterns import (
    MATCH_TIMEOUT,
    PatternTooSlow,
    full_match,
    pattern_problem,
)

pytestmark = pytest.mark.unit

CATASTROPHIC = ["(a+)+", "(a*)*", r"(\w+\s?)*", "(.+)+", "(.*a){20}", "(a{1,5})+", "(x+x+)+y",
                r"(\d+\.?)+", "((a+)b?)+", "^([a-z0-9]+)*$"]  # fmt: skip
ACCEPTED = [
    "^.+:.+$",
    "^[^:]+:[^:]+$",
    r"[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]*",
    "^[a-z0-9.-]+(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$",
    # Docker's image reference grammar: nested repetitions, each round ends with a separator
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*:[\w][\w.-]{0,127}",
    r"^quay\.io/jupyter/[a-z-]+:[0-9-]+$",
    "(a{2})+",
    "(ab+)+",
    "(a+b)+",
    "([^:]+:)+x",
    # alternatives that cannot match the same text (or begin one another's)
    "(a|b)+",
    "(ab|ac)+",
    r"(?:ghcr\.io|quay\.io|docker\.io)/[a-z0-9-]+(/[a-z0-9-]+)*:(latest|[0-9.]+)",
    r"\d{1,3}(\.\d{1,3}){3}",
    "(foo|bar)(/(foo|bar))*",
    # overlapping alternatives repeated a few times at most: a bounded number of ways
    r"(?:\d|.){1,4}b",
    "(a|aa){2}",
]
#: overlapping alternatives under a repetition (the nested-repetition check misses them)
OVERLAPPING = ["(a|aa)+", r"(\w|\d)+$", r"(\w|\d)+", "(ab|a|b)+", "(x|y|xy)*z", r"(.|\s)*",
               r"([a-z0-9]|[0-9])+:\w+", r"(\w|\d){1,50}"]  # fmt: skip
#: what the start check does not judge (a backreference) and a value that backtracks on it
UNJUDGED, HOSTILE = r"(x?)(a|aa)+\1", "a" * 60 + "!"


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_nested_repetitions_that_backtrack_are_refused(pattern):
    problem = pattern_problem(pattern)
    assert problem is not None
    assert "catastrophic backtracking" in problem


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_real_world_patterns_are_accepted_and_fast_on_hostile_values(pattern):
    assert pattern_problem(pattern) is None
    started = time.monotonic()
    for hostile in ("a" * 5000 + "!", "a/" * 2000 + "!", "a." * 2000 + ":", "1" * 5000 + "\n"):
        full_match(pattern, hostile)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("pattern", OVERLAPPING)
def test_overlapping_alternatives_under_a_repetition_are_refused(pattern):
    problem = pattern_problem(pattern)
    assert problem is not None
    assert "catastrophic backtracking" in problem
    assert "(a|aa)+" in problem  # the shape, and how to rewrite it


def test_alternatives_that_are_refused_are_really_slow():
    """Why they are refused: Python's `re` (a backtracking engine, as the browser's is) takes
    a noticeable time on 22 characters for '(a+)+', on 30 for '(a|aa)+'; each one adds more."""
    for pattern, hostile in (("(a+)+", "a" * 22 + "!"), ("(?:a|aa)+", "a" * 30 + "!")):
        started = time.monotonic()
        assert re.fullmatch(pattern, hostile) is None
        assert time.monotonic() - started > 0.05, pattern


def test_a_match_that_backtracks_stops_at_the_timeout():
    """What the start check cannot judge (a callable profile list's pattern, backreferences,
    a very long pattern) costs at most about MATCH_TIMEOUT per value."""
    assert pattern_problem(UNJUDGED) is None
    started = time.monotonic()
    with pytest.raises(PatternTooSlow):
        full_match(UNJUDGED, HOSTILE)
    assert time.monotonic() - started < MATCH_TIMEOUT + 0.4
    assert full_match(UNJUDGED, "a" * 60)  # a value that matches is quick


def test_a_value_that_times_out_gets_a_400_naming_the_field():
    profiles = normalize(
        [
            {
                "display_name": "Any",
                "profile_options": {
                    "image": {
                        "choices": {"base": {}},
                        "unlisted_choice": {"enabled": True, "validation_regex": UNJUDGED},
                    }
                },
            }
        ]
    )
    with pytest.raises(SelectionError) as err:
        select(profiles, {"image--unlisted-choice": HOSTILE}, set())
    assert err.value.field == "profile-option-any--image--unlisted-choice"
    assert f"could not be checked against ^(?:{UNJUDGED})$ in time" in err.value.message
    assert "ask the hub's admins to simplify the pattern" in err.value.message


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("[[:alpha:]]+", "a]]", True),  # a class of '[', ':', 'a'... then ']'s, as in JavaScript
        ("[[:alpha:]]+", "abc", False),
        ("(?:ab){e<=1}", "ab{e<=1}", True),  # literal braces, not the `regex` fuzzy syntax
        ("(?:ab){e<=1}", "ac", False),
        ("a{2}", "aa", True),
        ("x{,2}y", "x{,2}y", False),  # not portable: no translation, nothing matches
    ],
)
def test_values_are_matched_as_javascript_reads_the_pattern(pattern, value, matches):
    assert full_match(pattern, value) is matches


def test_the_hub_does_not_start_with_one():
    c = Config()
    c.JupyterHub.spawner_class = "profiles-local"
    c.ProfilesLocalProcessSpawner.profile_list = [
        {
            "display_name": "Image",
            "profile_options": {
                "image": {
                    "display_name": "Image",
                    "unlisted_choice": {
                        "enabled": True,
                        "validation_regex": r"([a-z0-9]+)+:\w+",
                        "kubespawner_override": {"image": "{value}"},
                    },
                }
            },
        }
    ]
    [problem] = check_config(c)
    assert problem.startswith(
        "ProfilesLocalProcessSpawner.profile_list[0].profile_options.image.unlisted_choice"
        ".validation_regex: '([a-z0-9]+)+:\\\\w+': a repeated group contains a repetition"
    ), problem
    assert "catastrophic backtracking" in problem
