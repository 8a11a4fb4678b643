"""`hub-extensions cilogon render | migrate | refresh-idps` as an admin runs them."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config

from hub_extensions.auth.idp_snapshot import load_snapshot
from hub_extensions.auth.presets import compile_providers
from hub_extensions.cli_cilogon import add_cilogon_parser

pytestmark = pytest.mark.unit

GITHUB = "http://github.com/login/oauth/authorize"
GOOGLE = "http://google.com/accounts/o8/id"
UNI = "https://idp.uni.edu/idp/shibboleth"
PROVIDERS = [
    {"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"], "default": True},
    {"preset": "google", "domains": ["uni.edu"]},
    {"preset": "github"},
    {"preset": "orcid"},
]
YAML_HEAD = "# CILogon presets compiled, as Zero to JupyterHub values"


def cilogon(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
    return subprocess.run(
        [sys.executable, "-m", "hub_extensions.cli_cilogon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "jupyterhub_config.py"
    path.write_text("c = get_config()  # noqa: F821\n" + body)
    return path


ADMINS = ("github:octocat", "alice", "orcid:0000-0002-1825-0097")


def presets_file(tmp_path: Path, providers=PROVIDERS, admins=ADMINS) -> Path:
    return write_config(
        tmp_path,
        'c.JupyterHub.authenticator_class = "hub_extensions.auth.cilogon.'
        'CILogonPresetsAuthenticator"\n'
        f"c.CILogonPresetsAuthenticator.providers = {providers!r}\n"
        f"c.Authenticator.admin_users = {set(admins)!r}\n",
    )


def test_render_prints_python_and_z2jh_yaml_that_mean_the_same(tmp_path):
    result = cilogon("render", str(presets_file(tmp_path)))
    assert result.returncode == 0, result.stderr
    python, head, values = result.stdout.partition(YAML_HEAD)
    expected = compile_providers(PROVIDERS, admin_users=set(ADMINS)).idps

    c = Config()
    exec(python, {"c": c})  # noqa: S102 - the rendered review output is Python
    assert c.CILogonOAuthenticator.idps == expected
    assert c.CILogonOAuthenticator.scope == ["openid", "email", "profile", "org.cilogon.userinfo"]
    assert c.Authenticator.admin_users == set(ADMINS)

    hub_config = yaml.safe_load(head + values)["hub"]["config"]
    assert hub_config["CILogonOAuthenticator"]["idps"] == expected
    assert hub_config["Authenticator"]["admin_users"] == sorted(ADMINS)
    assert "usernames 'github:<login>'" in python
    assert "orcid:http://orcid.org/<iD>" in python  # why plain CILogonOAuthenticator won't do
    assert "note: CILogon's IdP list" in result.stderr  # no current list: one note, no warning
    assert "warning:" not in result.stderr


def test_render_lists_every_problem_without_a_traceback(tmp_path):
    bad = [{"preset": "institution", "entity_id": "https://github.com/login/oauth/authorize"}]
    result = cilogon("render", str(presets_file(tmp_path, providers=bad, admins=["octocat"])))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("hub-extensions cilogon render: invalid CILogon presets in ")
    assert lines[1].startswith("  - CILogonPresetsAuthenticator.providers[0].entity_id: ")
    assert f"Did you mean '{GITHUB}'?" in lines[1]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_render_a_missing_or_broken_file(tmp_path):
    missing = cilogon("render", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith("nope.py does not exist")
    broken = cilogon("render", str(write_config(tmp_path, "raise RuntimeError('boom')\n")))
    assert broken.returncode == 2
    assert "cannot load" in broken.stderr
    assert "boom" in broken.stderr
    assert "Traceback" not in broken.stderr


OAUTHENTICATOR_EXAMPLE = """
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idpz.utorauth.utoronto.ca/shibboleth": {
        "username_derivation": {
            "username_claim": "email", "action": "strip_idp_domain", "domain": "utoronto.ca",
        },
        "allowed_domains": ["utoronto.ca"],
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "google"},
        "allowed_domains": ["uni.edu", "something.org"],
    },
    "https://github.com/login/oauth/authorize": {
        "username_derivation": {
            "username_claim": "preferred_username", "action": "prefix", "prefix": "github",
        },
    },
}
c.Authenticator.admin_users = {"github:github-user1"}
"""


def run_migration(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess, Config]:
    result = cilogon("migrate", str(write_config(tmp_path, body)))
    c = Config()
    exec(result.stdout, {"c": c})  # noqa: S102 - the migration is printed as Python
    return result, c


def test_migrate_turns_idps_into_presets_and_says_what_changed(tmp_path):
    result, c = run_migration(tmp_path, OAUTHENTICATOR_EXAMPLE)
    assert result.returncode == 0, result.stdout
    assert c.JupyterHub.authenticator_class == "cilogon-presets"
    providers = c.CILogonPresetsAuthenticator.providers
    assert providers == [
        {
            "preset": "institution",
            "entity_id": "https://idpz.utorauth.utoronto.ca/shibboleth",
            "claim": "email",
            "domains": ["utoronto.ca"],
            "default": True,
        },
        {"preset": "google", "domains": ["something.org", "uni.edu"]},
        {"preset": "github"},
    ]
    compile_providers(providers, admin_users={"github:github-user1"})
    assert "# - https://github.com/login/oauth/authorize: not a CILogon entity ID" in result.stdout


def test_migrate_explains_what_it_cannot_express(tmp_path):
    body = """
c.CILogonOAuthenticator.idps = {
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"}, "allow_all": True,
    },
    "https://idp.uni.edu/idp/shibboleth": {
        "username_derivation": {"username_claim": "given_name"}, "allow_all": True,
    },
    "https://idp.b.edu/idp": {"username_derivation": {"username_claim": "eppn"}},
}
"""
    result, c = run_migration(tmp_path, body)
    assert result.returncode == 1
    assert (
        "http://google.com/accounts/o8/id: allow_all admitted every Google account; kept as "
        in (result.stdout)
    )
    assert "https://idp.uni.edu/idp/shibboleth: not migrated: usernames come from 'given_name'" in (
        result.stdout
    )
    assert "https://idp.b.edu/idp: dropped: it admitted only listed users and none has its " in (
        result.stdout
    )
    assert c.CILogonPresetsAuthenticator.providers == [
        {
            "preset": "google",
            "prefix": False,
            "domains": ["*"],
            "allow_wildcard_domains": True,
            "default": True,
        }
    ]


def test_migrate_keeps_unprefixed_social_names_with_prefix_false(tmp_path):
    body = """
c.CILogonOAuthenticator.idps = {
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {"username_claim": "preferred_username"}, "allow_all": True,
    },
}
"""
    result, c = run_migration(tmp_path, body)
    assert result.returncode == 0, result.stdout
    assert c.CILogonPresetsAuthenticator.providers == [
        {"preset": "github", "prefix": False, "allow_all": True}
    ]
    assert "# Usernames: everyone keeps their name." in result.stdout


def test_migrate_without_idps_says_so(tmp_path):
    result = cilogon("migrate", str(write_config(tmp_path, "")))
    assert result.returncode == 1
    assert "no CILogonOAuthenticator.idps or allowed_idps to migrate" in result.stdout


class FakeIdpList(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def idp_list_server() -> Iterator[tuple[str, type[FakeIdpList]]]:
    handler = type("Handler", (FakeIdpList,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/idplist/", handler
    server.shutdown()
    server.server_close()


def test_refresh_idps_writes_the_snapshot(tmp_path, idp_list_server):
    url, handler = idp_list_server
    handler.body = json.dumps(
        [
            {"EntityID": UNI, "DisplayName": "Uni", "OrganizationName": "Uni", "RandS": True},
            {"EntityID": GITHUB, "DisplayName": "GitHub"},
        ]
    ).encode()
    output = tmp_path / "idps.json"
    result = cilogon("refresh-idps", "--url", url, "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 2 identity providers from {url} to {output}"
    data = json.loads(output.read_text())
    assert data["source"] == url
    assert data["idps"] == [
        {"EntityID": GITHUB, "DisplayName": "GitHub", "social": True},
        {"EntityID": UNI, "DisplayName": "Uni"},
    ]
    snapshot = load_snapshot(output)
    assert snapshot.entity_ids == {UNI, GITHUB}
    assert snapshot.describe().startswith(f"2 entries, fetched {data['fetched'][:10]} ")
    assert snapshot.is_current()


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html>", "the IdP list is not JSON"), (b'[{"Name": "x"}]', "entry 0 of the IdP list")],
)
def test_refresh_idps_refuses_a_list_it_cannot_read(tmp_path, idp_list_server, body, message):
    url, handler = idp_list_server
    handler.body = body
    output = tmp_path / "idps.json"
    result = cilogon("refresh-idps", "--url", url, "--output", str(output))
    assert result.returncode == 1
    assert result.stderr.startswith("hub-extensions cilogon refresh-idps: ")
    assert message in result.stderr
    assert not output.exists()


def test_the_bundled_snapshot_is_a_labelled_placeholder():
    snapshot = load_snapshot()
    assert snapshot.fetched is None
    assert "placeholder" in snapshot.source
    assert GOOGLE in snapshot.entity_ids
    assert len(snapshot.entity_ids) == 4


def test_the_subcommands_plug_into_the_main_parser():
    parser = argparse.ArgumentParser(prog="hub-extensions")
    add_cilogon_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cilogon", "render", "jupyterhub_config.py"])
    assert (args.command, args.cilogon_command, args.file) == (
        "cilogon",
        "render",
        "jupyterhub_config.py",
    )
    args = parser.parse_args(["cilogon", "refresh-idps"])
    assert (args.url, args.output, args.config) == (None, None, None)


CORPUS = Path(__file__).parent / "data" / "cilogon_configs"


def test_migrate_prints_warnings_carries_wildcards_and_names_the_one_default(tmp_path):
    defaults, _ = run_migration(tmp_path, (CORPUS / "16_several_defaults.py").read_text())
    assert defaults.returncode == 0, defaults.stdout
    assert "# default: urn:mace:incommon:uci.edu: the first of the 3 marked default: True" in (
        defaults.stdout
    )
    assert defaults.stdout.count("'default': True") == 1
    _, c = run_migration(
        tmp_path, (CORPUS / "12_institution_wildcard_domains_google_staff.py").read_text()
    )
    assert c.CILogonPresetsAuthenticator.providers[0]["allow_wildcard_domains"] is True
    typo = OAUTHENTICATOR_EXAMPLE.replace(
        "https://idpz.utorauth.utoronto.ca/shibboleth", "urn:mace:incommon:utoronto.ed"
    )
    warned, _ = run_migration(tmp_path, typo)
    assert "# Warnings and notes the hub will log at start:" in warned.stdout
    assert "Did you mean 'urn:mace:incommon:utoronto.edu'?" in warned.stdout
