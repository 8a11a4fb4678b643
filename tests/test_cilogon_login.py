"""Real logins through CILogonPresetsAuthenticator, one per preset, as a user sees them.

The OIDC provider is oidc-provider-mock over TLS on 127.0.0.1 answering on CILogon's paths
(tests/infra/oidc.py); its users carry CILogon-shaped claims (idp, idp_name, eppn, oidc, email,
preferred_username). The hub is the demo (JupyterHub + proxy + service) with the presets.
"""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .infra.common import wait_until
from .infra.hub import NO_TRACEBACK, DemoHub, marked_processes

pytestmark = pytest.mark.oidc

AUTHENTICATOR = "cilogon-presets"  # the entry point
INSTITUTION = "https://idp.example.edu/idp/shibboleth"
GITHUB = "http://github.com/login/oauth/authorize"
GOOGLE = "http://google.com/accounts/o8/id"
MICROSOFT = "http://login.microsoftonline.com/common/oauth2/v2.0/authorize"
ORCID = "http://orcid.org/oauth/authorize"

ALL_PRESETS = [
    {
        "preset": "institution",
        "entity_id": INSTITUTION,
        "domains": ["example.edu"],
        "default": True,
    },
    {"preset": "google", "domains": ["example.edu", "example.org"]},
    {"preset": "microsoft", "domains": ["example.org"]},
    {"preset": "github", "allow_all": True},
    {"preset": "orcid", "allow_all": True},
]
ADMINS = [
    "prof",
    "google:gadmin@example.org",
    "microsoft:madmin@example.org",
    "github:octoadmin",
    "orcid:0000-0001-5109-3700",
]


# ------------------------------------------------------------------ CILogon-shaped users
def institution(user: str, domain: str = "example.edu", idp: str = INSTITUTION) -> dict:
    eppn = f"{user}@{domain}"
    return {"idp": idp, "idp_name": "Example University", "eppn": eppn, "email": eppn}


def google(email: str) -> dict:
    return {"idp": GOOGLE, "idp_name": "Google", "email": email, "oidc": "106198179643554287195"}


def microsoft(email: str) -> dict:
    return {"idp": MICROSOFT, "idp_name": "Microsoft", "email": email, "oidc": "AAAAAAAAAAAA"}


def github(login: str) -> dict:
    email = f"{login}@users.noreply.github.com"
    return {
        "idp": GITHUB,
        "idp_name": "GitHub",
        "preferred_username": login,
        "email": email,
        "oidc": "583231",
    }


def orcid(orcid_id: str) -> dict:
    return {"idp": ORCID, "idp_name": "ORCID", "oidc": f"http://orcid.org/{orcid_id}"}


# ------------------------------------------------------------------ hubs and logins
# ------------------------------------------------------------------ CILogon's IdP list, served here
IDP_LIST = [  # the shape of https://cilogon.org/idplist/ (more keys per entry there)
    {"EntityID": INSTITUTION, "OrganizationName": "Example U", "DisplayName": "Example University"},
    {"EntityID": "https://idp.other.org/idp/shibboleth", "DisplayName": "Other Org"},
    {"EntityID": GITHUB, "DisplayName": "GitHub"},
    {"EntityID": GOOGLE, "DisplayName": "Google"},
]


class _IdpList(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(IDP_LIST).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def idp_list_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IdpList)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/idplist/"
    server.shutdown()
    server.server_close()


def start_hub(
    make,
    tmp,
    provider,
    providers,
    admins=(),
    allowed=(),
    shared_namespace=None,
    idp_list_url=None,
    extra=(),
    wait=True,
) -> DemoHub:
    """A hub of its own from `make` (make_hub, or hub_factory.new for a module's hub)."""
    loopback = {"no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}

    def config(demo: DemoHub) -> str:  # the callback URL names the hub's port
        lines = [
            f"c.JupyterHub.authenticator_class = {AUTHENTICATOR!r}",
            "c.Authenticator.allow_all = False",
            f"c.Authenticator.admin_users = {sorted(admins)!r}",  # replaces the demo's "demo"
            f"c.Authenticator.allowed_users = {sorted(allowed)!r}",
            f"c.CILogonPresetsAuthenticator.providers = {providers!r}",
            'c.CILogonPresetsAuthenticator.client_id = "hub-client"',
            'c.CILogonPresetsAuthenticator.client_secret = "hub-secret"',
            "c.CILogonPresetsAuthenticator.oauth_callback_url = "
            f'"http://127.0.0.1:{demo.port}/hub/oauth_callback"',
            f"c.CILogonPresetsAuthenticator.cilogon_host = {provider.host!r}",
            "c.CILogonPresetsAuthenticator.http_request_kwargs = "
            f"{{'ca_certs': {str(provider.ca_file)!r}}}",
        ]
        if idp_list_url:
            lines.append(f"c.CILogonPresetsAuthenticator.idp_list_url = {idp_list_url!r}")
        else:
            lines.append("c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0")
        lines += extra
        if shared_namespace is not None:
            lines.append(f"c.CILogonPresetsAuthenticator.shared_namespace = {shared_namespace!r}")
        return "\n".join(lines) + "\n"

    return make(tmp, config=config, env=loopback, wait=wait)


@pytest.fixture(scope="module")
def hub(oidc_provider, hub_factory, tmp_path_factory, idp_list_url):
    tmp = tmp_path_factory.mktemp("cilogon-presets-hub")
    demo = start_hub(
        hub_factory.new, tmp, oidc_provider, ALL_PRESETS, admins=ADMINS, idp_list_url=idp_list_url
    )
    yield demo
    demo.begin_stop()


def login(hub, provider, sub: str, claims: dict):
    """Log `sub` (with `claims`) in through the provider; return the session and landing page."""
    sub = f"presets-{sub}"  # the provider is shared with other modules
    provider.set_user(sub, claims)
    s = provider.session()  # trusts the provider's CA; the hub is plain HTTP on loopback
    r = s.get(hub.hub_url("oauth_login"), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith(f"{provider.url}/authorize?")
    callback = provider.complete_authorization(s, r.headers["Location"], sub)
    assert callback.startswith(f"http://127.0.0.1:{hub.port}/hub/oauth_callback?")
    return s, s.get(callback, timeout=30)


def whoami(hub, session) -> dict:
    """The hub's own answer to "who am I" for a browser session (cookies + XSRF header)."""
    session.get(hub.hub_url("home"), timeout=10).raise_for_status()
    r = session.get(hub.hub_url("api/user"), headers=hub.xsrf_headers(session), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def assert_logged_in(hub, session, landing, name: str, admin: bool = False) -> None:
    assert landing.status_code == 200, landing.text[-2000:]
    assert landing.url.startswith(f"http://127.0.0.1:{hub.port}/hub/")  # home or spawn page
    me = whoami(hub, session)
    assert (me["name"], me["admin"]) == (name, admin)


def assert_refused(landing, *phrases: str) -> None:
    assert landing.status_code == 403, landing.text[-2000:]
    assert "403" in landing.text
    for phrase in phrases:
        assert phrase in landing.text, landing.text[-3000:]


# ------------------------------------------------------------------ every preset on one hub
ALLOWED = [  # (provider's subject, claims, the hub's username, admin)
    ("ada", institution("ada"), "ada", False),
    ("prof", institution("prof"), "prof", True),
    ("gus", google("gus@example.org"), "google:gus@example.org", False),
    ("gadmin", google("gadmin@example.org"), "google:gadmin@example.org", True),
    ("mia", microsoft("mia@example.org"), "microsoft:mia@example.org", False),
    ("madmin", microsoft("madmin@example.org"), "microsoft:madmin@example.org", True),
    ("octocat", github("octocat"), "github:octocat", False),
    ("octoadmin", github("octoadmin"), "github:octoadmin", True),
    ("orcid", orcid("0000-0002-1825-0097"), "orcid:0000-0002-1825-0097", False),
    ("orcid-admin", orcid("0000-0001-5109-3700"), "orcid:0000-0001-5109-3700", True),
    ("orcid-x", orcid("0000-0002-9079-593X"), "orcid:0000-0002-9079-593x", False),
]


@pytest.mark.parametrize(("sub", "claims", "name", "admin"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_allowed_user_logs_in_with_the_expected_name(hub, oidc_provider, sub, claims, name, admin):
    session, landing = login(hub, oidc_provider, sub, claims)
    assert_logged_in(hub, session, landing, name, admin)


ONLY = "is not allowed on this hub: only {} may log in".format
REFUSED = [  # (provider's subject, claims, what the 403 page says)
    ("eve", institution("eve", "elsewhere.org"), ONLY("eppn at example.edu")),
    ("eve-google", google("eve@gmail.com"), ONLY("email at example.edu, example.org")),
    ("eve-microsoft-personal", microsoft("eve@outlook.com"), ONLY("email at example.org")),
    ("eve-orcid-bad-id", orcid("0000-0002-1825-00977"), "is not an ORCID iD such as"),
    ("eve-orcid-not-an-id", orcid("eve"), "is not an ORCID iD such as"),
]


@pytest.mark.parametrize(("sub", "claims", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_user_outside_the_rules_is_refused_with_a_message(hub, oidc_provider, sub, claims, message):
    _, landing = login(hub, oidc_provider, sub, claims)
    assert_refused(landing, message)


@pytest.mark.parametrize(
    "idp",
    [
        "https://idp.other.org/idp/shibboleth",  # an institution nobody configured
        "https://github.com/login/oauth/authorize",  # a near miss of the GitHub alias
    ],
)
def test_identity_from_an_unconfigured_idp_is_refused(hub, oidc_provider, idp):
    claims = {**institution("mallory", domain="example.edu"), "idp": idp, "idp_name": "Other"}
    _, landing = login(hub, oidc_provider, "mallory", claims)
    assert_refused(landing, "Other is not one of the logins this hub accepts. Log in again and")
    assert "Google; Microsoft; GitHub; ORCID" in landing.text  # the choices, in a user's words
    assert idp not in landing.text


def test_google_identity_with_the_institutions_email_is_not_the_institutions_user(
    hub, oidc_provider
):
    alice, landing = login(hub, oidc_provider, "alice", institution("alice"))
    assert_logged_in(hub, alice, landing, "alice")
    alice_api = hub.api(hub.token(alice, "alice"))
    hub.spawn(alice_api, "alice")
    try:
        mimic, landing = login(hub, oidc_provider, "alice-google", google("alice@example.edu"))
        assert_logged_in(hub, mimic, landing, "google:alice@example.edu")
        # alice's own server answers her...
        status = alice_api.get(f"http://127.0.0.1:{hub.port}/user/alice/api/status", timeout=10)
        assert status.status_code == 200, status.text
        # ...but not the Google identity: the hub refuses it the server and alice's record
        page = mimic.get(f"http://127.0.0.1:{hub.port}/user/alice/", timeout=30)
        assert page.status_code == 403, page.url
        record = mimic.get(
            hub.hub_url("api/users/alice"), headers=hub.xsrf_headers(mimic), timeout=10
        )
        assert record.status_code in (403, 404)
    finally:
        hub.stop_server(alice_api, "alice")


def test_the_service_knows_an_orcid_user_by_the_bare_id(hub, oidc_provider):
    session, _ = login(hub, oidc_provider, "orcid-service", orcid("0000-0003-1415-9269"))
    assert session.get(hub.service_url(), timeout=30).status_code == 200  # OAuth with the hub
    health = session.get(hub.service_url("api/health"), timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["user"] == {"name": "orcid:0000-0003-1415-9269", "admin": False}


MISSING = "did not pass {} to CILogon, and this hub names accounts by it.".format
NO_IDP = "CILogon did not say which identity provider you logged in with"
BROKEN_CLAIMS = [  # (provider's subject, claims, what the 403 page says): never a 500
    ("no-idp", {"eppn": "ada@example.edu", "email": "ada@example.edu"}, NO_IDP),
    ("empty-idp", {"idp": "", "eppn": "ada@example.edu"}, NO_IDP),
    ("github-no-login", {**github("x"), "preferred_username": ""}, MISSING("your GitHub username")),
    (
        "orcid-no-oidc",
        {"idp": ORCID, "idp_name": "ORCID"},
        MISSING("your account identifier (for ORCID, your iD)"),
    ),
    (
        "institution-no-eppn",
        {"idp": INSTITUTION, "idp_name": "Example University", "email": "ada@example.edu"},
        MISSING("your institutional username (eduPersonPrincipalName)"),
    ),
    ("google-no-email", {"idp": GOOGLE, "idp_name": "Google"}, MISSING("your email address")),
]


@pytest.mark.parametrize(
    ("sub", "claims", "message"), BROKEN_CLAIMS, ids=[b[0] for b in BROKEN_CLAIMS]
)
def test_a_login_missing_a_claim_is_a_403_saying_what_to_do(
    hub, oidc_provider, sub, claims, message
):
    _, landing = login(hub, oidc_provider, sub, claims)
    assert_refused(landing, message)
    assert "dict_keys" not in landing.text


def test_the_hub_refreshes_the_idp_list_into_its_data_directory(hub):
    cached = hub.state / "cilogon-idps.json"
    wait_until(cached.exists, 30, "the hub's copy of the IdP list")
    data = json.loads(cached.read_text())
    assert {e["EntityID"] for e in data["idps"]} == {e["EntityID"] for e in IDP_LIST}
    assert "CILogon's IdP list refreshed from" in hub.log()


# ------------------------------------------------------------------ small hubs
@pytest.fixture(scope="module")
def staff_hub(oidc_provider, hub_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cilogon-staff-hub")
    providers = [{"preset": "staff_only", "provider": "github"}]
    demo = start_hub(
        hub_factory.new,
        tmp,
        oidc_provider,
        providers,
        admins=["github:octoadmin"],
        allowed=["github:helper"],
    )
    yield demo
    demo.begin_stop()


def test_staff_only_admits_the_listed_staff_and_nobody_else(staff_hub, oidc_provider):
    session, landing = login(staff_hub, oidc_provider, "staff-admin", github("octoadmin"))
    assert_logged_in(staff_hub, session, landing, "github:octoadmin", admin=True)
    session, landing = login(staff_hub, oidc_provider, "staff-helper", github("helper"))
    assert_logged_in(staff_hub, session, landing, "github:helper")
    _, landing = login(staff_hub, oidc_provider, "staff-stranger", github("octocat"))
    assert_refused(landing, ONLY("users listed by the hub administrator"))
    _, landing = login(staff_hub, oidc_provider, "staff-institution", institution("ada"))
    assert_refused(
        landing,
        "is not one of the logins this hub accepts. Log in again and choose one of: GitHub.",
    )


def test_shared_names_institution_by_email_and_google_staff(oidc_provider, make_hub, tmp_path):
    """The common real pattern: full institution addresses, Google staff under their address."""
    providers = [
        {
            "preset": "institution",
            "entity_id": INSTITUTION,
            "claim": "email",
            "domains": ["example.edu"],
            "strip_domain": False,
            "default": True,
        },
        {"preset": "staff_only", "provider": "google"},
    ]
    admins = ["staff@2i2c.org", "prof@example.edu"]
    # users added on the admin page log in again: existing users are admitted
    existing = ["c.CILogonPresetsAuthenticator.allow_existing_users = True"]
    demo = start_hub(
        make_hub, tmp_path, oidc_provider, providers, admins, shared_namespace=True, extra=existing
    )
    try:
        session, landing = login(demo, oidc_provider, "shared-staff", google("staff@2i2c.org"))
        assert_logged_in(demo, session, landing, "staff@2i2c.org", admin=True)
        session, landing = login(demo, oidc_provider, "shared-ada", institution("ada"))
        assert_logged_in(demo, session, landing, "ada@example.edu")
        # a Google account carrying the institution's listed admin address is not that admin
        _, landing = login(demo, oidc_provider, "shared-mimic", google("prof@example.edu"))
        assert_refused(
            landing,
            "The account prof@example.edu belongs to users of the example.edu login, not Google.",
        )
        # ...nor ada, now an existing user that JupyterHub would admit again
        _, landing = login(demo, oidc_provider, "shared-ada-google", google("ada@example.edu"))
        assert_refused(landing, "The account ada@example.edu belongs to users of the example.edu")
    finally:
        demo.stop()


# ------------------------------------------------------------------ a bad config never starts
def test_invalid_presets_stop_the_hub_with_every_problem_and_its_fix(
    oidc_provider, make_hub, tmp_path
):
    providers = [
        {"preset": "institution", "entity_id": "https://github.com/login/oauth/authorize"},
        {"preset": "google"},
        {"preset": "microsoft", "domains": ["Example.org"], "colour": "blue"},
    ]
    demo = start_hub(make_hub, tmp_path, oidc_provider, providers, wait=False)
    try:
        code = demo.proc.proc.wait(60)
    except subprocess.TimeoutExpired:
        demo.stop()
        pytest.fail("the hub started with invalid presets")
    log = demo.log()
    demo.proc.stop()
    assert code != 0
    assert "hub-extensions: invalid configuration, the hub will not start:" in log
    root = "CILogonPresetsAuthenticator.providers"
    for line in [
        f"{root}[0].entity_id: 'https://github.com/login/oauth/authorize' is not a CILogon "
        "entity ID. Did you mean 'http://github.com/login/oauth/authorize'?",
        f"{root}[1].domains: required by preset 'google'.",
        f"{root}[2].colour: unknown key for preset 'microsoft'.",
        f"{root}[2].domains[0]: 'Example.org' is not lowercase. Write it as 'example.org'.",
        f"{root}: none of the 3 providers has default: True.",
    ]:
        assert line in log
    assert "JupyterHub is now running" not in log
    assert not NO_TRACEBACK.search(log), "a traceback instead of the list of problems"
    assert marked_processes(demo.run_id) == []
