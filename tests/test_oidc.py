"""Login through a real OIDC provider over TLS, with oauthenticator's CILogonOAuthenticator.

The provider is oidc-provider-mock on 127.0.0.1 (CILogon itself cannot be reached here); the
authenticator talks to it exactly as it would to cilogon.org, over TLS with a local CA.
"""

from __future__ import annotations

import pytest

from .infra.hub import DemoHub

pytestmark = pytest.mark.oidc

IDP = "https://idp.example.edu/idp/shibboleth"


@pytest.fixture(scope="module")
def hub(oidc_provider, hub_factory, request):
    def config(demo: DemoHub) -> str:  # the callback URL names the hub's port
        return f"""
c.JupyterHub.authenticator_class = "cilogon"
c.Authenticator.allow_all = False
c.CILogonOAuthenticator.cilogon_host = {oidc_provider.host!r}
c.CILogonOAuthenticator.http_request_kwargs = {{"ca_certs": {str(oidc_provider.ca_file)!r}}}
c.CILogonOAuthenticator.client_id = "hub-client"
c.CILogonOAuthenticator.client_secret = "hub-secret"
c.CILogonOAuthenticator.oauth_callback_url = "http://127.0.0.1:{demo.port}/hub/oauth_callback"
c.CILogonOAuthenticator.idps = {{
    {IDP!r}: {{
        "username_derivation": {{
            "username_claim": "eppn", "action": "strip_idp_domain", "domain": "example.edu",
        }},
        "allowed_domains": ["example.edu"],
        "default": True,
    }},
}}
"""

    demo = hub_factory.new(config=config, who=request.node.nodeid)
    yield demo
    demo.begin_stop()


def oidc_login(hub, provider, sub):
    s = provider.session()  # trusts the provider's CA; the hub is plain HTTP on loopback
    r = s.get(hub.hub_url("oauth_login"), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"{provider.url}/authorize?")
    callback = provider.complete_authorization(s, r.headers["Location"], sub)
    assert callback.startswith(f"http://127.0.0.1:{hub.port}/hub/oauth_callback?")
    return s, s.get(callback, timeout=30)


def test_institution_user_logs_in_and_the_service_knows_them(hub, oidc_provider):
    oidc_provider.set_user(
        "alice", {"idp": IDP, "eppn": "alice@example.edu", "email": "alice@example.edu"}
    )
    session, landing = oidc_login(hub, oidc_provider, "alice")
    assert landing.status_code == 200
    assert landing.url.startswith(f"http://127.0.0.1:{hub.port}/hub/")
    page = session.get(hub.service_url(), timeout=30)  # OAuth with the hub, then the page
    assert page.status_code == 200
    health = session.get(hub.service_url("api/health"), timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["user"]["name"] == "alice"


def test_user_from_another_domain_is_refused(hub, oidc_provider):
    oidc_provider.set_user(
        "eve", {"idp": IDP, "eppn": "eve@elsewhere.org", "email": "eve@elsewhere.org"}
    )
    _, landing = oidc_login(hub, oidc_provider, "eve")
    assert landing.status_code == 403


def test_unconfigured_identity_provider_is_refused(hub, oidc_provider):
    oidc_provider.set_user(
        "mallory", {"idp": "https://idp.other.org/shibboleth", "eppn": "mallory@example.edu"}
    )
    _, landing = oidc_login(hub, oidc_provider, "mallory")
    assert landing.status_code == 403
