"""Migrate on real hubs: the source config and migrate's output, each on a real hub, same logins.

For a sample of the corpus (tests/data/cilogon_configs): one hub runs oauthenticator's
CILogonOAuthenticator with the source config, one runs CILogonPresetsAuthenticator with what
`cilogon migrate` printed; every identity of the config logs in through the TLS OIDC provider
on both. Each gets the same username and admin flag, or the same refusal, on both hubs unless
the migration report names the difference; no login answers 500. The full corpus is compared
in-process (test_cilogon_migrate_corpus.py); this checks that comparison against real logins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub_extensions.auth.render import load_config_file

from .infra.hub import DemoHub
from .test_cilogon_login import login, whoami
from .test_cilogon_migrate_corpus import CORPUS, identities, migrated_config, normalised

pytestmark = pytest.mark.oidc

#: institution + Google staff without prefixes; stripped names next to GitHub logins (renamed)
SAMPLE = [p for p in CORPUS if p.name[:2] in ("01", "04")]


def start(make_hub, tmp: Path, provider, body: str) -> DemoHub:
    def config(demo: DemoHub) -> str:  # the callback URL names the hub's port
        return (
            body
            + f"""
c.Authenticator.allow_all = False
c.CILogonOAuthenticator.cilogon_host = {provider.host!r}
c.CILogonOAuthenticator.http_request_kwargs = {{"ca_certs": {str(provider.ca_file)!r}}}
c.CILogonOAuthenticator.client_id = "hub-client"
c.CILogonOAuthenticator.client_secret = "hub-secret"
c.CILogonOAuthenticator.oauth_callback_url = "http://127.0.0.1:{demo.port}/hub/oauth_callback"
c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0
"""
        )

    return make_hub(tmp, config=config, wait=False)  # both hubs of a test start side by side


def outcome(hub: DemoHub, provider, sub: str, claims: dict) -> tuple:
    session, landing = login(hub, provider, sub, claims)
    if landing.status_code != 200:
        return ("refused", landing.status_code)
    me = whoami(hub, session)
    return (me["name"], me["admin"])


@pytest.mark.parametrize("path", SAMPLE, ids=[p.stem for p in SAMPLE])
def test_real_logins_get_the_same_names_and_admin_flags_before_and_after(
    path, oidc_provider, make_hub, tmp_path
):
    _, text, _ = migrated_config(path)
    report = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    header = "c = get_config()  # noqa\n"
    raw = start(make_hub, tmp_path / "source", oidc_provider, header + path.read_text())
    migrated = start(make_hub, tmp_path / "migrated", oidc_provider, header + text)
    try:
        raw.wait_ready()
        migrated.wait_ready()
        compared = 0
        for i, (label, claims) in enumerate(identities(normalised(load_config_file(path)))):
            sub = f"migrate-{path.name[:2]}-{i}"
            before = outcome(raw, oidc_provider, sub, claims)
            after = outcome(migrated, oidc_provider, sub, claims)
            assert after[1] != 500, (label, after)
            compared += 1
            if before != after:
                words = {str(before[0]), str(after[0]), claims.get("email", "")} - {"refused", ""}
                assert any(w in report for w in words), (label, before, after, report)
        assert compared >= 6
    finally:
        raw.stop()
        migrated.stop()
