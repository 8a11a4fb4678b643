"""The build panel of the spawn form, end to end: headless Chromium on the demo hub (DockerSpawner,
base_url /jh/), the service's build endpoint, repo2docker on the real Docker engine, a git daemon.

A user builds a repository from the form, watches the phase and the log, starts the built image
(the container runs it and serves the repository's file); a colleague's "start" link hits the
cache and launches on its own; a reload re-attaches to a running build, and Cancel stops it and
leaves no build container. Not covered here: GitHub/GitLab specs (no internet; their parsing is
unit-tested), the remote BinderHub executor (tests/test_builds_binderhub.py).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import docker
import pytest
from playwright.sync_api import expect

from hub_extensions.demo.runner import RUN_LABEL

from .infra import axe
from .infra.browser import sign_in
from .infra.buildx_adapter import install_buildx_adapter
from .infra.common import wait_until
from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo
from .infra.hub import DemoHub

pytestmark = pytest.mark.browser

IMAGE = "profile-option-medium--image"
BUILD = f"#{IMAGE}--build"
SPAWN = "**/jh/hub/spawn"  # where a user without a server lands after signing in
SLOW_MARKER = f"SLOW-STEP-{uuid.uuid4().hex}"  # a new commit each run, and findable in `ps`
stack_link: list[str] = []  # the first test's "start" link, opened by a colleague later


@pytest.fixture(scope="module")
def stack(docker_engine, base_image, hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("builds-browser")
    env = install_buildx_adapter(tmp / "docker-config")
    marker = f"built from the form {uuid.uuid4().hex[:8]}\n"  # a new commit: a real build
    make_repo(
        tmp / "repos" / "hello",
        {
            "Dockerfile": f"FROM {base_image}\nCOPY hello.txt /home/jovyan/hello.txt\n",
            "hello.txt": marker,
        },
    )
    make_repo(
        tmp / "repos" / "slow",
        {"Dockerfile": f"FROM {base_image}\nRUN echo {SLOW_MARKER} && sleep 300\n"},
    )
    daemon = GitDaemon(tmp / "repos", log_dir=tmp).start()
    demo = hub_factory.shared(
        request,
        spawner="docker",
        image=base_image,
        base_url="/jh/",
        config=f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        + LOOPBACK_BUILDS_CONFIG,
    )
    yield demo, daemon, marker
    daemon.stop()


def choose_build(page) -> None:
    page.get_by_label("Medium").check()
    page.locator(f"#{IMAGE}").select_option(label="Build from a repository...")
    expect(page.locator(f"{BUILD}-repo")).to_be_visible()


def fill_build(page, daemon: GitDaemon, repo: str, ref: str = "HEAD") -> None:
    page.locator(f"{BUILD}-provider").select_option(label="Git repository")
    page.locator(f"{BUILD}-repo").fill(daemon.repo_url(repo))
    page.locator(f"{BUILD}-ref").fill(ref)


def head_sha(daemon: GitDaemon, repo: str) -> str:
    out = subprocess.run(
        ["git", "ls-remote", daemon.repo_url(repo), "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.split()[0]


def demo_containers(demo: DemoHub):
    return docker.from_env().containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"})


def step_processes(marker: str) -> list[int]:
    """Processes of the build step whose command line carries `marker` (BuildKit runs steps as
    host processes in their own namespaces, not as containers `docker ps` would list)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def stop_if_running(demo: DemoHub, user: str) -> None:
    api = demo.api(demo.token(demo.login(user), user))
    if api.get(demo.hub_url(f"api/users/{user}"), timeout=10).json()["servers"]:
        demo.stop_server(api, user)


def my_builds(demo: DemoHub, user: str) -> list[dict]:
    api = demo.api(demo.token(demo.login(user), user))
    return api.get(demo.service_url("api/builds"), timeout=10).json()["builds"]


def test_a_user_builds_in_the_form_watches_the_log_and_starts_the_built_image(
    stack, browser, artifacts
):
    demo, daemon, marker = stack
    page, errors = sign_in(
        browser, demo, "ada", SPAWN, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        choose_build(page)
        start = page.get_by_role("button", name="Start", exact=True)
        start.click()  # nothing built yet: refused in the page, nothing starts
        status = page.get_by_role("status").filter(has_text="Build the environment first")
        expect(status).to_be_visible()
        assert page.url.endswith("/jh/hub/spawn")

        fill_build(page, daemon, "hello")
        page.get_by_role("button", name="Build", exact=True).click()
        expect(page.locator(".hx-build-status")).to_contain_text(
            "Building the image", timeout=120_000
        )
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        expect(page.locator(".hx-build-status")).to_have_text(
            "Ready: the image is built. Press Start to launch it.", timeout=300_000
        )
        expect(page.locator(".hx-build-commit code")).to_have_text(head_sha(daemon, "hello"))
        log = page.get_by_label("Build log")
        expect(log).to_contain_text("COPY hello.txt")
        assert page.locator(".hx-build-status").get_attribute("aria-live") == "polite"
        assert axe.violations(page) == []
        page.screenshot(path=artifacts / "builds-form-ready.png", full_page=True)
        image = page.locator(f'input[type="hidden"][name="{IMAGE}--unlisted-choice"]').input_value()
        assert image.endswith(":" + head_sha(daemon, "hello"))

        # the start link, for a colleague (a later test)
        page.get_by_role("button", name="Copy start link").click()
        expect(page.locator(".hx-copy-link [aria-live]")).to_have_text(
            "Link copied: it fills in this form; one press of Build and start builds and starts."
        )
        link = page.evaluate("() => navigator.clipboard.readText()")
        page_part, _, fragment = link.partition("#")
        assert "hx-start=1" in fragment.split("&")
        assert "?" not in page_part  # /hub/spawn?... would start without building
        stack_link.append(link)

        start.click()
        page.wait_for_url("**/jh/user/ada/**", timeout=120_000)
        [container] = demo_containers(demo)
        assert container.attrs["Config"]["Image"] == image
        code, out = container.exec_run(["cat", "/home/jovyan/hello.txt"])
        assert (code, out.decode()) == (0, marker)
        assert errors.all() == []
    finally:
        page.context.close()
        stop_if_running(demo, "ada")


def test_an_edited_image_name_is_refused_with_400_and_a_message(stack, browser):
    demo, daemon, _ = stack
    page, _ = sign_in(browser, demo, "eve", SPAWN)
    try:
        choose_build(page)
        fill_build(page, daemon, "hello")
        build = page.get_by_role("button", name="Build", exact=True)
        build.click()  # built by the first test (a cache hit), or built now
        expect(page.locator(".hx-build-status")).to_contain_text("Ready", timeout=300_000)
        build.click()  # the same commit again: certainly a cache hit now
        expect(page.locator(".hx-build-status")).to_contain_text("cache hit", timeout=30_000)
        expect(page.locator(".hx-build-log")).to_be_hidden()  # a cache hit has no log
        # someone rewrites the form post to launch another image with this signature
        image = page.locator(f'input[type="hidden"][name="{IMAGE}--unlisted-choice"]').input_value()

        def tamper(route):
            body = route.request.post_data_buffer or b""
            assert image.encode() in body
            route.continue_(post_data=body.replace(image.encode(), b"docker.io/library/busybox:1"))

        page.route(
            "**/jh/hub/spawn*",
            lambda route: tamper(route) if route.request.method == "POST" else route.continue_(),
        )
        with page.expect_response(lambda r: r.request.method == "POST") as response:
            page.get_by_role("button", name="Start", exact=True).click()
        assert response.value.status == 400
        expect(page.get_by_text("not a valid signature for this image and user")).to_be_visible()
        assert demo_containers(demo) == []
    finally:
        page.context.close()
        stop_if_running(demo, "eve")


def test_a_colleagues_start_link_waits_for_one_press_then_hits_the_cache_and_launches(
    stack, browser
):
    demo, daemon, _ = stack
    if not stack_link:
        pytest.fail("the first test did not produce a link")
    page, errors = sign_in(browser, demo, "grace", SPAWN)
    try:
        page.goto(stack_link[0])
        go = page.get_by_role("button", name="Build and start")
        expect(go).to_be_focused()  # filled in; nothing is built or started by the link
        expect(page.locator(".hx-build-status")).to_contain_text("Nothing has been built")
        page.wait_for_timeout(1000)
        assert demo_containers(demo) == []
        go.click()  # grace's one press: a cache hit (the first test built it), then Start
        page.wait_for_url("**/jh/user/grace/**", timeout=120_000)
        [container] = demo_containers(demo)
        assert container.attrs["Config"]["Image"].endswith(":" + head_sha(daemon, "hello"))
        assert errors.all() == []
    finally:
        page.context.close()
        stop_if_running(demo, "grace")


def test_a_reload_reattaches_to_the_running_build_and_cancel_stops_it(stack, browser):
    demo, daemon, _ = stack
    slow_marker = SLOW_MARKER
    page, errors = sign_in(browser, demo, "hal", SPAWN)
    try:
        choose_build(page)
        fill_build(page, daemon, "slow")
        page.get_by_role("button", name="Build", exact=True).click()
        log = page.get_by_label("Build log")
        expect(log).to_contain_text("SLOW-STEP", timeout=120_000)
        wait_until(  # the build's RUN step is running
            lambda: step_processes(slow_marker) != [], timeout=60, what="the build step"
        )

        page.reload()
        expect(page.locator(f"{BUILD}-repo")).to_have_value(daemon.repo_url("slow"))
        expect(page.locator(".hx-build-status")).to_contain_text("Building", timeout=30_000)
        expect(page.get_by_label("Build log")).to_contain_text("SLOW-STEP")  # the whole log again

        page.get_by_role("button", name="Cancel").click()
        expect(page.locator(".hx-build-status")).to_have_text("Build cancelled.", timeout=60_000)
        expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
        wait_until(
            lambda: step_processes(slow_marker) == [], timeout=30, what="the build step to go"
        )

        def statuses() -> list[str]:
            slow = daemon.repo_url("slow")
            return [b["status"] for b in my_builds(demo, "hal") if b["repository"] == slow]

        wait_until(lambda: statuses() == ["cancelled"], timeout=30, what="the build to end")
        assert errors.all() == []
    finally:
        page.context.close()
