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
