"""Catastrophic regexes in `validation_regex` are refused when the hub starts (#13).

Through the real start check (`check_config` on a profiles spawner's `profile_list`), and
`pattern_problem` itself on the shapes that backtrack exponentially and on real-world patterns
that must stay accepted. Not covered: overlapping alternatives such as '(a|aa)+', which the
check does not detect (see patterns.py).
"""

from __future__ import annotations

import time

import pytest
from traitlets.config import Config

from hub_extensions.config import check_config
from hub_extensions.profiles.patterns import full_match, pattern_problem

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
]


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


def test_the_refused_shape_is_really_slow():
    """Why it is refused: 22 characters already take a noticeable time, each one doubles it."""
    started = time.monotonic()
    assert not full_match("(a+)+", "a" * 22 + "!")
    assert time.monotonic() - started > 0.05


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
