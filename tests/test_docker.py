"""DockerSpawner on a real Docker engine: the demo's containers, the base image, the registry."""

from __future__ import annotations

import jupyterhub
import pytest
import requests

from hub_extensions.demo.runner import RUN_LABEL

from .infra.common import wait_until
from .infra.registry import manifest_exists

pytestmark = pytest.mark.docker


def run_containers(client, run_id):
    return client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})


def test_demo_spawns_a_container_and_ctrl_c_removes_it(docker_engine, base_image, make_hub):
    client = docker_engine.client
    demo = make_hub(spawner="docker", image=base_image)
    try:
        assert f"spawning with DockerSpawner, image {base_image}" in demo.log()
        api = demo.api(demo.token(demo.login("alice"), "alice"))
        demo.spawn(api, "alice")
        [container] = run_containers(client, demo.run_id)
        container.reload()
        assert container.name == "hub-extensions-demo-alice"
        assert container.status == "running"
        assert container.attrs["Config"]["Image"] == base_image
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.exec_run(["id", "-un"]).output.decode().strip() == "jovyan"
        version = container.exec_run(["jupyterhub-singleuser", "--version"]).output.decode()
        assert version.strip() == jupyterhub.__version__
        r = api.get(f"http://127.0.0.1:{demo.port}/user/alice/api/status", timeout=10)
        assert r.status_code == 200, r.text
        run_id = demo.run_id
    finally:
        code = demo.interrupt()
    assert code == 0
    assert run_containers(client, run_id) == []


def test_stopping_a_server_removes_its_container(docker_engine, base_image, hub_factory, request):
    client = docker_engine.client
    # shared with the Docker tests that stop what they start (tests/test_profiles_docker.py)
    demo = hub_factory.shared(request, spawner="docker", image=base_image)
    api = demo.api(demo.token(demo.login("bob"), "bob"))
    demo.spawn(api, "bob")
    assert len(run_containers(client, demo.run_id)) == 1
    demo.stop_server(api, "bob")
    wait_until(lambda: run_containers(client, demo.run_id) == [], 15, "bob's container removal")


def test_image_pulled_from_the_local_registry(docker_engine, base_image, registry, make_hub):
    client = docker_engine.client
    repo, tag = base_image.split(":")
    remote = f"{registry.host}/{repo}:{tag}"
    client.images.get(base_image).tag(remote)
    for line in client.images.push(f"{registry.host}/{repo}", tag=tag, stream=True, decode=True):
        assert "error" not in line, line
    assert manifest_exists(registry.host, repo, tag)
    client.images.remove(remote)  # the spawner must pull it back from the registry

    demo = make_hub(
        spawner="docker", image=remote, config='c.DockerSpawner.pull_policy = "always"\n'
    )
    try:
        assert f"Image {remote} is not on this machine: DockerSpawner will pull it" in demo.log()
        api = demo.api(demo.token(demo.login("carol"), "carol"))
        demo.spawn(api, "carol")
        [container] = run_containers(client, demo.run_id)
        assert container.attrs["Config"]["Image"] == remote
        assert client.images.get(remote).id == client.images.get(base_image).id
        r = requests.get(f"http://127.0.0.1:{demo.port}/user/carol/api", timeout=10)
        assert r.json()["version"]
    finally:
        demo.stop()
        client.images.remove(remote)  # the registry is gone after the session: drop its tag


def test_without_an_image_the_demo_uses_the_suites_base_image(docker_engine, base_image, make_hub):
    demo = make_hub(spawner="auto")  # as `./scripts/demo` runs it
    log = demo.log()
    assert f"Using the suite's base image {base_image} (built earlier on this machine)." in log
    assert f"Docker engine answered: spawning with DockerSpawner, image {base_image}." in log
