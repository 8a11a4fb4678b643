"""The CILogon snippet on Zero to JupyterHub's own hub script: a real login, as users see it.

Values: the chart's defaults, helm-snippets/hub-extensions.values.yaml, then
helm-snippets/cilogon-presets.values.yaml, then an admin's config.yaml, merged as Helm merges
them in the documented order. The admin's file only points the authenticator at the `oidc`
tier's TLS provider (oidc-provider-mock on CILogon's paths, tests/infra/oidc.py): its host,
its CA, this hub's callback URL, no IdP-list download; the snippet's presets and users are
kept. The hub runs the chart's jupyterhub_config.py and z2jh.py (tests/infra/z2jh.py), with
tornado's curl client as the chart configures it.

Not covered: CILogon itself (its IdP selection page and real institutions), and the chart
image's own oauthenticator (this venv's; tests/test_z2jh_images.py resolves the image's).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import need
from .infra.common import ROOT
from .infra.z2jh import ChartHub, chart_values, deep_merge, load_yaml

pytestmark = pytest.mark.oidc

SNIPPETS = ROOT / "helm-snippets"
INSTITUTION = "https://idp.example.edu/idp/shibboleth"  # the snippet's institution entry


def institution_user(user: str) -> dict:
    eppn = f"{user}@example.edu"
    return {"idp": INSTITUTION, "idp_name": "Example University", "eppn": eppn, "email": eppn}


@pytest.fixture(scope="module")
def hub(oidc_provider, tmp_path_factory):
    def make() -> ChartHub:
        main = load_yaml(SNIPPETS / "hub-extensions.values.yaml")
        cilogon = load_yaml(SNIPPETS / "cilogon-presets.values.yaml")
        return ChartHub(tmp_path_factory.mktemp("z2jh-cilogon"), chart_values(main, cilogon))

    chart_hub = need(make)
    admin = {  # the admin's config.yaml, last
        "hub": {
            "config": {
                "CILogonPresetsAuthenticator": {
                    "client_secret": "hub-secret",
                    "oauth_callback_url": f"{chart_hub.url}hub/oauth_callback",
                    "cilogon_host": oidc_provider.host,
                    "http_request_kwargs": {"ca_certs": str(oidc_provider.ca_file)},
                    "idp_list_refresh_interval": 0,  # no internet: no CILogon IdP list
                }
            }
        }
    }
    chart_hub.values = deep_merge(chart_hub.values, admin)
    try:
        need(chart_hub.launch)
        chart_hub.wait_ready(90)
        yield chart_hub
    finally:
        chart_hub.stop()


def login(hub: ChartHub, provider, sub: str, claims: dict):
    sub = f"z2jh-{sub}"  # the provider is shared with other modules
    provider.set_user(sub, claims)
    s = provider.session()  # trusts the provider's CA
    r = s.get(hub.hub_url("oauth_login"), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[-2000:]
    location = r.headers["Location"]
    assert location.startswith(f"{provider.url}/authorize?"), location
    callback = provider.complete_authorization(s, location, sub)
    assert callback.startswith(f"{hub.url}hub/oauth_callback?"), callback
    return s, location, s.get(callback, timeout=30)


def whoami(hub: ChartHub, session) -> dict:
    session.get(hub.hub_url("home"), timeout=10).raise_for_status()
    xsrf = {"X-XSRFToken": session.cookies.get("_xsrf", path=None) or ""}
    r = session.get(hub.hub_url("api/user"), headers=xsrf, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_login_redirects_to_the_provider_with_the_presets_idps(hub, oidc_provider):
    s = oidc_provider.session()
    r = s.get(hub.hub_url("oauth_login"), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[-2000:]  # not the 500 of oauthenticator 17.3
    query = parse_qs(urlsplit(r.headers["Location"]).query)
    # the institution is the default, first in CILogon's selection; then google and orcid
    assert query["selected_idp"][0].split(",")[0] == INSTITUTION
    assert query["redirect_uri"] == [f"{hub.url}hub/oauth_callback"]
    assert "org.cilogon.userinfo" in query["scope"][0].split()


def test_an_institution_user_logs_in_with_the_domain_stripped(hub, oidc_provider):
    session, _, landing = login(hub, oidc_provider, "ada", institution_user("ada"))
    assert landing.status_code == 200, landing.text[-2000:]
    assert whoami(hub, session)["name"] == "ada"
    assert whoami(hub, session)["admin"] is False


def test_the_snippets_admin_logs_in_as_admin(hub, oidc_provider):
    session, _, landing = login(hub, oidc_provider, "prof", institution_user("prof"))
    assert landing.status_code == 200, landing.text[-2000:]
    me = whoami(hub, session)
    assert (me["name"], me["admin"]) == ("prof", True)


def test_another_institution_is_refused_with_a_message(hub, oidc_provider):
    claims = {**institution_user("eve"), "idp": "https://idp.other.org/idp/shibboleth"}
    claims["idp_name"] = "Other Org"
    _, _, landing = login(hub, oidc_provider, "eve", claims)
    assert landing.status_code == 403
    assert "Other Org" in landing.text


def test_a_logged_in_user_reaches_the_service(hub, oidc_provider):
    session, _, _ = login(hub, oidc_provider, "bea", institution_user("bea"))
    page = session.get(hub.service_url(), timeout=30)  # the service's own OAuth with the hub
    assert page.status_code == 200, page.text[-2000:]
    health = session.get(hub.service_url("api/health"), timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["user"]["name"] == "bea"
