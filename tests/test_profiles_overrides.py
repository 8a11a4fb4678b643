"""A selection sets the spawner's options exactly as KubeSpawner's _load_profile would."""

import logging

import pytest
from dockerspawner import DockerSpawner
from traitlets import Dict, Float, HasTraits, List, TraitError, Unicode, default

from hub_extensions.profiles import (
    ProfileListError,
    apply_overrides,
    normalize,
    override_problems,
    overrides_for,
    read,
    select,
)

from .infra.kubespawner_methods import KubeSpawnerMethod

# kubespawner is imported where it is used: its import (kubernetes_asyncio, kubernetes_validate,
# jsonschema's format grammars) takes over two seconds of every collection of the suite.

pytestmark = pytest.mark.unit


class Target(HasTraits):
    """A few KubeSpawner-like options, plus KubeSpawner's own profile methods to compare with."""

    image = Unicode("default-image").tag(config=True)
    default_url = Unicode("").tag(config=True)
    cpu_limit = Float(None, allow_none=True).tag(config=True)
    environment = Dict().tag(config=True)
    node_selector = Dict().tag(config=True)
    extra_labels = Dict().tag(config=True)
    args = List().tag(config=True)
    not_an_option = Unicode("")

    log = logging.getLogger("test")
    user_options: dict = {}  # read by KubeSpawner's methods
    _get_profile = KubeSpawnerMethod()
    _apply_overrides = KubeSpawnerMethod()
    _load_profile = KubeSpawnerMethod()
    _validate_user_options = KubeSpawnerMethod()

    # fresh nested dicts for each instance: KubeSpawner's in-place merge would change a shared one
    @default("environment")
    def _environment(self):
        return {"KEEP": "me", "DROP": "x"}

    @default("extra_labels")
    def _extra_labels(self):
        return {"nested": {"a": "1", "b": "2"}}


def snapshot(target):
    return {name: getattr(target, name) for name in target.trait_names(config=True)}


PROFILE_LIST = [
    {
        "display_name": "Data science",
        "kubespawner_override": {
            "default_url": "/lab",
            "environment": {"PROFILE": "ds", "DROP": None},
            "cpu_limit": lambda spawner: 2.0 if spawner.image == "default-image" else 1.0,
        },
        "profile_options": {
            "image": {
                "choices": {
                    "base": {
                        "kubespawner_override": {
                            "image": "jupyter/base:1",
                            "environment": {"IMAGE": "base"},
                        }
                    },
                    "gpu": {
                        "kubespawner_override": {
                            "image": "jupyter/gpu:1",
                            "node_selector": {"gpu": "true"},
                            "extra_labels": {"nested": {"a": None, "c": "3"}},
                        }
                    },
                },
                "unlisted_choice": {
                    "enabled": True,
                    "validation_regex": "jupyter/.+",
                    "kubespawner_override": {
                        "image": "{value}",
                        "extra_labels": {"image-{value}": "{value}", "keep": "{other}"},
                        "args": ["--image={value}", "{{value}}"],
                    },
                },
            },
            "size": {
                "choices": {
                    "small": {
                        "kubespawner_override": {"cpu_limit": 0.5, "environment": {"SIZE": "s"}}
                    },
                    "large": {
                        "default": True,
                        "kubespawner_override": {
                            "cpu_limit": lambda s: 4.0,
                            "environment": {"IMAGE": "overridden"},
                        },
                    },
                }
            },
        },
    },
    {
        "display_name": "Plain",
        "kubespawner_override": {"environment": {"PLAIN": "1"}, "args": ["--plain"]},
    },
]


def kubespawner_result(user_options):
    from kubespawner import KubeSpawner

    target = Target()
    target.user_options = user_options
    profile_list = KubeSpawner._get_initialized_profile_list(None, PROFILE_LIST)
    target._validate_user_options(profile_list)
    target._load_profile(user_options.get("profile"), profile_list)
    return snapshot(target)


def our_result(user_options):
    target = Target()
    apply_overrides(target, overrides_for(select(normalize(PROFILE_LIST), user_options, set())))
    return snapshot(target)


@pytest.mark.parametrize(
    "user_options",
    [
        {},
        {"profile": "data-science"},
        {"profile": "data-science", "image": "gpu"},
        {"profile": "data-science", "image": "gpu", "size": "small"},
        {"profile": "data-science", "image--unlisted-choice": "jupyter/r:4", "size": "small"},
        {"profile": "data-science", "image--unlisted-choice": "jupyter/{x}"},
        {"profile": "plain"},
    ],
)
def test_options_are_those_kubespawner_sets(user_options):
    assert our_result(user_options) == kubespawner_result(user_options)


def test_merge_order_is_profile_then_each_option():
    result = our_result({"profile": "data-science", "image": "base", "size": "large"})
    # the size option comes after the image option and wins on IMAGE and cpu_limit
    assert result["environment"] == {"KEEP": "me", "PROFILE": "ds", "IMAGE": "overridden"}
    assert result["cpu_limit"] == 4.0
    assert result["default_url"] == "/lab"


def test_dicts_merge_recursively_and_none_deletes():
    result = our_result({"profile": "data-science", "image": "gpu"})
    assert result["extra_labels"] == {"nested": {"b": "2", "c": "3"}}
    assert "DROP" not in result["environment"]


def test_the_previous_value_is_replaced_not_changed_in_place():
    target = Target()
    nested = target.extra_labels["nested"]
    apply_overrides(target, [{"extra_labels": {"nested": {"a": None}}}])
    assert target.extra_labels == {"nested": {"b": "2"}}
    assert nested == {"a": "1", "b": "2"}


def test_a_dict_replaces_a_non_dict_where_kubespawner_raises():
    target = Target()
    apply_overrides(
        target, [{"extra_labels": {"nested": "flat"}}, {"extra_labels": {"nested": {"x": "1"}}}]
    )
    assert target.extra_labels == {"nested": {"x": "1"}}
    kubespawner = Target()
    kubespawner._apply_overrides({"extra_labels": {"nested": "flat"}})
    with pytest.raises(TypeError):
        kubespawner._apply_overrides({"extra_labels": {"nested": {"x": "1"}}})


def test_value_is_substituted_in_nested_strings_and_keys_only():
    overrides = overrides_for(
        select(normalize(PROFILE_LIST), {"image--unlisted-choice": "jupyter/r:4"}, set())
    )
    unlisted = overrides[1]
    assert unlisted == {
        "image": "jupyter/r:4",
        "extra_labels": {"image-jupyter/r:4": "jupyter/r:4", "keep": "{other}"},
        "args": ["--image=jupyter/r:4", "{value}"],
    }
    assert normalize(PROFILE_LIST)[0].options[0].unlisted.kubespawner_override["image"] == "{value}"


def test_callables_receive_the_target():
    seen = []
    apply_overrides(Target(), [{"image": lambda target: seen.append(target) or "x"}])
    assert isinstance(seen[0], Target)


def test_applying_does_not_touch_the_configuration():
    profiles = normalize(PROFILE_LIST)
    target = Target()
    apply_overrides(target, overrides_for(select(profiles, {"profile": "plain"}, set())))
    target.args.append("--changed")
    target.environment["PLAIN"] = "changed"
    assert profiles[1].kubespawner_override == {"environment": {"PLAIN": "1"}, "args": ["--plain"]}


def test_an_async_callable_is_refused_clearly():
    async def image(spawner):
        return "x"

    with pytest.raises(ProfileListError) as err:
        apply_overrides(Target(), [{"image": image}])
    assert str(err.value) == (
        "kubespawner_override.image: the callable returned an awaitable; override callables "
        "are not awaited. Fix: make it a plain function that returns the value."
    )


def test_a_key_that_is_no_option_has_no_effect_and_spawner_parts_are_refused():
    target = Target()
    before = snapshot(target)
    apply_overrides(target, [{"imag": "x", "default": True}])  # KubeSpawner: unread attributes
    assert snapshot(target) == before
    assert not hasattr(target, "imag")
    with pytest.raises(
        ProfileListError, match=r"^kubespawner_override\.not_an_option: Target has no option"
    ):
        apply_overrides(Target(), [{"not_an_option": "x"}])


async def test_a_deprecated_kubespawner_name_sets_its_new_option(kubeconfig):
    from kubespawner import KubeSpawner

    spawner = KubeSpawner(_mock=True)
    apply_overrides(spawner, [{"image_spec": "jupyter/old-name:1"}])
    assert spawner.image == "jupyter/old-name:1"


def test_override_keys_are_checked_against_the_spawner_class():
    checked = read(
        [
            {"display_name": "CPU", "kubespawner_override": {"image": "a", "mem_limit": "2G"}},
            {
                "display_name": "GPU",
                "kubespawner_override": {"mem_limt": "4G", "default": True},
                "profile_options": {
                    "image": {
                        "choices": {
                            "pytorch": {"kubespawner_override": {"node_selector": {"gpu": "1"}}}
                        },
                        "unlisted_choice": {
                            "enabled": True,
                            "kubespawner_override": {"imag": "{value}"},
                        },
                    }
                },
            },
            {"display_name": "Broken", "kubespawner_override": {"start": "x"}},
        ],
        spawner_cls=DockerSpawner,
    )
    assert [str(p) for p in checked.warnings] == [
        "profile_list[1].kubespawner_override.mem_limt: DockerSpawner has no option 'mem_limt': "
        "it has no effect (KubeSpawner sets it as an attribute nothing reads). Did you mean "
        "'mem_limit'? Fix: remove it, or use the option's exact name.",
        "profile_list[1].kubespawner_override.default: DockerSpawner has no option 'default': "
        "inside kubespawner_override it sets nothing. Fix: move 'default' out of "
        "kubespawner_override, next to it.",
        "profile_list[1].profile_options.image.choices.pytorch.kubespawner_override.node_selector: "
        "DockerSpawner has no option 'node_selector': it has no effect (KubeSpawner sets it as an "
        "attribute nothing reads). Fix: remove it, or use the option's exact name.",
        "profile_list[1].profile_options.image.unlisted_choice.kubespawner_override.imag: "
        "DockerSpawner has no option 'imag': it has no effect (KubeSpawner sets it as an "
        "attribute nothing reads). Did you mean 'image'? Fix: remove it, or use the option's "
        "exact name.",
    ]
    assert [str(p) for p in checked.refusals] == [
        "profile_list[2].kubespawner_override.start: DockerSpawner has no option 'start'; "
        "'start' is part of the spawner itself, and setting it fails or breaks the spawn. "
        "Fix: remove it."
    ]
    assert [p.slug for p in checked.profiles] == ["cpu", "gpu"]  # the broken one left out


def test_an_async_override_callable_is_refused_when_the_list_is_read():
    from kubespawner import KubeSpawner

    async def image(spawner):
        return "x"

    problems = override_problems("p.kubespawner_override", {"image": image}, KubeSpawner)
    assert [(p.refusal, str(p)) for p in problems] == [
        (
            True,
            "p.kubespawner_override.image: an async callable: KubeSpawner does not await "
            "override callables and fails on the coroutine. Fix: make it a plain function "
            "that returns the value.",
        )
    ]


async def test_values_kubespawner_would_refuse_at_spawn_are_refused_when_the_list_is_read(
    kubeconfig,
):
    """The values are those that make KubeSpawner 7.1's load_user_options raise a TraitError
    (checked below on a real KubeSpawner); values an unlisted choice fills in are left to the
    spawn, where the form's validation_regex guards them."""
    from kubespawner import KubeSpawner

    overrides = {
        "mem_limit": "1.5Gi",  # KubeSpawner reads K, M, G, T only
        "cpu_limit": "2",  # a string where a number is needed
        "image_spec": 3,  # a deprecated name is checked against the option it sets
        "mem_guarantee": "1G",
        "environment": {"A": "1"},
        "image": None,  # KubeSpawner's image takes no None
        "default_url": "/lab/tree/{value}",
    }
    problems = override_problems("p.kubespawner_override", overrides, KubeSpawner)
    refused = {p.path.rsplit(".", 1)[1]: str(p) for p in problems if p.refusal}
    assert sorted(refused) == ["cpu_limit", "image", "image_spec", "mem_limit"]
    assert refused["mem_limit"].startswith(
        "p.kubespawner_override.mem_limit: '1.5Gi' is not a valid KubeSpawner.mem_limit: "
    )
    assert "suffix K, M, G, T" in refused["mem_limit"]
    assert refused["mem_limit"].endswith("Fix: give 'mem_limit' a value the option takes.")
    spawner = KubeSpawner(_mock=True)
    for key in ("mem_limit", "cpu_limit"):  # what the spawn would do with them
        with pytest.raises(TraitError):
            setattr(spawner, key, overrides[key])
    # one bad value withholds its profile; the others stay
    checked = read(
        [
            {"display_name": "Small", "kubespawner_override": {"mem_limit": "2G"}},
            {"display_name": "Odd", "kubespawner_override": {"mem_limit": "1.5Gi"}},
        ],
        spawner_cls=KubeSpawner,
    )
    assert [p.slug for p in checked.profiles] == ["small"]
    assert [p.path for p in checked.refusals] == ["profile_list[1].kubespawner_override.mem_limit"]
