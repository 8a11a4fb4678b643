"""profile_list is read as KubeSpawner 7.1 reads it, and an admin's mistake is named with its fix."""

import copy

import pytest

from hub_extensions.profiles import ProfileListError, evaluate, model, normalize, resolve, visible

# kubespawner is imported where it is used: its import (kubernetes_asyncio, kubernetes_validate,
# jsonschema's format grammars) takes over two seconds of every collection of the suite.

pytestmark = pytest.mark.unit

IMAGE_OPTION = {
    "display_name": "Image",
    "choices": {
        "base": {"display_name": "Base", "kubespawner_override": {"image": "jupyter/base"}},
        "minimal": {"display_name": "Minimal", "kubespawner_override": {"image": "jupyter/min"}},
    },
    "unlisted_choice": {
        "enabled": True,
        "display_name": "Other image",
        "validation_regex": "^jupyter/.+:.+$",
        "kubespawner_override": {"image": "{value}"},
    },
}
PROFILES = [
    {"display_name": "Small (2 GB)", "profile_options": {"image": IMAGE_OPTION}},
    {"display_name": "GPU — A100", "default": True, "kubespawner_override": {"cpu_limit": 8}},
    {"display_name": "Custom", "slug": "custom-slug", "description": "Any <em>image</em>"},
]


def kubespawner_initialized(profile_list):
    """KubeSpawner's own normalisation; neither helper uses the spawner instance."""
    from kubespawner import KubeSpawner

    return KubeSpawner._get_initialized_profile_list(
        None, KubeSpawner._sorted_dict_values(None, profile_list)
    )


def summary_ours(profiles):
    return [
        (
            p.slug,
            p.default,
            {o.key: [c.key for c in o.choices if c.default] for o in p.options},
            {o.key: o.unlisted.display_name_in_choices for o in p.options},
        )
        for p in profiles
    ]


def summary_kubespawner(profile_list):
    return [
        (
            p["slug"],
            bool(p.get("default")),
            {
                k: [c for c, v in o.get("choices", {}).items() if v.get("default")]
                for k, o in p.get("profile_options", {}).items()
            },
            {
                k: o["unlisted_choice"].get("display_name_in_choices")
                for k, o in p.get("profile_options", {}).items()
            },
        )
        for p in kubespawner_initialized(profile_list)
    ]


DICT_FORM = {
    "zeta": {"display_name": "Zeta"},
    "alpha": {"display_name": "Alpha profile", "profile_options": {"image": IMAGE_OPTION}},
    "mid": {"display_name": "Mid", "slug": "the-mid", "default": True},
}


@pytest.mark.parametrize(
    "profile_list",
    [
        PROFILES,
        DICT_FORM,
        [{"display_name": "Only"}],
        [
            {
                "display_name": "Two defaults",
                "profile_options": {
                    "size": {
                        "choices": {
                            "s": {"display_name": "S"},
                            "m": {"display_name": "M", "default": True},
                            "l": {"display_name": "L"},
                        }
                    },
                    "tag": {"unlisted_choice": {"enabled": True}},
                },
            }
        ],
    ],
    ids=["list", "dict", "single", "defaults"],
)
def test_slugs_defaults_and_order_are_kubespawners(profile_list):
    assert summary_ours(normalize(profile_list)) == summary_kubespawner(profile_list)


def test_slugs_are_made_by_the_same_function_as_kubespawners():
    from kubespawner import spawner as kubespawner_module

    assert model.slugify is kubespawner_module.slugify
    examples = [
        "Small (2 GB)",
        "GPU — A100",
        "Ünïcode ñ 日本語",
        "  spaces  ",
        "a_b.c",
        "CPU: 2 & 4G",
    ]
    ours = [p.slug for p in normalize([{"display_name": name} for name in examples])]
    theirs = [p["slug"] for p in kubespawner_initialized([{"display_name": n} for n in examples])]
    assert (
        ours
        == theirs
        == [
            "small-2-gb",
            "gpu-a100",
            "unicode-n-ri-ben-yu",
            "spaces",
            "a-b-c",
            "cpu-2-4g",
        ]
    )


def test_dict_form_is_ordered_by_key_and_the_key_is_not_the_slug():
    profiles = normalize(DICT_FORM)
    assert [p.slug for p in profiles] == ["alpha-profile", "the-mid", "zeta"]
    assert [p.default for p in profiles] == [False, True, False]
    assert profiles[0].path == "profile_list['alpha']"


def test_choices_keep_their_order_and_the_first_default_wins():
    option = normalize(
        [
            {
                "display_name": "P",
                "profile_options": {
                    "size": {
                        "choices": {
                            "xl": {"display_name": "XL"},
                            "s": {"display_name": "S", "default": True},
                            "m": {"display_name": "M", "default": True},
                        }
                    }
                },
            }
        ]
    )[0].options[0]
    assert [c.key for c in option.choices] == ["xl", "s", "m"]
    assert option.default_choice.key == "s"
    assert [c.default for c in option.choices] == [False, True, False]


def test_labels_default_to_keys_and_other_to_kubespawners_text():
    option = normalize(
        [
            {
                "display_name": "P",
                "profile_options": {
                    "tag": {"choices": {"v1": {}}, "unlisted_choice": {"enabled": True}}
                },
            }
        ]
    )[0].options[0]
    assert (option.display_name, option.choices[0].display_name) == ("tag", "v1")
    assert option.unlisted.display_name == "tag"
    assert option.unlisted.display_name_in_choices == "Other..."


def test_normalize_does_not_change_the_admins_list():
    before = copy.deepcopy(PROFILES)
    normalize(PROFILES)
    assert before == PROFILES


def test_resources_are_checked_and_memory_read_like_mem_limit():
    profiles = normalize(
        [
            {
                "display_name": "A",
                "resources": {"cpu": 2, "memory": "4G", "gpu": 1, "gpu_type": "T4"},
            },
            {"display_name": "B", "resources": {"memory": "512Mi"}},
            {"display_name": "C", "resources": {"memory": 1073741824, "cpu": 0.5}},
        ]
    )
    assert profiles[0].resources == model.Resources(2.0, 4 * 2**30, 1, "T4")
    assert profiles[1].resources.memory_bytes == 512 * 2**20
    assert profiles[2].resources == model.Resources(0.5, 2**30, None, None)


BAD = [
    ([{"slug": "a"}], "profile_list[0].display_name: missing: KubeSpawner fails at spawn."),
    ([{"display_name": "!!!"}], "profile_list[0].slug: empty."),
    (
        [{"display_name": "A"}, {"display_name": "a"}],
        "profile_list[1].slug: 'a' is also the slug of profile_list[0].",
    ),
    (
        [{"display_name": "x", "slug": "a"}, {"display_name": "y", "slug": "a--b"}],
        "profile_list[1].slug: 'a--b' and the slug 'a' of profile_list[0] would mix their form fields.",
    ),
    (
        [{"display_name": "A", "allowed_groups": "staff"}],
        "profile_list[0].allowed_groups: 'staff' is not a non-empty list",
    ),
    (
        [{"display_name": "A", "allowed_groups": []}],
        "profile_list[0].allowed_groups: [] is not a non-empty list",
    ),
    (
        [{"display_name": "A", "resources": {"cpu": -1}}],
        "profile_list[0].resources.cpu: -1 is not a number of cores",
    ),
    (
        [{"display_name": "A", "resources": {"cpu": float("nan")}}],
        "profile_list[0].resources.cpu: nan is not a number of cores",
    ),
    (
        [{"display_name": "A", "resources": {"memory": "4GB"}}],
        "profile_list[0].resources.memory: '4GB' is not a memory size. Fix: write bytes",
    ),
    (
        [{"display_name": "A", "profile_options": {"o": {}}}],
        "profile_list[0].profile_options.o: has no choices and no enabled unlisted_choice: "
        "KubeSpawner fails at spawn.",
    ),
    (
        [{"display_name": "A", "profile_options": {"o": {"choices": {1: {}}}}}],
        "profile_list[0].profile_options.o.choices[1]: a choice key must be a non-empty string",
    ),
    (
        [{"display_name": "A", "profile_options": {"profile": {"choices": {"a": {}}}}}],
        "profile_list[0].profile_options.profile: this option key is reserved",
    ),
    (
        [{"display_name": "A", "profile_options": {"o": {"choices": {"unlisted-choice": {}}}}}],
        "profile_list[0].profile_options.o.choices.unlisted-choice: this choice key is reserved",
    ),
    (
        [
            {
                "display_name": "A",
                "profile_options": {
                    "o": {
                        "unlisted_choice": {
                            "enabled": True,
                            "kubespawner_override": {"image": "{value"},
                        }
                    }
                },
            }
        ],
        "profile_list[0].profile_options.o.unlisted_choice.kubespawner_override: '{value}' cannot be substituted",
    ),
    (
        "everything",
        "profile_list: expected a list of profiles, a dict of profiles or a callable, got str.",
    ),
    (
        {"gpu": {"display_nam": "GPU"}},
        "profile_list['gpu'].display_name: missing: KubeSpawner fails at spawn.",
    ),
]


@pytest.mark.parametrize(("profile_list", "message"), BAD)
def test_each_mistake_is_named_with_its_path(profile_list, message):
    with pytest.raises(ProfileListError) as err:
        normalize(profile_list)
    assert str(err.value).startswith(message), str(err.value)


def regex_profile(pattern):
    unlisted = {"enabled": True, "validation_regex": pattern}
    return [
        {"display_name": "A"},
        {"display_name": "B", "profile_options": {"image": {"unlisted_choice": unlisted}}},
    ]


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(?P<name>x)", "Python-only syntax: named groups"),
        ("(?P<a>x)(?P=a)", "Python-only syntax: named groups"),
        ("(?<=a)b", "Python-only syntax: lookbehind"),
        ("(?<!a)b", "Python-only syntax: lookbehind"),
        ("(?i)jupyter/.+", "Python-only syntax: inline flags"),
        ("(?i:jupyter)/.+", "Python-only syntax: inline flags"),
        ("(?>a)", "Python-only syntax: atomic groups"),
        ("a*+", "Python-only syntax: possessive"),
        ("a++", "Python-only syntax: possessive"),
        ("a?+", "Python-only syntax: possessive"),
        (r"\Ajupyter", r"'\A' means something else"),
        (r"jupyter\Z", r"'\Z' means something else"),
        (r"jupyter\z", r"'\z' means something else"),
        (r"\Gx", r"'\G' means something else"),
        (r"\h", r"'\h' means something else"),
        ("(a)?(?(1)b|c)", "Python-only syntax: conditionals"),
        ("a{,3}", "'{,n}' is a repeat in Python but literal text in JavaScript."),
        ("[]a]", "a ']' first in a class"),
        ("jupyter/(.+", "not a valid regular expression: missing ),"),
        ("[a-", "not a valid regular expression"),
    ],
)
def test_patterns_that_javascript_reads_differently_are_refused(pattern, problem):
    with pytest.raises(ProfileListError) as err:
        normalize(regex_profile(pattern))
    message = str(err.value)
    assert message.startswith(
        f"profile_list[1].profile_options.image.unlisted_choice.validation_regex: {pattern!r}: {problem}"
    )
    assert "Fix: use syntax that Python and JavaScript read alike" in message


@pytest.mark.parametrize(
    "pattern", ["^jupyter/.+:.+$", "a|b", r"[(?P<x>)]", r"\(?P<", r"[\]]", r"(?=a)\w+", ""]
)
def test_portable_patterns_are_accepted(pattern):
    assert normalize(regex_profile(pattern))[1].options[0].unlisted.validation_regex == (
        pattern or None
    )


class FakeSpawner:
    groups = ("staff",)


def for_groups(spawner):
    return [{"display_name": g} for g in spawner.groups]


async def for_groups_async(spawner):
    return for_groups(spawner)


async def test_a_callable_is_called_with_the_spawner_sync_or_async():
    assert [p.slug for p in await resolve(for_groups, FakeSpawner())] == ["staff"]
    assert [p.slug for p in await resolve(for_groups_async, FakeSpawner())] == ["staff"]
    assert [p.slug for p in await resolve(DICT_FORM, FakeSpawner())] == [
        "alpha-profile",
        "the-mid",
        "zeta",
    ]


async def test_a_callable_that_raises_or_returns_garbage_is_named():
    def broken(spawner):
        raise KeyError("auth_state")

    async def garbage(spawner):
        return 42

    with pytest.raises(ProfileListError) as err:
        await resolve(broken, FakeSpawner())
    assert str(err.value).startswith(
        "profile_list (callable test_a_callable_that_raises_or_returns_garbage_is_named.<locals>.broken): "
        "raised KeyError: 'auth_state' Fix: make it return a list of profiles."
    )
    with pytest.raises(
        ProfileListError, match=r"^profile_list \(callable .*garbage\): expected a list"
    ):
        await resolve(garbage, FakeSpawner())

    def bad_item(spawner):
        return [{"display_name": "A", "defualt": True}, {"slug": "b"}]

    checked = await evaluate(bad_item, FakeSpawner())
    assert [p.slug for p in checked.profiles] == ["a"]
    assert [(p.refusal, str(p)) for p in checked.problems] == [
        (
            False,
            "profile_list (callable test_a_callable_that_raises_or_returns_garbage_is_named."
            "<locals>.bad_item)[0].defualt: not read by KubeSpawner, fancy-profiles or "
            "hub-extensions: it has no effect. Did you mean 'default'? Fix: rename it to 'default'.",
        ),
        (
            True,
            "profile_list (callable test_a_callable_that_raises_or_returns_garbage_is_named."
            "<locals>.bad_item)[1].display_name: missing: KubeSpawner fails at spawn. "
            "Fix: name the profile.",
        ),
    ]


GROUPED = [
    {"display_name": "Everyone"},
    {"display_name": "Staff", "allowed_groups": ["staff"], "default": True},
    {
        "display_name": "Mixed",
        "profile_options": {
            "image": {
                "choices": {
                    "gpu": {"allowed_groups": ["gpu"], "default": True},
                    "cpu": {},
                }
            }
        },
    },
    {
        "display_name": "GPU only",
        "profile_options": {"image": {"choices": {"cuda": {"allowed_groups": ["gpu"]}}}},
    },
    {
        "display_name": "GPU or own",
        "profile_options": {
            "image": {
                "choices": {"cuda": {"allowed_groups": ["gpu"]}},
                "unlisted_choice": {"enabled": True},
            }
        },
    },
]


def test_groups_hide_profiles_and_choices_and_defaults_move():
    shown = visible(normalize(GROUPED), {"students"})
    assert [p.slug for p in shown] == ["everyone", "mixed", "gpu-or-own"]
    assert [p.default for p in shown] == [True, False, False]
    mixed = shown[1].options[0]
    assert [(c.key, c.default) for c in mixed.choices] == [("cpu", True)]
    assert shown[2].options[0].choices == ()


def test_members_see_what_their_groups_allow():
    shown = visible(normalize(GROUPED), {"staff", "gpu"})
    assert [p.slug for p in shown] == ["everyone", "staff", "mixed", "gpu-only", "gpu-or-own"]
    assert shown[1].default
    assert shown[2].options[0].default_choice.key == "gpu"


def test_no_groups_no_hidden_profiles():
    assert visible(normalize(PROFILES), set()) == normalize(PROFILES)
