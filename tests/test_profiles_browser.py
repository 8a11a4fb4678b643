"""The profiles form in headless Chromium: keyboard, live validation, links, memory, axe.

The hub runs LocalProcessSpawner with the profile list of test_profiles_hub.py; what starts is
checked through the server process's environment. DockerSpawner: test_profiles_docker.py.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from .infra import axe
from .infra.browser import sign_in
from .infra.hub import DemoHub
from .test_profiles_hub import PROFILES, server_env

pytestmark = pytest.mark.browser

UNLISTED = "#profile-option-custom--flavour--unlisted-choice"


HUB = {"base_url": "/jh/", "config": PROFILES}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    return hub_factory.shared(request, **HUB)


def open_form(browser, hub: DemoHub, user: str, **context):
    return sign_in(browser, hub, user, "**/jh/hub/spawn", **context)


# the form's script enhances it (and applies a link's fragment) after the first frame
ENHANCED = """() => {
  const root = document.getElementById("hub-extensions-profiles");
  return !root || root.dataset.hxReady !== undefined;
}"""


def form_value(page, name: str):
    """What the form would submit for `name`, once the script has run on this page."""
    page.wait_for_function(ENHANCED, timeout=10_000)
    return page.evaluate(f"() => new FormData(document.querySelector('#spawn_form')).get({name!r})")


def severe_violations(page) -> list[dict]:
    try:
        return axe.violations(page)
    except axe.Unavailable as err:  # pragma: no cover - npm ci installs it
        pytest.fail(str(err))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_form_has_no_serious_accessibility_violations(browser, hub, artifacts, scheme):
    page, errors = open_form(browser, hub, f"axe-{scheme}", color_scheme=scheme)
    assert page.locator("html").get_attribute("data-bs-theme") == scheme
    assert severe_violations(page) == []
    page.screenshot(path=artifacts / f"profiles-form-{scheme}.png", full_page=True)
    assert errors.all() == []
    page.context.close()


def test_the_pages_menu_and_start_feedback_work_with_jupyterhubs_bundles_deferred(browser, hub):
    """The suite's spawn.html loads JupyterHub's bootstrap and jQuery bundles deferred (they held
    the parser before the form) and does spawn.html's jQuery snippet in plain JavaScript."""
    page, errors = open_form(browser, hub, "uma")
    # bootstrap's dropdown works once the bundle has run, after the page has loaded
    page.wait_for_function("() => window.bootstrap !== undefined && window.jQuery !== undefined")
    page.get_by_role("button", name="Services").click()
    expect(page.get_by_role("link", name="hub-extensions")).to_be_visible()
    page.evaluate(  # keep the page: the start itself is tested elsewhere
        "() => document.getElementById('spawn_form')"
        ".addEventListener('submit', (event) => event.preventDefault())"
    )
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#spawn_form .feedback-container > button")).to_have_class(
        re.compile(r"\bhidden\b")
    )
    expect(page.locator("#spawn_form .feedback-widget")).not_to_have_class(
        re.compile(r"\bhidden\b")
    )
    assert errors.all() == []
    page.context.close()


def test_keyboard_alone_chooses_a_profile_and_an_option(browser, hub):
    page, errors = open_form(browser, hub, "kim")
    page.locator("#profile-item-python").focus()
    page.keyboard.press("ArrowDown")  # radios: the arrow keys move the choice
    assert form_value(page, "profile") == "custom"
    expect(page.locator('.hx-profile[data-profile="custom"]')).to_have_class(
        "card mb-3 hx-profile border-primary"
    )
    focused = []
    for _ in range(2):  # Tab passes the description's link, then reaches the option
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.tagName")
        )
    assert focused == ["A", "profile-option-custom--flavour"]
    page.keyboard.press("ArrowDown")  # next choice in the select: "Your flavour" (unlisted)
    expect(page.locator(UNLISTED)).to_be_visible()
    assert errors.all() == []
    page.context.close()


def test_an_invalid_custom_value_is_refused_in_the_page_and_nothing_starts(browser, hub):
    page, errors = open_form(browser, hub, "lou")
    page.locator("#profile-item-custom").check()
    page.select_option("#profile-option-custom--flavour", "unlisted-choice")
    page.fill(UNLISTED, "Mint")
    message = page.locator(f"{UNLISTED}-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text('"Mint"')
    expect(page.locator(UNLISTED)).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Start", exact=True).click()
    assert urlsplit(page.url).path == "/jh/hub/spawn"  # not submitted
    assert page.evaluate("() => document.activeElement.id") == UNLISTED[1:]
    assert severe_violations(page) == []  # the error state is accessible too
    api = hub.api(hub.token(hub.login("lou"), "lou"))
    assert api.get(hub.hub_url("api/users/lou"), timeout=10).json()["servers"] == {}
    # a valid value clears the message and the server starts with it
    page.fill(UNLISTED, "pistachio")
    expect(message).to_be_hidden()
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url("**/jh/user/lou/**", timeout=60_000)
    assert server_env(hub, "lou")["HX_FLAVOUR"] == "pistachio"
    assert errors.page == []
    page.goto(hub.hub_url("home"))  # leave JupyterLab before its server goes away
    errors.page.clear()
    hub.stop_server(api, "lou")
    # the last choice is pre-selected after a reload, from the server
    page.goto(hub.hub_url("spawn"))
    assert form_value(page, "profile") == "custom"
    assert form_value(page, "profile-option-custom--flavour--unlisted-choice") == "pistachio"
    expect(page.locator(UNLISTED)).to_be_visible()
    # picking a listed choice now: the pre-filled value is hidden and not posted
    page.select_option("#profile-option-custom--flavour", "vanilla")
    expect(page.locator(UNLISTED)).to_be_hidden()
    assert form_value(page, "profile-option-custom--flavour") == "vanilla"
    assert form_value(page, "profile-option-custom--flavour--unlisted-choice") is None
    assert errors.page == []
    page.context.close()


def test_copied_links_reproduce_the_choice_and_the_second_one_starts(browser, hub):
    page, errors = open_form(browser, hub, "max", permissions=["clipboard-read", "clipboard-write"])
    page.locator("#profile-item-custom").check()
    page.select_option("#profile-option-custom--flavour", "vanilla")
    page.get_by_role("button", name="Copy link", exact=True).click()
    expect(page.get_by_text("Link copied")).to_be_visible()
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link.startswith(f"http://127.0.0.1:{hub.port}/jh/hub/spawn#")
    assert "profile=custom" in link
    assert "profile-option-custom--flavour=vanilla" in link

    other, _ = open_form(browser, hub, "ned")  # a colleague opens the link
    other.goto(link)
    assert form_value(other, "profile") == "custom"
    assert form_value(other, "profile-option-custom--flavour") == "vanilla"
    assert urlsplit(other.url).path == "/jh/hub/spawn"  # filled in, not started
    # a link jupyterhub-fancy-profiles made (through its login redirect) fills in the form too
    config = json.dumps({"profile": "custom", "flavour": "unlisted_choice",
                         "flavour:unlisted_choice": "lemon"})  # fmt: skip
    # as fancy-profiles writes it: login?next=/hub/spawn%23 + the URL-encoded parameter
    other.goto(
        hub.hub_url("login?next=/jh/hub/spawn%23" + urlencode({"fancy-forms-config": config}))
    )
    other.wait_for_url("**/jh/hub/spawn#fancy-forms-config=*")
    assert form_value(other, "profile") == "custom"
    assert form_value(other, "profile-option-custom--flavour") == "unlisted-choice"
    assert form_value(other, "profile-option-custom--flavour--unlisted-choice") == "lemon"
    assert urlsplit(other.url).path == "/jh/hub/spawn"
    other.context.close()

    page.get_by_role("button", name="Copy start link").click()
    start_link = page.evaluate("() => navigator.clipboard.readText()")
    assert start_link.startswith(f"http://127.0.0.1:{hub.port}/jh/hub/spawn?")
    starter, _ = open_form(browser, hub, "oli")
    starter.goto(start_link)
    starter.wait_for_url("**/jh/user/oli/**", timeout=60_000)
    assert server_env(hub, "oli")["HX_FLAVOUR"] == "vanilla"
    api = hub.api(hub.token(hub.login("oli"), "oli"))
    hub.stop_server(api, "oli")
    starter.context.close()
    assert errors.all() == []
    page.context.close()


def test_without_javascript_the_plain_form_still_works(browser, hub):
    page, _ = open_form(browser, hub, "pat", java_script_enabled=False)
    page.locator("#profile-item-custom").check()
    page.select_option("#profile-option-custom--flavour", "unlisted-choice")
    page.fill(UNLISTED, "lemon")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url("**/jh/hub/spawn-pending/pat**", timeout=30_000)
    api = hub.api(hub.token(hub.login("pat"), "pat"))
    hub.spawn_wait(api, "pat")
    assert server_env(hub, "pat")["HX_FLAVOUR"] == "lemon"
    hub.stop_server(api, "pat")
    # and a bad value comes back from the server with the field named, form kept
    page.goto(hub.hub_url("spawn"))
    page.select_option("#profile-option-custom--flavour", "unlisted-choice")
    page.fill(UNLISTED, "NOT valid")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text("profile-option-custom--flavour--unlisted-choice")).to_be_visible()
    expect(page.locator("#profile-item-custom")).to_be_visible()
    page.context.close()


#: what the stylesheets decide for an element, and for its ::before (Font Awesome's icons)
STYLES_JS = """() => {
  const props = ["color", "background-color", "font-family", "font-size", "font-weight",
    "line-height", "margin-top", "margin-bottom", "padding-left", "padding-right",
    "border-top-width", "border-top-color", "border-top-left-radius", "display", "visibility"];
  return [...document.querySelectorAll("body *")]
    .filter((el) => !["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName))
    .map((el) => {
      const s = getComputedStyle(el), before = getComputedStyle(el, "::before");
      return [el.tagName, el.id, el.getAttribute("class"), ...props.map((p) => s.getPropertyValue(p)),
              before.content, before.fontFamily];
    });
}"""
STYLESHEETS_JS = """() => performance.getEntriesByType("resource")
  .filter((r) => new URL(r.name).pathname.endsWith(".css"))
  .map((r) => [new URL(r.name).pathname, r.transferSize])"""


@pytest.mark.parametrize("path", ["spawn", "home"])
def test_the_page_is_styled_as_by_jupyterhubs_stylesheet_and_a_visit_asks_nothing(
    browser, hub, path
):
    """The suite's spawn and home pages link JupyterHub's stylesheet as page_style.py explains:
    the same computed styles as with JupyterHub's own link (which the page falls back to when
    the service does not answer), and a second visit takes every stylesheet from the cache, with
    no round trip to the hub (JupyterHub's unversioned @imports were revalidated on every
    visit)."""
    page, errors = open_form(browser, hub, "wes")
    if path != "spawn":
        page.goto(hub.hub_url(path))
    page.wait_for_function(ENHANCED, timeout=10_000)
    sheets = page.evaluate("() => [...document.styleSheets].map((s) => s.href)")
    assert [urlsplit(h).path for h in sheets if h] == [
        "/jh/hub/static/components/@fortawesome/fontawesome-free/css/fontawesome.css",
        "/jh/hub/static/components/@fortawesome/fontawesome-free/css/solid.css",
        "/jh/services/hub-extensions/page-style.css",
    ]
    ours = page.evaluate(STYLES_JS)
    page.goto(hub.hub_url(path))  # a second visit in the same browser
    page.wait_for_function(ENHANCED, timeout=10_000)
    again = page.evaluate(STYLESHEETS_JS)
    assert len(again) == 3
    assert [size for _, size in again] == [0, 0, 0], again  # all from the cache
    assert errors.all() == []
    page.context.close()

    # the service does not answer: the link falls back to JupyterHub's own stylesheet
    page, errors = open_form(browser, hub, "wes")
    page.context.route("**/page-style.css*", lambda route: route.fulfill(status=503, body="down"))
    page.goto(hub.hub_url(path))
    page.wait_for_function(ENHANCED, timeout=10_000)
    page.wait_for_function(
        "() => [...document.styleSheets].some((s) => s.href && s.href.includes('style.min.css'))"
    )
    page.wait_for_load_state("load")
    # the sheet swapped under a drawn page starts Bootstrap's colour transitions: let them end
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    jupyterhubs = page.evaluate(STYLES_JS)
    assert len(ours) > 30
    assert [row[:3] for row in jupyterhubs] == [row[:3] for row in ours]
    differ = [(a, b) for a, b in zip(ours, jupyterhubs, strict=True) if a != b]
    changed = [(a[:3], [(x, y) for x, y in zip(a, b, strict=True) if x != y]) for a, b in differ]
    assert differ == [], changed
    if path == "spawn":  # Font Awesome's rules apply: the Start feedback's icon has its glyph
        assert any(row[-2] not in ("none", "normal") and "Font Awesome" in row[-1] for row in ours)
    assert [e for e in errors.all() if "503" not in e] == []
    page.context.close()
