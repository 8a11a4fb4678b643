"""A built image is accepted only with a valid signature for that user (issue 4, item 5)."""

from __future__ import annotations

import pytest

from hub_extensions.builds.signing import sign
from hub_extensions.profiles import (
    ProfileListError,
    SelectionError,
    UnlistedValue,
    normalize,
    select,
)

pytestmark = pytest.mark.unit

KEY = b"k" * 64
IMAGE = "127.0.0.1:5000/hub-extensions-builds/git-2dhello-1a2b3c:" + "a" * 40
PROFILES = normalize(
    [
        {
            "display_name": "Build",
            "profile_options": {
                "image": {
                    "choices": {"base": {"kubespawner_override": {"image": "base:1"}}},
                    "dynamic_image_building": {"enabled": True},
                    "unlisted_choice": {
                        "enabled": True,
                        "validation_regex": "jupyter/[a-z-]+:[0-9.]+",
                        "kubespawner_override": {"image": "{value}"},
                    },
                },
                "size": {"choices": {"s": {}, "l": {}}},
            },
        }
    ]
)


def verifier(user):
    def verify(image, signature):
        return signature == sign(KEY, user, image)

    return verify


def choose(options, user="ann"):
    return select(PROFILES, {"profile": "build", **options}, set(), verifier(user))


def test_a_signed_build_result_is_accepted_though_the_regex_does_not_match_it():
    selection = choose(
        {"image--unlisted-choice": IMAGE, "image--build-signature": sign(KEY, "ann", IMAGE)}
    )
    assert selection.choices["image"] == UnlistedValue(PROFILES[0].options[0].unlisted, IMAGE)


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"image--unlisted-choice": IMAGE}, "does not match"),  # no signature: the regex rules
        (
            {"image--unlisted-choice": IMAGE, "image--build-signature": "0" * 64},
            "not a valid signature",
        ),
        (
            {"image--unlisted-choice": IMAGE, "image--build-signature": sign(KEY, "bob", IMAGE)},
            "not a valid signature",
        ),
        (
            {
                "image--unlisted-choice": "evil/miner:1",
                "image--build-signature": sign(KEY, "ann", IMAGE),
            },
            "not a valid signature",
        ),
        ({"image--build-signature": sign(KEY, "ann", IMAGE)}, "not a valid signature"),
        (
            {"size--build-signature": sign(KEY, "ann", IMAGE), "image": "base"},
            "does not take built images",
        ),
    ],
)
def test_forged_borrowed_or_misplaced_signatures_are_refused(options, why):
    with pytest.raises(SelectionError) as refused:
        choose(options)
    assert why in refused.value.message
    assert refused.value.message.startswith("profile-option-build--")


def test_a_value_matching_the_regex_needs_no_signature():
    selection = choose({"image--unlisted-choice": "jupyter/scipy:1.0"})
    assert selection.choices["image"].value == "jupyter/scipy:1.0"


def test_dynamic_builds_need_the_unlisted_choice_that_applies_the_image():
    with pytest.raises(ProfileListError) as wrong:
        normalize(
            [
                {
                    "display_name": "B",
                    "profile_options": {
                        "image": {"choices": {"a": {}}, "dynamic_image_building": {"enabled": True}}
                    },
                }
            ]
        )
    assert str(wrong.value).startswith(
        "profile_list[0].profile_options.image.dynamic_image_building: built images are applied"
    )


def test_the_stored_options_keep_a_built_image_with_its_signature_and_drop_leftovers():
    from hub_extensions.profiles.selection import as_user_options

    signature = sign(KEY, "ann", IMAGE)
    built = {"image--unlisted-choice": IMAGE, "image--build-signature": signature}
    stored = as_user_options(choose(built), {"profile": "build", **built})
    assert stored == {"profile": "build", "image": "unlisted-choice", **built, "size": "s"}
    assert as_user_options(choose(stored), stored) == stored  # a restart applies it again
    # a listed choice beside them: the built image and its signature are leftovers
    listed = {**built, "image": "base", "hub-extensions-note": "kept for its owner"}
    assert as_user_options(choose(listed), {"profile": "build", **listed}) == {
        "profile": "build",
        "image": "base",
        "size": "s",
        "hub-extensions-note": "kept for its owner",
    }
