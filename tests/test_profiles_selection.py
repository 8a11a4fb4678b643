"""What a user submits is read with KubeSpawner's field names and refused with a message naming the field."""

import logging
import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub_extensions.profiles import (
    Selection,
    SelectionError,
    UnlistedValue,
    full_match,
    normalize,
    option_field,
    select,
    unlisted_field,
    user_options_from_form,
)

from .infra.kubespawner_methods import KubeSpawnerMethod

# kubespawner is imported where it is used: its import (kubernetes_asyncio, kubernetes_validate,
# jsonschema's format grammars) takes over two seconds of every collection of the suite.

pytestmark = pytest.mark.unit

PROFILE_LIST = [
    {
        "display_name": "Small",
        "profile_options": {
            "image": {
                "display_name": "Image",
                "choices": {
                    "base": {"display_name": "Base"},
                    "minimal": {"display_name": "Minimal", "default": True},
                    "pytorch": {"display_name": "PyTorch", "allowed_groups": ["gpu"]},
                },
                "unlisted_choice": {
                    "enabled": True,
                    "validation_regex": "jupyter/.+:.+",
                    "validation_message": "Enter an image like jupyter/base-notebook:latest.",
                },
            },
            "size": {"choices": {"s": {}, "m": {}}},
        },
    },
    {"display_name": "GPU", "slug": "gpu", "allowed_groups": ["gpu"]},
    {
        "display_name": "Own tag",
        "slug": "own",
        "profile_options": {"tag": {"unlisted_choice": {"enabled": True}}},
    },
]
PROFILES = normalize(PROFILE_LIST)
STUDENT: set[str] = {"students"}


def chosen(selection: Selection) -> dict:
    return {
        key: ("unlisted", c.value) if isinstance(c, UnlistedValue) else c.key
        for key, c in selection.choices.items()
    }


def refused(user_options, groups=STUDENT) -> SelectionError:
    with pytest.raises(SelectionError) as err:
        select(PROFILES, user_options, groups)
    assert str(err.value) == err.value.message
    assert err.value.message.startswith(err.value.field + ": ")
    return err.value


def test_field_names_are_kubespawners():
    assert option_field("small", "image") == "profile-option-small--image"
    assert unlisted_field("small", "image") == "profile-option-small--image--unlisted-choice"


def test_no_options_means_the_default_profile_and_choices():
    selection = select(PROFILES, {}, STUDENT)
    assert selection.profile.slug == "small"
    assert chosen(selection) == {"image": "minimal", "size": "s"}


def test_a_missing_or_empty_option_takes_its_default():
    selection = select(PROFILES, {"profile": "small", "image": "", "size": "m"}, STUDENT)
    assert chosen(selection) == {"image": "minimal", "size": "m"}
    assert chosen(select(PROFILES, {"profile": None, "size": "m"}, STUDENT)) == {
        "image": "minimal",
        "size": "m",
    }


def test_an_unlisted_value_that_matches_in_full_is_taken():
    selection = select(
        PROFILES, {"profile": "small", "image--unlisted-choice": "jupyter/r:4"}, STUDENT
    )
    assert chosen(selection)["image"] == ("unlisted", "jupyter/r:4")
    selection = select(
        PROFILES,
        {"profile": "small", "image": "unlisted-choice", "image--unlisted-choice": "jupyter/r:4"},
        STUDENT,
    )
    assert chosen(selection)["image"] == ("unlisted", "jupyter/r:4")


def test_a_listed_choice_wins_over_a_leftover_unlisted_value():
    # A plain HTML form posts both fields; the select shows what the user chose.
    selection = select(
        PROFILES,
        {"profile": "small", "image": "base", "image--unlisted-choice": "jupyter/r:4"},
        STUDENT,
    )
    assert chosen(selection)["image"] == "base"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("jupyter/r:4", True),
        ("xjupyter/r:4", False),
        ("evil/jupyter/r:4", False),
        ("jupyter/a\nx:1", False),
        ("jupyter/r:4\n", False),
        ("jupyter/r:4\nevil/image:1", False),
        ("jupyter/r", False),
    ],
)
def test_an_unlisted_value_must_match_the_whole_pattern(value, accepted):
    user_options = {"profile": "small", "image--unlisted-choice": value}
    if accepted:
        assert chosen(select(PROFILES, user_options, STUDENT))["image"] == ("unlisted", value)
    else:
        err = refused(user_options)
        assert err.field == "profile-option-small--image--unlisted-choice"
        assert err.message == (
            f"profile-option-small--image--unlisted-choice: {value!r} does not match "
            "^(?:jupyter/.+:.+)$. Enter an image like jupyter/base-notebook:latest."
        )


# Each row was checked against `new RegExp("^(?:" + pattern + ")$").test(value)` in Node 20.
JAVASCRIPT_AGREES = [
    ("jupyter/.+", "jupyter/a", True),
    ("jupyter/.+", "xjupyter/a", False),
    ("jupyter/.+", "jupyter/a\nx", False),
    ("jupyter/.+", "jupyter/a\n", False),
    ("jupyter/.+", "jupyter/a\rb", False),
    ("jupyter/.+", "jupyter/a\u2028b", False),
    ("^jupyter/.+:.+$", "jupyter/a:b", True),
    ("^jupyter/.+:.+$", "jupyter/a:b\n", False),
    ("^jupyter/.+:.+$", "evil/jupyter/a:b", False),
    ("a|b", "a", True),
    ("a|b", "ab", False),
    ("^a|b$", "ab", False),
    ("a$\\s*", "a\n", False),
    ("\\d+", "123", True),
    ("\\d+", "١٢٣", False),
    ("\\w+", "héllo", False),
    ("[.]", "x", False),
    ("[$]", "$", True),
    ("a.c", "a\nc", False),
    ("(?:ab)+", "ababa", False),
    ("x{2,3}", "xxxx", False),
    ("(?!b)[a-z]", "b", False),
    ("[\\]]", "]", True),
]


@pytest.mark.parametrize(("pattern", "value", "javascript"), JAVASCRIPT_AGREES)
def test_the_server_rule_is_the_browsers(pattern, value, javascript):
    assert full_match(pattern, value) is javascript


def test_kubespawner_would_have_taken_a_prefix_match():
    assert re.match("jupyter/.+:.+", "jupyter/r:4\nevil/image:1")  # KubeSpawner's rule
    assert not full_match("jupyter/.+:.+", "jupyter/r:4\nevil/image:1")


@pytest.mark.parametrize(
    ("user_options", "message"),
    [
        ({"profile": "nope"}, "profile: 'nope' is not a profile. Choose one of: small, own."),
        ({"profile": "gpu"}, "profile: 'gpu' is not available to you. Choose one of: small, own."),
        (
            {"profile": "small", "image": "pytorch"},
            "profile-option-small--image: 'pytorch' is not available to you. Choose one of: base, minimal.",
        ),
        (
            {"profile": "small", "image": "basee"},
            "profile-option-small--image: 'basee' is not a choice. Did you mean 'base'? Choose one of: base, minimal.",
        ),
        (
            {"profile": "small", "imag": "base"},
            "profile-option-small--imag: profile 'small' has no option 'imag'. Did you mean 'image'? Options: image, size.",
        ),
        (
            {"profile": "small", "size--unlisted-choice": "xl"},
            "profile-option-small--size--unlisted-choice: this option takes no value of your own. Choose one of: s, m.",
        ),
        (
            {"profile": "small", "image": "unlisted-choice"},
            "profile-option-small--image--unlisted-choice: no value given. Enter an image like jupyter/base-notebook:latest.",
        ),
        (
            {"profile": "small", "size": "unlisted-choice"},
            "profile-option-small--size: 'unlisted-choice' is not a choice. Choose one of: s, m.",
        ),
        (
            {"profile": "own"},
            "profile-option-own--tag--unlisted-choice: no value given. Enter a value for 'tag'.",
        ),
        (
            {"profile": "small", "garbage-arrived-via-rest-api": "x"},
            "profile-option-small--garbage-arrived-via-rest-api: profile 'small' has no option",
        ),
        ({"profile": 3}, "profile: must be text, got int."),
        (
            {"profile": "small", "image": ["base"]},
            "profile-option-small--image: must be text, got list.",
        ),
        ({"profile": "small", "size": True}, "profile-option-small--size: must be text, got bool."),
        ([], "user_options: must be a JSON object of form fields."),
    ],
)
def test_each_refusal_names_the_field_and_the_fix(user_options, message):
    assert refused(user_options).message.startswith(message)


class KubeSpawnerValidation:
    _get_profile = KubeSpawnerMethod()
    _validate_user_options = KubeSpawnerMethod()

    def __init__(self, user_options):
        self.user_options = user_options


@pytest.mark.parametrize(
    "user_options",
    [
        {"profile": "nope"},
        {"profile": "small", "size--unlisted-choice": "xl"},
        {"profile": "small", "image--unlisted-choice": "evil/image:1"},
    ],
)
def test_what_kubespawner_refuses_is_refused(user_options):
    from kubespawner import KubeSpawner

    profile_list = KubeSpawner._get_initialized_profile_list(None, PROFILE_LIST)
    with pytest.raises(ValueError):  # noqa: PT011  (KubeSpawner raises a bare ValueError)
        KubeSpawnerValidation(user_options)._validate_user_options(profile_list)
    refused(user_options, groups={"gpu"})


def test_members_of_a_group_may_choose_what_it_allows():
    assert select(PROFILES, {"profile": "gpu"}, {"gpu"}).profile.slug == "gpu"
    assert chosen(select(PROFILES, {"image": "pytorch"}, {"gpu"}))["image"] == "pytorch"


def test_nobody_without_a_profile_can_spawn():
    only_staff = normalize([{"display_name": "Staff", "allowed_groups": ["staff"]}])
    with pytest.raises(SelectionError, match=r"^profile: no profile is available to you"):
        select(only_staff, {}, STUDENT)


def test_our_own_fields_are_left_to_their_owners():
    selection = select(
        PROFILES,
        {"profile": "own", "tag--unlisted-choice": "v1", "hub-extensions-build": {"sig": 1}},
        STUDENT,
    )
    assert chosen(selection) == {"tag": ("unlisted", "v1")}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
keys = st.sampled_from(
    [
        "profile",
        "image",
        "image--unlisted-choice",
        "size",
        "tag",
        "tag--unlisted-choice",
        "hub-extensions-x",
    ]
) | st.text(max_size=25)
values = (
    st.sampled_from(
        ["small", "gpu", "own", "base", "pytorch", "unlisted-choice", "jupyter/a:b", "", "m"]
    )
    | json_values
)


@settings(max_examples=400, deadline=None)
@given(
    user_options=st.dictionaries(keys, values, max_size=6) | json_values,
    groups=st.sets(st.sampled_from(["gpu", "staff", "x"])),
)
def test_any_json_gets_a_selection_or_a_selection_error(user_options, groups):
    try:
        selection, error = select(PROFILES, user_options, groups), None
    except SelectionError as err:
        selection, error = None, err
    if error:
        assert error.message.startswith(f"{error.field}: ")
    else:
        assert set(selection.choices) == {o.key for o in selection.profile.options}


# --- user_options_from_form is KubeSpawner's _options_from_form -----------------------------


def kubespawner_options_from_form(formdata):
    from kubespawner import KubeSpawner

    return KubeSpawner._options_from_form(SimpleNamespace(log=logging.getLogger("test")), formdata)


FORMS = [
    {},
    {"profile": ["small"]},
    {
        "profile": ["small"],
        "profile-option-small--image": ["base"],
        "profile-option-small--size": ["m"],
        "profile-option-own--tag--unlisted-choice": ["v"],
    },
    {"profile": ["own"], "profile-option-own--tag--unlisted-choice": ["v1", "v2"], "_xsrf": ["t"]},
    {"profile": [""], "profile-option---image": ["base"]},
    {"profile-option-small--image": ["base"]},
    {"profile": ["a"], "profile-option-a--b--image": ["x"], "profile-option-a--": ["y"]},
]


@pytest.mark.parametrize("formdata", FORMS)
def test_form_fields_become_kubespawners_user_options(formdata):
    assert user_options_from_form(formdata) == kubespawner_options_from_form(formdata)


field_names = st.sampled_from(
    [
        "profile",
        "profile-option-small--image",
        "profile-option-small--image--unlisted-choice",
        "profile-option-own--tag",
        "profile-option-a--b--c",
        "_xsrf",
    ]
) | st.text(max_size=30)
field_values = st.lists(
    st.sampled_from(["small", "own", "a", "base", "", "x"]) | st.text(max_size=10),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(field_names, field_values, max_size=6))
def test_any_form_gives_what_kubespawner_gives(formdata):
    assert user_options_from_form(formdata) == kubespawner_options_from_form(formdata)


def test_an_empty_field_list_is_absent_where_kubespawner_raises():
    assert user_options_from_form({"profile": []}) == {}
    assert user_options_from_form({"profile": ["own"], "profile-option-own--tag": []}) == {
        "profile": "own"
    }


@pytest.mark.parametrize("fancy_value", ["unlisted_choice", "--extra-selectable-item"])
def test_what_fancy_profiles_posted_for_other_still_starts(fancy_value):
    """Hubs moving from jupyterhub-fancy-profiles have its form's values stored as user_options."""
    stored = {"profile": "small", "image": fancy_value, "image--unlisted-choice": "jupyter/r:4"}
    assert chosen(select(PROFILES, stored, STUDENT))["image"] == ("unlisted", "jupyter/r:4")
    message = refused({**stored, "image--unlisted-choice": "evil/image:1"}).message
    assert message.startswith("profile-option-small--image--unlisted-choice: 'evil/image:1'")
    assert refused({"profile": "small", "image": fancy_value}).message.startswith(
        "profile-option-small--image--unlisted-choice: no value given."
    )
    # a real choice of that name is a listed choice
    own = normalize(
        [{"display_name": "A", "profile_options": {"x": {"choices": {fancy_value: {}}}}}]
    )
    assert chosen(select(own, {"profile": "a", "x": fancy_value}, set())) == {"x": fancy_value}


def test_a_value_of_ones_own_has_a_length_cap_checked_before_the_regex():
    """Issue #13: a 1 MB value matching a loose regex was stored and bloated the user's page."""
    from hub_extensions.profiles.selection import MAX_UNLISTED_LENGTH

    profiles = normalize(
        [
            {
                "display_name": "Any",
                "profile_options": {
                    "image": {
                        "choices": {"base": {}},
                        "unlisted_choice": {"enabled": True, "validation_regex": ".+"},
                    }
                },
            }
        ]
    )
    ok = "a" * MAX_UNLISTED_LENGTH
    assert select(profiles, {"image--unlisted-choice": ok}, set()).choices["image"].value == ok
    with pytest.raises(SelectionError) as err:
        select(profiles, {"image--unlisted-choice": "a" * 1_000_000}, set())
    assert err.value.message == (
        "profile-option-any--image--unlisted-choice: 1000000 characters is too long: a value "
        f"has at most {MAX_UNLISTED_LENGTH}. Enter a shorter value."
    )
