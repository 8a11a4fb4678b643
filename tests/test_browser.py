"""A person in headless Chromium: log in, see the spawn page, open the service's page."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from .infra.browser import new_page
from .infra.hub import PASSWORD, DemoHub

pytestmark = pytest.mark.browser


HUB = {"base_url": "/jh/"}  # the demo as it comes


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    return hub_factory.shared(request, **HUB)


def login(page, hub: DemoHub, name: str) -> None:
    page.goto(hub.hub_url("login"))
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_login_lands_on_the_spawn_page(browser, hub, artifacts):
    page, errors = new_page(browser)
    login(page, hub, "alice")
    page.wait_for_url("**/jh/hub/spawn", timeout=30_000)
    expect(page.get_by_role("group", name="Choose your environment")).to_be_visible()
    page.screenshot(path=artifacts / "spawn-page.png", full_page=True)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url("**/jh/hub/spawn-pending/alice**", timeout=30_000)
    expect(page.get_by_text("Your server is starting up.")).to_be_visible()
    page.wait_for_url("**/jh/user/alice/lab**", timeout=60_000)
    expect(page).to_have_title("JupyterLab", timeout=30_000)  # the demo's server is JupyterLab
    assert errors.page == []
    page.context.close()


def test_wrong_password_shows_the_login_error(browser, hub):
    page, _ = new_page(browser)
    page.goto(hub.hub_url("login"))
    page.get_by_label("Username").fill("mallory")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    assert "/jh/hub/login" in page.url
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_service_page_shows_status_in_the_hub_look(browser, hub, artifacts, scheme):
    page, errors = new_page(browser, color_scheme=scheme)
    login(page, hub, "bob")
    page.goto(hub.service_url())
    card = page.locator("#hub-extensions-home")
    card.get_by_text("bob").wait_for(timeout=15_000)
    text = card.inner_text()
    assert "ok" in text
    assert "0.1.0" in text
    assert page.locator("html").get_attribute("data-bs-theme") == scheme
    # the hub's own stylesheet styled the page: Bootstrap's navbar is laid out as flex
    assert page.locator("nav.navbar").evaluate("e => getComputedStyle(e).display") == "flex"
    assert page.get_by_role("link", name="Home", exact=True).get_attribute("href") == "/jh/hub/home"
    page.screenshot(path=artifacts / f"service-page-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()
    if scheme == "light":
        shutil.copy(artifacts / "service-page-light.png", artifacts / "readme-screenshot.png")
