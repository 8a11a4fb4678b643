"""Tokens mean what they say at the service (#13): admin powers come from the token's scopes,
not from the user's admin flag, and a revoked or expired token stops working within seconds.

On a real hub, one per module, with the service's admin-only endpoints asked by each kind of
token: an admin's full token, an admin's token narrowed to the service (what the spawn form
carries), a plain user's full and narrow tokens, an admin's login through the browser (the
service's OAuth cookie), a revoked and an expired token (refused at its expiry, not when the
service's 5 s cache of the hub's answers ends), and the service's token cache itself. Not covered here: the spawn form's
own token (minted by the profiles form), and the build endpoints' admin checks beyond
listing everyone's builds (tests/test_builds_service.py).
"""

from __future__ import annotations

import time

import pytest
import requests

from hub_extensions.service.app import TOKEN_CACHE_SECONDS
from hub_extensions.service.token_cache import ExpiryAwareHubOAuth, parse_expiry

from .infra.common import wait_until
from .infra.hub import DemoHub

pytestmark = pytest.mark.hub

NARROW = ["access:services!service=hub-extensions"]
#: (path, query) of every service endpoint that only admin powers open
ADMIN_ONLY = [
    ("api/config-problems", {}),
    ("api/usage/sessions", {"user": "bob"}),
    ("api/usage/summary", {"all": "1"}),
    ("api/usage/daily", {"user": "bob"}),
    ("api/usage/active-users", {}),
    ("api/cost/report", {}),
    ("api/builds", {"all": "1"}),
]
#: what every authenticated user may read (about themselves)
OWN = [("api/health", {}), ("api/usage/summary", {}), ("api/cost/me", {}), ("api/builds", {})]


HUB = {"base_url": "/jh/"}  # the demo as it comes (shared with other modules)


@pytest.fixture(scope="module")
def hub(hub_factory, request):
    return hub_factory.shared(request, **HUB)


def make_token(hub: DemoHub, name: str, **body) -> tuple[str, str]:
    """(token, its id) for `name`, made by `name` through the hub's REST API."""
    session = hub.login(name)
    r = session.post(
        hub.hub_url(f"api/users/{name}/tokens"),
        json={"note": "security test", **body},
        headers=hub.xsrf_headers(session),
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()["token"], r.json()["id"]


@pytest.fixture(scope="module")
def tokens(hub):
    return {
        "admin-full": make_token(hub, "demo")[0],
        "admin-narrow": make_token(hub, "demo", scopes=NARROW)[0],
        "user-full": make_token(hub, "ada")[0],
        "user-narrow": make_token(hub, "ada", scopes=NARROW)[0],
    }


def ask(hub: DemoHub, token: str, path: str, params: dict) -> requests.Response:
    return requests.get(
        hub.service_url(path),
        params=params,
        headers={"Authorization": f"token {token}"},
        timeout=15,
    )


@pytest.mark.parametrize(("path", "params"), ADMIN_ONLY)
def test_only_an_admins_full_token_opens_admin_endpoints(hub, tokens, path, params):
    assert ask(hub, tokens["admin-full"], path, params).status_code == 200
    for kind in ("admin-narrow", "user-full", "user-narrow"):
        r = ask(hub, tokens[kind], path, params)
        assert r.status_code == 403, f"{kind}: {r.status_code} {r.text}"
        assert r.json()["message"]


@pytest.mark.parametrize(("path", "params"), OWN)
def test_every_token_reads_its_own_things(hub, tokens, path, params):
    for kind, token in tokens.items():
        r = ask(hub, token, path, params)
        assert r.status_code == 200, f"{kind}: {r.status_code} {r.text}"


def test_health_reports_the_tokens_admin_powers_not_the_users_flag(hub, tokens):
    seen = {k: ask(hub, t, "api/health", {}).json()["user"] for k, t in tokens.items()}
    assert seen == {
        "admin-full": {"name": "demo", "admin": True},
        "admin-narrow": {"name": "demo", "admin": False},
        "user-full": {"name": "ada", "admin": False},
        "user-narrow": {"name": "ada", "admin": False},
    }


def test_an_admin_narrow_token_lists_only_its_own_builds(hub, tokens):
    r = ask(hub, tokens["admin-narrow"], "api/builds", {})
    assert r.status_code == 200, r.text
    assert all(b.get("user") in (None, "demo") for b in r.json().get("builds", []))


def test_an_admin_logged_in_through_the_browser_keeps_admin_powers(hub):
    """The service's OAuth token carries `admin-ui` for admins only (the marker it asks for)."""
    for name, admin in (("demo", True), ("bob", False)):
        browser = hub.login(name)
        page = browser.get(hub.service_url(), timeout=30)  # the OAuth dance sets the cookie
        assert page.status_code == 200
        assert "no-store" in page.headers["Cache-Control"]
        assert browser.get(hub.service_url("api/health"), timeout=10).json()["user"] == {
            "name": name,
            "admin": admin,
        }
        r = browser.get(hub.service_url("api/usage/summary"), params={"all": "1"}, timeout=10)
        assert r.status_code == (200 if admin else 403), r.text


def test_a_revoked_token_stops_working_within_seconds(hub):
    token, token_id = make_token(hub, "ada")
    assert ask(hub, token, "api/health", {}).status_code == 200  # now in the service's cache
    admin = hub.api(make_token(hub, "demo")[0])
    r = admin.delete(hub.hub_url(f"api/users/ada/tokens/{token_id}"), timeout=10)
    assert r.status_code == 204, r.text
    revoked = time.monotonic()
    wait_until(
        lambda: ask(hub, token, "api/health", {}).status_code == 403,
        TOKEN_CACHE_SECONDS + 2,
        "the revoked token to be refused",
        interval=0.5,
    )
    print(f"revoked token refused after {time.monotonic() - revoked:.1f}s")


def test_an_expired_token_stops_working_at_its_expiry(hub):
    """Not up to TOKEN_CACHE_SECONDS after it: the service keeps the hub's answer about a token
    no longer than the token lives (it reads the token's expiry once, with `read:tokens`)."""
    token, expires = make_expiring_token(hub, "ada", seconds=2)
    assert ask(hub, token, "api/health", {}).status_code == 200  # kept by the service now
    time.sleep(max(0.0, expires - time.time() - 1))
    assert ask(hub, token, "api/health", {}).status_code == 200  # still valid: from the cache
    time.sleep(max(0.0, expires - time.time() + 0.1))
    r = ask(hub, token, "api/health", {})
    assert r.status_code == 403, f"{time.time() - expires:.2f}s after its expiry: {r.text}"


def make_expiring_token(hub: DemoHub, name: str, seconds: int) -> tuple[str, float]:
    """(token, its expiry as a timestamp) for `name`, expiring in `seconds`."""
    session = hub.login(name)
    r = session.post(
        hub.hub_url(f"api/users/{name}/tokens"),
        json={"note": "security test", "expires_in": seconds},
        headers=hub.xsrf_headers(session),
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()["token"], parse_expiry(r.json()["expires_at"])


def hub_auth_with(hub: DemoHub, service_token: str, max_age: int) -> ExpiryAwareHubOAuth:
    """The service's HubOAuth, in this process, holding `service_token` as its own."""
    return ExpiryAwareHubOAuth(
        api_token=service_token, api_url=hub.hub_url("api"), cache_max_age=max_age
    )


async def test_answers_are_kept_until_the_tokens_expiry(hub):
    """The cache is used (a revocation is seen only when the window ends) and ends at the
    expiry, with a long window (60 s) to tell the two apart."""
    auth = hub_auth_with(hub, make_token(hub, "demo")[0], max_age=60)  # may read token records
    token, expires = make_expiring_token(hub, "ada", seconds=2)
    assert (await auth.user_for_token(token, sync=False))["name"] == "ada"
    assert (await auth.user_for_token(token, sync=False))["name"] == "ada"  # kept
    time.sleep(max(0.0, expires - time.time() + 0.1))
    assert await auth.user_for_token(token, sync=False) is None


async def test_without_read_tokens_answers_are_not_kept(hub):
    """A deployment whose service role lacks `read:tokens`: every request asks the hub (a
    revocation is seen at once), rather than honouring a token past its expiry."""
    outsider = make_token(hub, "bob", scopes=NARROW)[0]  # cannot read ada's token records
    auth = hub_auth_with(hub, outsider, max_age=60)
    token, token_id = make_token(hub, "ada")
    assert (await auth.user_for_token(token, sync=False))["name"] == "ada"
    admin = hub.api(make_token(hub, "demo")[0])
    r = admin.delete(hub.hub_url(f"api/users/ada/tokens/{token_id}"), timeout=10)
    assert r.status_code == 204, r.text
    assert await auth.user_for_token(token, sync=False) is None
