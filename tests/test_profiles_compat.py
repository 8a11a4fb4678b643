"""The compatibility rule against KubeSpawner 7.1's own code: which default wins, and that a
list full of warnings is still read the way KubeSpawner reads it. Not covered here: pod
manifests for every choice (the conformance corpus does that)."""

import pytest

from hub_extensions.profiles import read

# kubespawner is imported where it is used: its import (kubernetes_asyncio, kubernetes_validate,
# jsonschema's format grammars) takes over two seconds of every collection of the suite.

pytestmark = pytest.mark.unit

TWO_DEFAULTS = [
    {"display_name": "A"},
    {"display_name": "B", "default": True},
    {
        "display_name": "C",
        "default": True,
        "profile_options": {
            "size": {
                "choices": {
                    "s": {"display_name": "S"},
                    "m": {"display_name": "M", "default": True},
                    "l": {"display_name": "L", "default": True},
                }
            }
        },
    },
]


def kubespawner_defaults(profile_list):
    """What KubeSpawner's server starts when no choice is posted (REST, a bare POST)."""
    from kubespawner import KubeSpawner

    initialized = KubeSpawner._get_initialized_profile_list(None, profile_list)
    profile = KubeSpawner._get_profile(None, None, initialized)
    options = profile.get("profile_options", {})
    return profile["slug"], {
        key: next(k for k, c in o["choices"].items() if c.get("default"))
        for key, o in options.items()
    }


def test_the_first_default_wins_as_on_kubespawners_server_and_both_are_named():
    checked = read(TWO_DEFAULTS)
    profile = next(p for p in checked.profiles if p.default)
    ours = profile.slug, {o.key: o.default_choice.key for o in profile.options}
    assert ours == kubespawner_defaults(TWO_DEFAULTS) == ("b", {})
    c = checked.profiles[2]
    assert c.options[0].default_choice.key == "m"
    assert [str(w) for w in checked.warnings] == [
        "profile_list[2].profile_options.size.choices: 'm' and 'l' both say default: true; "
        "the first ('m') is the default choice, as KubeSpawner's server picks it. "
        "Fix: keep default: true on one of them.",
        "profile_list: 'b' and 'c' both say default: true; the first ('b') is the default "
        "profile, as KubeSpawner's server picks it. Fix: keep default: true on one of them.",
    ]
    only_c = [TWO_DEFAULTS[2]]
    assert kubespawner_defaults(only_c) == ("c", {"size": "m"})


def test_a_list_with_only_warnings_keeps_every_profile_and_choice():
    from kubespawner import KubeSpawner

    z2jh = [
        {
            "display_name": "Pangeo",
            "slug": "pangeo",
            "kubespawner_override": {"default": True, "image_spec": "pangeo/base:1"},
            "profile_options": {
                "image": {
                    "display_name": "Image",
                    "choices": {"py": {"display_name": "Py", "slug": "python"}},
                    "unlisted_choice": {
                        "enabled": True,
                        "description": "Any image",
                        "description_in_choices": "Bring your own",
                        "kubespawner_override": {"image": "{value}"},
                    },
                }
            },
        }
    ]
    checked = read(z2jh, spawner_cls=KubeSpawner)
    assert checked.refusals == []
    assert [w.path.rsplit(".", 1)[-1] for w in checked.warnings] == [
        "default",
        "image_spec",
        "slug",
        "description",
    ]
    option = checked.profiles[0].options[0]
    assert [c.key for c in option.choices] == ["py"]
    assert option.unlisted.description_in_choices == "Bring your own"
    assert kubespawner_defaults(z2jh) == ("pangeo", {"image": "py"})
