"""The demo's typed-image field admits only what it means to (issue #13): not images built on
the hub, which launch only with the signature their builder's form received.

The demo's real jupyterhub_config.py is loaded as JupyterHub loads it (with the suite's setup() left out) and its
pattern checked with the one rule the form and the server apply (`patterns.full_match`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

import hub_extensions
from hub_extensions.builds.config import HubExtensionsBuilds
from hub_extensions.builds.naming import image_name
from hub_extensions.profiles.patterns import full_match, pattern_problem

pytestmark = pytest.mark.unit

DEMO_CONFIG = Path(hub_extensions.__file__).parent / "demo" / "jupyterhub_config.py"


@pytest.fixture
def demo_pattern(monkeypatch, tmp_path) -> str:
    env = {
        "HUB_EXTENSIONS_DEMO_STATE": str(tmp_path),
        "HUB_EXTENSIONS_DEMO_HUB_PORT": "1",
        "HUB_EXTENSIONS_DEMO_PROXY_API_PORT": "2",
        "HUB_EXTENSIONS_DEMO_SERVICE_PORT": "3",
        "HUB_EXTENSIONS_DEMO_PASSWORD": "x",
        "HUB_EXTENSIONS_DEMO_RUN": "r",
        "HUB_EXTENSIONS_DEMO_SPAWNER": "docker",
        "HUB_EXTENSIONS_DEMO_IMAGE": "hub-extensions-demo/singleuser:1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HUB_EXTENSIONS_DEMO_CONFIG", raising=False)
    monkeypatch.setattr(hub_extensions, "setup", lambda c: None)
    config = PyFileConfigLoader(DEMO_CONFIG.name, str(DEMO_CONFIG.parent)).load_config()
    [_, medium] = config.ProfilesLoopbackDockerSpawner.profile_list
    return medium["profile_options"]["image"]["unlisted_choice"]["validation_regex"]


def test_the_demos_typed_image_field_refuses_images_built_on_the_hub(demo_pattern):
    assert pattern_problem(demo_pattern) is None  # the same rule in the browser
    built = image_name(HubExtensionsBuilds().image_prefix, "git-evil-miner", "a" * 40)
    assert built.startswith("hub-extensions-builds/")
    assert not full_match(demo_pattern, built)  # another user's build, typed in by a link
    for image in ("hub-extensions-demo/singleuser:1", "python:3.12", "jupyter/base-notebook:x"):
        assert full_match(demo_pattern, image), image
