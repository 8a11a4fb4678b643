"""Links fill in, people start; form tokens are lazy and the requester's (issue #13), on a real hub.

A real JupyterHub + proxy + the suite's service (LocalProcessSpawner, base_url /jh/), driven
with `requests` as a browser would send it: the `Sec-Fetch-Site` and `Referer` headers a
browser sets are set by hand here (the browser tier, test_security_links_browser.py, has
Chromium set them). What is asserted is what a user sees: the page, the status, whether a
server process started, and the hub's own token list.
Not covered here: the build panel's token request from a real page (browser tier).
"""

from __future__ import annotations

import json
import re

import pytest

from hub_extensions.builds.signing import sign

from .test_profiles_hub import post_form, server_env

pytestmark = pytest.mark.hub

KEY = "k" * 64
SERVICE_SCOPE = "access:services!service=hub-extensions"
CONFIG = f"""
c.HubExtensionsBuilds.signing_key = {KEY!r}
c.JupyterHub.load_roles = [
    {{"name": "alice-starter", "scopes": ["servers!user=alice", "read:users:name!user=alice"],
      "users": ["bob"]}},
]
c.ProfilesSimpleLocalProcessSpawner.profile_list = [
    {{"display_name": "Python", "default": True,
      "kubespawner_override": {{"environment": {{"HX_IMAGE": "none"}}}}}},
    {{
        "display_name": "Custom",
        "slug": "custom",
        "profile_options": {{
            "image": {{
                "display_name": "Image",
                "choices": {{"base": {{"display_name": "Base",
                             "kubespawner_override": {{"environment": {{"HX_IMAGE": "base"}}}}}}}},
                "dynamic_image_building": {{"enabled": True}},
                "unlisted_choice": {{
                    "enabled": True,
                    "display_name": "Your image",
                    "validation_regex": "[a-z]+:[0-9]+",
                    "kubespawner_override": {{"environment": {{"HX_IMAGE": "{{value}}"}}}},
                }},
            }},
        }},
    }},
]
"""
TYPED = "spawn?profile=custom&profile-option-custom--image--unlisted-choice=miner:1"


HUB = {"base_url": "/jh/", "config": CONFIG}


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    demo = hub_factory.shared(request, **HUB)
    demo.admin = demo.api(demo.token(demo.login("demo"), "demo"))
    return demo


def servers(hub, user: str) -> dict:
    r = hub.admin.get(hub.hub_url(f"api/users/{user}"), timeout=10)
    r.raise_for_status()
    return r.json()["servers"]


def tokens(hub, user: str) -> list[dict]:
    r = hub.admin.get(hub.hub_url(f"api/users/{user}/tokens"), timeout=10)
    r.raise_for_status()
    return r.json()["api_tokens"]


def post_spawn(hub, session, path: str, fields: dict):
    """The spawn form's POST, as the page sends it (JupyterHub's XSRF token in the form)."""
    data = {**fields, "_xsrf": session.cookies.get("_xsrf", path="/jh/hub/")}
    return session.post(hub.hub_url(path), data=data, timeout=60, allow_redirects=False)


def page_data(html: str) -> dict:
    found = re.search(r'id="hub-extensions-profiles-data">(.*?)</script>', html, re.S)
    assert found, html[:2000]
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},  # e.g. a user subdomain
        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},  # typed, pasted, e-mailed
        {},  # a browser that sends no Sec-Fetch-Site
        # same origin, but from a user's server page (which shares the hub's origin)
        {"Sec-Fetch-Site": "same-origin", "Referer": "http://127.0.0.1:{port}/jh/user/mal/x.html"},
    ],
    ids=["cross-site", "same-site", "none", "no-header", "user-server-page"],
)
def test_a_query_link_with_a_typed_value_shows_the_filled_in_form_and_starts_nothing(hub, headers):
    session = hub.login("vic")
    headers = {k: v.format(port=hub.port) for k, v in headers.items()}
    r = session.get(hub.hub_url(TYPED), headers=headers, timeout=30, allow_redirects=False)
    assert r.status_code == 200, r.text[:500]
    assert "A link asks to start this environment. Nothing has started." in r.text
    assert ">miner:1</code> (typed in the link" in r.text
    assert "Error:" not in r.text  # JupyterHub's own error line stays empty
    data = page_data(r.text)
    assert data["selected"]["profile"] == "custom"
    assert data["selected"]["options"]["custom"]["image"] == {"choice": None, "unlisted": "miner:1"}
    assert servers(hub, "vic") == {}
    if headers.get("Sec-Fetch-Site") != "cross-site":
        return  # the press on Start is the same in every case: started once, below
    # the user's click on Start (the form's POST, with the page's XSRF token) starts it
    r = post_form(
        hub,
        session,
        {
            "profile": "custom",
            "profile-option-custom--image": "unlisted-choice",
            "profile-option-custom--image--unlisted-choice": "miner:1",
        },
    )
    assert r.status_code == 302, r.text[:500]
    api = hub.api(hub.token(session, "vic"))
    hub.spawn_wait(api, "vic")
    assert server_env(hub, "vic")["HX_IMAGE"] == "miner:1"
    hub.stop_server(api, "vic")


def test_a_query_link_followed_on_the_hubs_own_pages_starts_in_one_step(hub):
    session = hub.login("sam")
    headers = {"Sec-Fetch-Site": "same-origin", "Referer": hub.hub_url("home")}
    r = session.get(hub.hub_url(TYPED), headers=headers, timeout=60, allow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    api = hub.api(hub.token(session, "sam"))
    hub.spawn_wait(api, "sam")
    assert server_env(hub, "sam")["HX_IMAGE"] == "miner:1"
    hub.stop_server(api, "sam")


def test_a_query_link_with_a_signature_is_held_and_the_signature_is_not_taken(hub):
    session = hub.login("tia")
    image = "hub-extensions-builds/evil-1a2b:" + "a" * 40
    link = (
        f"spawn?profile=custom&profile-option-custom--image--unlisted-choice={image}"
        f"&profile-option-custom--image--build-signature={sign(KEY.encode(), 'tia', image)}"
    )
    r = session.get(
        hub.hub_url(link),
        headers={"Sec-Fetch-Site": "cross-site"},
        timeout=30,
        allow_redirects=False,
    )
    assert r.status_code == 200
    assert "not taken from links: build the repository from this form" in r.text
    assert "build-signature" not in json.dumps(page_data(r.text)["selected"])
    assert servers(hub, "tia") == {}


def test_rendering_the_spawn_page_mints_no_token_and_the_page_carries_none(hub):
    session = hub.login("ron")
    hub.token(session, "ron")  # the user exists, with one token of the test's own
    before = tokens(hub, "ron")
    for _ in range(5):
        r = session.get(hub.hub_url("spawn"), timeout=30)
        assert r.status_code == 200
    assert tokens(hub, "ron") == before  # no token, no database write per render
    assert "data-build-token" not in r.text
    builds = page_data(r.text)["builds"]
    assert builds["token"] == {  # what the panel asks the hub for, when first used
        "scopes": [SERVICE_SCOPE],
        "expires_in": 3600,
        "note": "hub-extensions spawn form (builds)",
    }
    assert set(builds) == {"providers", "token"}


def test_the_panels_token_request_is_the_users_own_narrow_token_and_needs_xsrf(hub):
    session = hub.login("una")
    url = hub.hub_url("api/users/una/tokens")
    body = {"scopes": [SERVICE_SCOPE], "expires_in": 3600, "note": "hub-extensions spawn form"}
    # another site cannot read the XSRF token: without it, the cookie mints nothing
    refused = session.post(url, json=body, timeout=10)
    assert refused.status_code == 403
    r = session.post(url, json=body, headers=hub.xsrf_headers(session), timeout=10)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    me = hub.api(token).get(hub.hub_url("api/user"), timeout=10).json()
    assert me["name"] == "una"
    # nothing of the user's beyond the service (and the name and groups every token reads)
    assert set(me["scopes"]) == {
        SERVICE_SCOPE,
        "read:users:name!user=una",
        "read:users:groups!user=una",
    }
    assert hub.api(token).get(hub.service_url("api/builds"), timeout=10).status_code == 200
    [minted] = [t for t in tokens(hub, "una") if t["note"] == body["note"]]
    assert minted["expires_at"] is not None


def test_starting_another_users_server_gives_the_requester_nothing_of_theirs(hub):
    hub.login("alice")
    alice_tokens = tokens(hub, "alice")
    bob = hub.login("bob")
    r = bob.get(hub.hub_url("spawn/alice"), timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert "Spawning server for alice" in r.text
    assert 'user: "bob"' in r.text  # who the panel asks a token for: the requester
    assert tokens(hub, "alice") == alice_tokens
    # bob's own build may launch in alice's server (he may start it); nobody else's may
    image = "built:1"
    fields = {
        "profile": "custom",
        "profile-option-custom--image": "unlisted-choice",
        "profile-option-custom--image--unlisted-choice": image,
    }
    signature = "profile-option-custom--image--build-signature"
    carols = {**fields, signature: sign(KEY.encode(), "carol", image)}
    refused = post_spawn(hub, bob, "spawn/alice", carols)
    assert refused.status_code == 400
    assert "not a valid signature for this image and user" in refused.text
    r = post_spawn(hub, bob, "spawn/alice", {**fields, signature: sign(KEY.encode(), "bob", image)})
    assert r.status_code == 302, r.text[:500]
    api = hub.admin
    hub.spawn_wait(api, "alice")
    assert server_env(hub, "alice")["HX_IMAGE"] == image
    hub.stop_server(api, "alice")


def test_a_cookie_request_from_another_site_starts_no_build(hub):
    session = hub.login("kim")
    spec = "build/git/not-a-url/HEAD"
    session.get(hub.service_url(""), timeout=30)  # the service's OAuth cookie, as a visit sets
    navigate = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    r = session.get(
        hub.service_url(spec), headers={**navigate, "Sec-Fetch-Site": "cross-site"}, timeout=30
    )
    assert r.status_code == 200  # BinderHub's shape: errors are a failed event
    event = json.loads(r.text.split("data: ", 1)[1])
    assert event["phase"] == "failed"
    assert event["status_code"] == 403
    assert event["message"].startswith("Builds are not started from links or pages on other sites.")
    # the same request from the hub's own origin gets past this check (to the spec's problem)
    r = session.get(
        hub.service_url(spec), headers={**navigate, "Sec-Fetch-Site": "same-origin"}, timeout=30
    )
    event = json.loads(r.text.split("data: ", 1)[1])
    assert event.get("status_code") != 403, event
