"""End to end with DockerSpawner: a person picks a profile, an option and a custom image in
the browser, and the container that starts has that image and those limits (docker inspect).

Uses the demo's own Docker profile list (src/hub_extensions/demo/jupyterhub_config.py).
"""

from __future__ import annotations

import pytest

from hub_extensions.demo.runner import RUN_LABEL

from .infra.browser import new_page
from .infra.hub import PASSWORD, DemoHub

pytestmark = pytest.mark.docker

CUSTOM = "hub-extensions/custom-env:e2e"


@pytest.fixture
def hub(docker_engine, base_image, hub_factory, request) -> DemoHub:
    """The demo's Docker hub, shared with tests/test_docker.py: each test stops what it starts."""
    return hub_factory.shared(request, spawner="docker", image=base_image)


def stop_server_of(demo: DemoHub, user: str) -> None:
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    if admin.get(demo.hub_url(f"api/users/{user}"), timeout=10).json()["servers"]:
        demo.stop_server(admin, user)


def test_browser_choice_sets_the_containers_image_and_limits(
    docker_engine, base_image, browser, hub, artifacts
):
    client = docker_engine.client
    client.images.get(base_image).tag(CUSTOM)
    demo = hub
    page, errors = new_page(browser)
    try:
        page.goto(demo.hub_url("login"))
        page.get_by_label("Username").fill("rosa")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/hub/spawn")
        page.get_by_label("Medium").check()
        page.get_by_label("Image", exact=True).select_option(label="Another image...")
        page.get_by_label("Image on this machine").fill(CUSTOM)
        page.screenshot(path=artifacts / "profiles-docker-form.png", full_page=True)
        page.get_by_role("button", name="Start", exact=True).click()
        page.wait_for_url("**/user/rosa/**", timeout=90_000)

        [container] = client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"})
        host = container.attrs["HostConfig"]
        assert container.attrs["Config"]["Image"] == CUSTOM
        assert host["Memory"] == 2 * 2**30  # the profile's mem_limit "2G"
        assert host["CpuQuota"] == 2 * host["CpuPeriod"]  # the profile's cpu_limit 2.0
        # the hub keeps the applied selection, nothing else (it pre-fills the next form)
        api = demo.api(demo.token(demo.login("rosa"), "rosa"))
        server = api.get(demo.hub_url("api/users/rosa"), timeout=10).json()["servers"][""]
        assert server["user_options"] == {
            "profile": "medium",
            "image": "unlisted-choice",
            "image--unlisted-choice": CUSTOM,
        }
        assert errors.page == []
    finally:
        page.context.close()
        stop_server_of(demo, "rosa")
        client.images.remove(CUSTOM)


def test_the_default_profile_gives_the_small_limits(docker_engine, base_image, hub):
    client = docker_engine.client
    demo = hub
    try:
        api = demo.api(demo.token(demo.login("sam"), "sam"))
        demo.spawn(api, "sam")  # REST API, no options: the default profile
        [container] = client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"})
        assert container.attrs["Config"]["Image"] == base_image
        assert container.attrs["HostConfig"]["Memory"] == 2**30
        assert (
            container.attrs["HostConfig"]["CpuQuota"] == container.attrs["HostConfig"]["CpuPeriod"]
        )
        demo.stop_server(api, "sam")
        r = api.post(
            demo.hub_url("api/users/sam/server"),
            json={"profile": "medium", "image--unlisted-choice": "evil image; rm -rf /"},
            timeout=30,
        )
        assert r.status_code == 400
        assert "image--unlisted-choice" in r.json()["message"]
        assert client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"}) == []
    finally:
        stop_server_of(demo, "sam")
