"""The start check refuses lock-outs and hidden collisions; CILogon's IdP list refreshes itself.

Lock-outs and collisions: compile_providers, what hub_extensions.setup(c) and the authenticator
run at start. The IdP list: the real refresher in an event loop, against a local HTTP server
serving a list in CILogon's format (cilogon.org itself is never contacted).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tornado import web
from traitlets.config import Config

from hub_extensions.auth.idp_snapshot import load_idp_list
from hub_extensions.auth.presets import PresetConfigError, check_cilogon_presets, compile_providers

# hub_extensions.auth.cilogon (oauthenticator, which imports jsonschema and compiles its format
# grammars: over a second of every collection of the suite) is imported where it is used.

pytestmark = pytest.mark.unit

ROOT = "CILogonPresetsAuthenticator.providers"
UCMERCED = "urn:mace:incommon:ucmerced.edu"


def presets_authenticator(c: Config):
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    return CILogonPresetsAuthenticator(config=c)


def problems(providers, **kwargs) -> list[str]:
    with pytest.raises(PresetConfigError) as info:
        compile_providers(providers, **kwargs)
    return info.value.problems


# ------------------------------------------------------------------ the three repros of #15
def test_an_admin_only_a_provider_excluded_by_its_domains_could_be_is_refused():
    providers = [
        {
            "preset": "institution",
            "entity_id": UCMERCED,
            "domains": ["ucmerced.edu"],
            "default": True,
        },
        {"preset": "staff_only", "provider": "google"},
    ]
    found = problems(providers, admin_users={"staff@2i2c.org"})
    assert found[0].startswith("Authenticator.admin_users: 'staff@2i2c.org' is a username no ")
    # the did-you-mean names a provider that can produce it, not the first one
    assert f"Did you mean 'google:staff@2i2c.org' (from {ROOT}[1])?" in found[0]
    assert found[1].startswith(f"{ROOT}[1]: admits only Authenticator.admin_users and allowed_")
    assert len(found) == 2


def test_staff_only_that_nobody_can_log_in_through_is_refused():
    providers = [
        {
            "preset": "institution",
            "entity_id": UCMERCED,
            "domains": ["ucmerced.edu"],
            "default": True,
        },
        {"preset": "staff_only", "provider": "google"},
    ]
    (found,) = problems(providers, admin_users={"prof"})  # an institution admin only
    assert "nobody can log in through it" in found
    compile_providers(providers, admin_users={"prof", "google:staff@2i2c.org"})


def test_a_listed_user_two_providers_can_produce_is_a_collision_despite_disjoint_domains():
    providers = [
        {"preset": "google", "domains": ["a.edu"], "default": True},
        {"preset": "microsoft", "domains": ["b.edu"]},
    ]
    # outside both domains, either provider could be this listed user: refused at start
    (found,) = problems(providers, admin_users={"guest@c.org"}, shared_namespace=True)
    assert found.startswith(
        f"Authenticator.admin_users: 'guest@c.org' can come from {ROOT}[0] ('<email>') and "
        f"{ROOT}[1] ('<email>'). Listed users bypass the domain rules"
    )
    compile_providers(providers, admin_users={"google:guest@c.org"})  # prefixed: no collision


def test_a_listed_address_of_another_providers_domain_is_refused_at_login():
    """boss@a.edu belongs to Google's users (a.edu is its domain): the start check lets the
    config through because the login refuses a Microsoft account carrying that address."""
    c = Config()
    c.CILogonPresetsAuthenticator.providers = [
        {"preset": "google", "domains": ["a.edu"], "default": True},
        {"preset": "microsoft", "domains": ["b.edu"]},
    ]
    c.CILogonPresetsAuthenticator.shared_namespace = True
    c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0
    c.Authenticator.admin_users = {"boss@a.edu"}
    auth = presets_authenticator(c)

    def login(idp):
        user = {"idp": idp, "idp_name": "X", "email": "boss@a.edu"}
        model = {"name": "boss@a.edu", "admin": True, "auth_state": {"cilogon_user": user}}
        return asyncio.run(auth.check_allowed("boss@a.edu", model))

    assert login("http://google.com/accounts/o8/id") is True
    with pytest.raises(web.HTTPError) as refused:
        login("http://login.microsoftonline.com/common/oauth2/v2.0/authorize")
    assert refused.value.status_code == 403
    assert "The account boss@a.edu belongs to users of Google, not Microsoft" in str(refused.value)


def test_an_unreachable_allowed_user_is_an_error_too():
    providers = [{"preset": "institution", "entity_id": UCMERCED, "domains": ["ucmerced.edu"]}]
    (found,) = problems(providers, allowed_users={"alice@ucmerced.edu"})
    assert found.startswith("Authenticator.allowed_users: 'alice@ucmerced.edu' is a username no")
    assert f"Did you mean 'alice' (from {ROOT}[0])?" in found


def test_the_check_at_start_reports_them():
    c = Config()
    c.JupyterHub.authenticator_class = "cilogon-presets"
    c.CILogonPresetsAuthenticator.providers = [
        {
            "preset": "institution",
            "entity_id": UCMERCED,
            "domains": ["ucmerced.edu"],
            "default": True,
        },
        {"preset": "staff_only", "provider": "google"},
    ]
    c.Authenticator.admin_users = {"staff@2i2c.org"}
    assert len(check_cilogon_presets(c)) == 2


# ------------------------------------------------------------------ entity-ID shapes, no list
@pytest.mark.parametrize(
    ("entity_id", "right"),
    [
        ("urn:mace:incommon:ucmerced.ed", "urn:mace:incommon:ucmerced.edu"),
        ("urn:mace:incomon:ucmerced.edu", "urn:mace:incommon:ucmerced.edu"),
        ("urn:mace:InCommon:ucmerced.edu", "urn:mace:incommon:ucmerced.edu"),
    ],
)
def test_incommon_near_misses_are_warned_without_a_list(entity_id, right):
    compiled = compile_providers([{"preset": "institution", "entity_id": entity_id}])
    (warning,) = compiled.warnings
    assert f"Did you mean {right!r}?" in warning


def test_the_same_idp_with_another_scheme_or_slash_is_refused():
    found = problems(
        [
            {"preset": "institution", "entity_id": "https://idp.a.edu/idp", "default": True},
            {"preset": "institution", "entity_id": "http://idp.a.edu/idp/", "prefix": "a2"},
        ]
    )
    assert found == [
        f"{ROOT}[1]: the same identity provider as {ROOT}[0] (https://idp.a.edu/idp). "
        "Keep one entry per identity provider."
    ]


# ------------------------------------------------------------------ the IdP list
IDP_LIST = [
    {"EntityID": UCMERCED, "OrganizationName": "UC Merced", "DisplayName": "UC Merced"},
    {"EntityID": "https://idp.a.edu/idp/shibboleth", "DisplayName": "A University"},
    {"EntityID": "urn:mace:incommon:ucsd.edu", "DisplayName": "UC San Diego"},
    {"EntityID": "http://github.com/login/oauth/authorize", "DisplayName": "GitHub"},
]


class _Server(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        body = json.dumps(IDP_LIST).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def idp_list_url(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    handler = type("Handler", (_Server,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/idplist/", handler
    server.shutdown()
    server.server_close()


PROVIDERS = [
    {"preset": "institution", "entity_id": UCMERCED, "domains": ["ucmerced.edu"], "default": True},
    # typo: https instead of http and a missing path part
    {"preset": "institution", "entity_id": "https://idp.a.edu/idp/shibbolet", "prefix": "a"},
]


def test_the_authenticator_refreshes_the_list_in_the_background_and_judges_entity_ids(
    tmp_path, idp_list_url, caplog
):
    url, handler = idp_list_url
    path = tmp_path / "data" / "cilogon-idps.json"
    c = Config()
    c.CILogonPresetsAuthenticator.providers = PROVIDERS
    c.CILogonPresetsAuthenticator.idp_list_path = str(path)
    c.CILogonPresetsAuthenticator.idp_list_url = url
    c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0.2
    caplog.set_level(logging.INFO)

    async def start_and_wait():
        auth = presets_authenticator(c)  # returns at once: nothing fetched yet
        assert not path.exists()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if handler.hits >= 2:
                break
        auth._refresher.stop()
        return auth

    auth = asyncio.run(start_and_wait())
    assert handler.hits >= 2  # at start, then again after the interval
    assert json.loads(path.read_text())["idps"][0]["EntityID"] in {e["EntityID"] for e in IDP_LIST}
    assert "has never been fetched" in caplog.text  # at start: one info line, no warnings
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    typo = [w for w in warnings if "https://idp.a.edu/idp/shibbolet" in w]
    assert typo
    assert "Nearest: 'https://idp.a.edu/idp/shibboleth'" in typo[0]
    assert not [w for w in warnings if f"'{UCMERCED}' is not in" in w]
    assert auth._compiled.labels[UCMERCED] == "UC Merced"  # user-facing names from the list

    # the next start (and the check) judge against the fresh copy right away
    compiled = compile_providers(PROVIDERS, idp_list=load_idp_list(path))
    assert compiled.info == []
    (warning,) = compiled.warnings
    assert warning.startswith(f"{ROOT}[1].entity_id: 'https://idp.a.edu/idp/shibbolet' is not")


def test_a_failed_refresh_is_one_info_line_and_never_blocks(tmp_path, caplog):
    c = Config()
    c.CILogonPresetsAuthenticator.providers = PROVIDERS[:1]
    c.CILogonPresetsAuthenticator.idp_list_path = str(tmp_path / "idps.json")
    c.CILogonPresetsAuthenticator.idp_list_url = "http://127.0.0.1:9/idplist/"  # nothing there
    caplog.set_level(logging.INFO)

    async def start():
        auth = presets_authenticator(c)
        await asyncio.sleep(0.5)
        auth._refresher.stop()

    asyncio.run(start())
    assert "could not refresh CILogon's IdP list from http://127.0.0.1:9/idplist/" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_refresh_idps_writes_where_the_config_points_and_the_check_reads_it(tmp_path, idp_list_url):
    from .test_cilogon_cli import cilogon, write_config

    url, _ = idp_list_url
    path = tmp_path / "hubdata" / "idps.json"
    config = write_config(
        tmp_path,
        'c.JupyterHub.authenticator_class = "cilogon-presets"\n'
        f"c.CILogonPresetsAuthenticator.providers = {PROVIDERS!r}\n"
        f"c.CILogonPresetsAuthenticator.idp_list_path = {str(path)!r}\n"
        f"c.CILogonPresetsAuthenticator.idp_list_url = {url!r}\n",
    )
    result = cilogon("refresh-idps", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 4 identity providers from {url} to {path}"
    rendered = cilogon("render", str(config))
    assert "warning: CILogonPresetsAuthenticator.providers[1].entity_id" in rendered.stderr
    assert "Nearest: 'https://idp.a.edu/idp/shibboleth'" in rendered.stderr
