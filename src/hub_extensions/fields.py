"""The spawn form's field names: what the form posts and what a server's user options hold.

A core module: the form (`profiles`), the ledger (`usage`) and the builds pages read these
names, so they live below all three. The names follow KubeSpawner's form
(`profile`, `profile-option-{slug}--{key}`) and add the suite's own suffixes.
"""

from __future__ import annotations

#: The field holding the chosen profile's slug (KubeSpawner's name).
FORM_PROFILE = "profile"
#: What jupyterhub-fancy-profiles' select posts for "Other..." and for "Build your own image".
FANCY_UNLISTED = ("unlisted_choice", "--extra-selectable-item")
#: Suffix of an option's value of one's own (KubeSpawner's `--unlisted-choice`).
UNLISTED_SUFFIX = "--unlisted-choice"
#: Suffix of the signature that proves an image was built on this hub for this user.
SIGNATURE_SUFFIX = "--build-signature"


def option_field(slug: str, key: str) -> str:
    """The form field of option `key` of profile `slug`."""
    return f"profile-option-{slug}--{key}"


def unlisted_field(slug: str, key: str) -> str:
    """The form field of the value of one's own of option `key` of profile `slug`."""
    return f"profile-option-{slug}--{key}{UNLISTED_SUFFIX}"
