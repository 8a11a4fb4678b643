"""ProfilesKubeSpawner against a real KubeSpawner: same submission, same pod manifest.

Not covered: starting a pod, which needs a Kubernetes cluster (none runs here). KubeSpawner
loads a kube config at creation, so KUBECONFIG points at a cluster address where nothing
listens; rendering the form, parsing it, applying the profile and building the pod manifest
need no cluster.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from tornado import web

pytestmark = pytest.mark.unit

PROFILE_LIST = [
    {
        "display_name": "Small",
        "default": True,
        "kubespawner_override": {"cpu_limit": 1, "mem_limit": "2G", "image": "jupyter/base:1"},
    },
    {
        "display_name": "Data science (GPU)",
        "kubespawner_override": {
            "extra_resource_limits": {"nvidia.com/gpu": "1"},
            "node_selector": {"gpu": "t4"},
            "environment": {"PROFILE": "gpu"},
        },
        "profile_options": {
            "image": {
                "display_name": "Image",
                "choices": {
                    "torch": {
                        "display_name": "PyTorch",
                        "kubespawner_override": {"image": "pytorch/pytorch:2.5"},
                    },
                    "tf": {
                        "display_name": "TensorFlow",
                        "default": True,
                        "kubespawner_override": {"image": "tensorflow/tensorflow:2.18"},
                    },
                },
                "unlisted_choice": {
                    "enabled": True,
                    "display_name": "Image",
                    "validation_regex": "^jupyter/.+:.+$",
                    "kubespawner_override": {"image": "{value}"},
                },
            },
            "memory": {
                "display_name": "Memory",
                "choices": {
                    "8": {"display_name": "8 GB", "kubespawner_override": {"mem_limit": "8G"}},
                    "16": {"display_name": "16 GB", "kubespawner_override": {"mem_limit": "16G"}},
                },
            },
        },
    },
]

SUBMISSIONS = {
    "default profile": {"profile": ["small"]},
    "listed choices": {
        "profile": ["data-science-gpu"],
        "profile-option-data-science-gpu--image": ["torch"],
        "profile-option-data-science-gpu--memory": ["16"],
    },
    "unlisted image": {
        "profile": ["data-science-gpu"],
        "profile-option-data-science-gpu--image--unlisted-choice": ["jupyter/scipy:2026"],
    },
    "option left out": {"profile": ["data-science-gpu"]},
}


@pytest.fixture(autouse=True)
def _no_cluster(kubeconfig):  # every KubeSpawner here points at no cluster (see conftest)
    return kubeconfig


def make(cls, groups=(), profile_list=PROFILE_LIST):
    user = SimpleNamespace(
        name="alice", id=7, url="/user/alice/", groups=[SimpleNamespace(name=g) for g in groups]
    )
    hub = SimpleNamespace(
        public_host="",
        url="http://hub:8081/hub/",
        base_url="/hub/",
        api_url="http://hub:8081/hub/api",
    )
    return cls(_mock=True, user=user, hub=hub, profile_list=profile_list, namespace="hub")


async def manifest(spawner, user_options):
    spawner.user_options = user_options
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return spawner.api.api_client.sanitize_for_serialization(pod)


@pytest.mark.parametrize("name", list(SUBMISSIONS))
async def test_same_submission_gives_the_same_pod_manifest(name):
    from kubespawner import KubeSpawner

    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    fields = SUBMISSIONS[name]
    builtin = make(KubeSpawner)
    ours = make(ProfilesKubeSpawner)
    builtin_options = builtin.options_from_form(fields)
    our_options = ours.run_options_from_form(fields)
    assert our_options == builtin_options
    await ours._run_apply_user_options(our_options)  # JupyterHub runs this before start
    ours_pod = await manifest(ours, our_options)
    builtin_pod = await manifest(builtin, builtin_options)
    assert ours_pod == builtin_pod
    container = ours_pod["spec"]["containers"][0]
    assert container["image"]  # a real manifest, not two empty ones
    if name == "unlisted image":
        assert container["image"] == "jupyter/scipy:2026"
    if name == "listed choices":
        assert container["image"] == "pytorch/pytorch:2.5"
        assert container["resources"]["limits"]["memory"] == 16 * 2**30
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert ours_pod["spec"]["nodeSelector"] == {"gpu": "t4"}


async def test_a_prefix_match_kubespawner_accepts_is_refused_before_start():
    from kubespawner import KubeSpawner

    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    # an admin's pattern without anchors: KubeSpawner's re.match only checks a prefix
    profiles = copy.deepcopy(PROFILE_LIST)
    unlisted = profiles[1]["profile_options"]["image"]["unlisted_choice"]
    unlisted["validation_regex"] = "jupyter/[a-z]+:[0-9]+"
    fields = {
        "profile": ["data-science-gpu"],
        "profile-option-data-science-gpu--image--unlisted-choice": ["jupyter/r:4;evil/miner:1"],
    }
    builtin = make(KubeSpawner, profile_list=profiles)
    pod = await manifest(builtin, builtin.options_from_form(fields))
    assert pod["spec"]["containers"][0]["image"] == "jupyter/r:4;evil/miner:1"  # let through
    ours = make(ProfilesKubeSpawner, profile_list=profiles)
    with pytest.raises(web.HTTPError) as refused:
        await ours._run_apply_user_options(ours.run_options_from_form(fields))
    assert refused.value.status_code == 400
    assert "profile-option-data-science-gpu--image--unlisted-choice" in refused.value.log_message


async def test_the_form_is_ours_and_carries_no_overrides():
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    spawner = make(ProfilesKubeSpawner)
    form = await spawner.get_options_form()
    assert 'name="profile" value="data-science-gpu"' in form
    assert 'name="profile-option-data-science-gpu--image--unlisted-choice"' in form
    assert "nvidia.com/gpu" not in form
    assert "node_selector" not in form


OTHER_START = {  # what the hub stored after a start with the "Other..." image
    "profile": "data-science-gpu",
    "image": "unlisted-choice",
    "image--unlisted-choice": "jupyter/scipy:2026",
    "memory": "8",
}
LISTED = {"profile": "data-science-gpu", "image": "torch", "memory": "8"}


async def start_like_jupyterhub(spawner, user_options):
    """JupyterHub 6.1's User.spawn: store and set user_options, run the apply hook, then start()
    (whose first step in KubeSpawner is load_user_options); the pod manifest it would create.
    The database row is a stand-in with the one column read here."""
    spawner.orm_spawner = SimpleNamespace(server=None, name="", user_options=user_options)
    spawner.user_options = user_options
    await spawner._run_apply_user_options(spawner.user_options)
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return spawner.api.api_client.sanitize_for_serialization(pod)


@pytest.mark.parametrize(
    "leftover", ["jupyter/scipy:2026", "not an image!"], ids=["valid leftover", "invalid leftover"]
)
@pytest.mark.parametrize("via", ["form", "spawn link", "REST"])
async def test_second_visit_a_listed_choice_beats_the_leftover_other_value(leftover, via):
    """The last start used "Other..."; a plain form (no JavaScript) posts the listed choice the
    user picks now and the pre-filled "Other..." text; a link or a REST client may send both."""
    from kubespawner import KubeSpawner

    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    prefix = "profile-option-data-science-gpu--"
    fields = {
        "profile": ["data-science-gpu"],
        f"{prefix}image": ["torch"],
        f"{prefix}image--unlisted-choice": [leftover],
        f"{prefix}memory": ["8"],
    }
    ours = make(ProfilesKubeSpawner)
    ours.user_options = dict(OTHER_START)  # from the database, as on a second visit
    form = await ours.get_options_form()
    assert 'value="jupyter/scipy:2026"' in form  # the last choice is shown again...
    sent = {
        "form": lambda: ours.run_options_from_form(fields),
        "spawn link": lambda: ours.options_from_query(fields),  # /hub/spawn?profile=...
        "REST": lambda: {"profile": "data-science-gpu", "image": "torch",
                         "image--unlisted-choice": leftover, "memory": "8"},
    }[via]()  # fmt: skip
    pod = await start_like_jupyterhub(ours, sent)
    assert pod["spec"]["containers"][0]["image"] == "pytorch/pytorch:2.5"  # ...the pick wins
    assert ours.user_options == LISTED  # echoed back and stored: nothing stale
    assert ours.orm_spawner.user_options == LISTED

    # KubeSpawner's own form, for the same pick, posts only the select (its script removes
    # the hidden input's name): the same pod
    builtin = make(KubeSpawner)
    assert await manifest(builtin, builtin.options_from_form(
        {"profile": ["data-science-gpu"], f"{prefix}image": ["torch"], f"{prefix}memory": ["8"]}
    )) == pod  # fmt: skip

    # what KubeSpawner alone does with both fields: the cause of issue #12
    both = make(KubeSpawner)
    if leftover == "not an image!":
        with pytest.raises(ValueError, match="failed validation regex"):
            await manifest(both, sent)
    else:
        assert (await manifest(both, sent))["spec"]["containers"][0]["image"] == leftover


async def test_an_other_start_is_stored_with_its_choice_and_applied_again_unchanged():
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    ours = make(ProfilesKubeSpawner)
    sent = {"profile": "data-science-gpu", "image--unlisted-choice": "jupyter/scipy:2026"}
    pod = await start_like_jupyterhub(ours, sent)
    assert pod["spec"]["containers"][0]["image"] == "jupyter/scipy:2026"
    assert ours.user_options == OTHER_START
    # a start without options reuses the stored ones (JupyterHub): the same pod
    again = make(ProfilesKubeSpawner)
    assert await start_like_jupyterhub(again, dict(ours.user_options)) == pod


async def test_load_user_options_validates_what_skipped_the_hook():
    """user_options set without JupyterHub's apply hook still reach KubeSpawner normalised."""
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    ours = make(ProfilesKubeSpawner)
    pod = await manifest(ours, {**LISTED, "image--unlisted-choice": "not an image!"})
    assert pod["spec"]["containers"][0]["image"] == "pytorch/pytorch:2.5"
    assert ours.user_options == LISTED
    with pytest.raises(web.HTTPError) as refused:
        await manifest(make(ProfilesKubeSpawner), {"profile": "nope"})
    assert refused.value.status_code == 400


async def test_user_options_stored_by_fancy_profiles_start_the_same_pod():
    """A hub moving from jupyterhub-fancy-profiles: a start that reuses the stored options
    (e.g. the admin page's start button) launches what KubeSpawner launched for them."""
    from kubespawner import KubeSpawner

    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    stored = {  # fancy-profiles' select posts "unlisted_choice" for "Other..."
        "profile": "data-science-gpu",
        "image": "unlisted_choice",
        "image--unlisted-choice": "jupyter/scipy:2026",
        "memory": "16",
    }
    ours = make(ProfilesKubeSpawner)
    pod = await start_like_jupyterhub(ours, dict(stored))
    assert pod == await manifest(make(KubeSpawner), dict(stored))
    assert pod["spec"]["containers"][0]["image"] == "jupyter/scipy:2026"
    assert ours.user_options == {**stored, "image": "unlisted-choice"}
