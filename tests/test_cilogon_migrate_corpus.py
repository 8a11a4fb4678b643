"""`cilogon migrate` over a corpus of real-shaped `allowed_idps` configs (tests/data/cilogon_configs).

For each config: migrate's output passes the start check (`check_config`, what
`hub_extensions.setup(c)` runs, and the authenticator's own), and every identity gets the same
username and admin flag, or the same refusal, from oauthenticator's CILogonOAuthenticator with
the source config as from CILogonPresetsAuthenticator with migrate's output, unless the
migration report names the difference.

The identities are derived from each config (users of every allowed domain, outsiders, every
listed user through every provider that could produce them). Both authenticators run their
real login pipeline (`_token_to_auth_model`: username derivation, normalisation, auth state,
`update_auth_model`; then `check_allowed`); only the userinfo HTTP fetch is replaced by the
claims. Real logins through the TLS OIDC provider and a hub: test_cilogon_migrate_hub.py.
Not covered: users added through the admin page (allow_existing_users).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tornado import web
from traitlets.config import Config

from hub_extensions.auth.migrate import as_python
from hub_extensions.auth.migrate_resolve import migrate_config
from hub_extensions.auth.render import load_config_file
from hub_extensions.auth.validation import SOCIAL_ENTITY_IDS, social_alias_for
from hub_extensions.checks import check_config

# hub_extensions.auth.cilogon (oauthenticator, which imports jsonschema and compiles its format
# grammars: over a second of every collection of the suite) is imported where it is used.

pytestmark = pytest.mark.unit

CORPUS = sorted((Path(__file__).parent / "data" / "cilogon_configs").glob("*.py"))
IDP_NAMES = {v: k.capitalize() for k, v in SOCIAL_ENTITY_IDS.items()}


def source_idps(config: Config) -> dict:
    section = config.CILogonOAuthenticator
    return dict(section.idps if "idps" in section else section.allowed_idps)


def _email_domains(eid: str, conf: dict) -> list[str]:
    derivation = conf.get("username_derivation", {})
    domains = [d.replace("*.", "dept.") for d in conf.get("allowed_domains", [])]
    domains += [derivation["domain"]] if derivation.get("domain") else []
    if not domains and eid.startswith("urn:mace:incommon:"):
        domains = [eid.rpartition(":")[2]]
    if not domains:
        domains = [(eid.split("/")[2] if "//" in eid else eid).removeprefix("idp.")]
    return sorted(set(domains))


def identities(config: Config) -> list[tuple[str, dict]]:
    """(label, CILogon userinfo claims) for a config's users, outsiders and listed users."""
    listed = set(config.Authenticator.get("admin_users", set()))
    listed |= set(config.Authenticator.get("allowed_users", set()))
    bare = {n.rpartition(":")[2] for n in listed if "@" not in n and "orcid.org" not in n}
    emails = {n.rpartition(":")[2] for n in listed if "@" in n}
    orcids = {n.rpartition("/")[2] for n in listed if "orcid.org/" in n}
    out = []
    for eid, conf in source_idps(config).items():
        alias, _ = social_alias_for(eid)
        idp = SOCIAL_ENTITY_IDS[alias] if alias else eid  # what CILogon sends
        base = {"idp": idp, "idp_name": IDP_NAMES.get(idp, "Some University")}
        if alias == "github":
            for login in sorted(bare | {"octocat-fan", "newcomer"}):
                out.append((f"github {login}", {**base, "preferred_username": login}))
        elif alias == "orcid":
            for iid in sorted(orcids | {"0000-0003-1415-9269"}):
                out.append((f"orcid {iid}", {**base, "oidc": f"http://orcid.org/{iid}"}))
        else:
            domains = [d for d in _email_domains(eid, conf) if alias is None or "*" not in d]
            addresses = {f"user@{d}" for d in domains} | emails | {"outsider@gmail.com"}
            if alias is None:  # stripped names come back as user@domain
                for name in bare:
                    addresses |= {f"{name}@{d}" for d in domains}
            for address in sorted(addresses):
                out.append(
                    (f"{alias or 'inst'} {address}", {**base, "eppn": address, "email": address})
                )
    return out


async def outcome(authenticator, claims: dict) -> tuple:
    """(username, admin) after the real login pipeline, or ('refused', status)."""

    async def userinfo(_token):
        return dict(claims)

    authenticator.token_to_user = userinfo  # the HTTP fetch of the userinfo, nothing else
    try:
        model = await authenticator._token_to_auth_model(
            {"access_token": "t", "token_type": "Bearer"}
        )
        name = model["name"]
        if not await authenticator.check_allowed(name, model):
            return ("refused", 403)
    except web.HTTPError as err:
        return ("refused", err.status_code)
    return (name, bool(model["admin"]))


def normalised(config: Config) -> Config:
    """JupyterHub lower-cases admin_users/allowed_users at start (init_users)."""
    for option in ("admin_users", "allowed_users"):
        if option in config.Authenticator:
            config.Authenticator[option] = {n.lower() for n in config.Authenticator[option]}
    return config


def migrated_config(path: Path) -> tuple[Config, str, object]:
    out = migrate_config(load_config_file(path))
    text = as_python(out)
    c = Config()
    exec(text, {"c": c})  # noqa: S102 - migrate prints Python
    c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0
    return c, text, out


def compare(path: Path) -> tuple[list, list]:
    """(differences the report names, differences it does not) for one corpus config."""
    source = normalised(load_config_file(path))
    c, text, _ = migrated_config(path)
    report = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    from oauthenticator.cilogon import CILogonOAuthenticator

    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    raw = CILogonOAuthenticator(config=source)
    presets = CILogonPresetsAuthenticator(config=c)
    named, unnamed = [], []
    for label, claims in identities(source):
        before = asyncio.run(outcome(raw, claims))
        after = asyncio.run(outcome(presets, claims))
        assert after != ("refused", 500), label
        if before == after:
            continue
        words = {str(before[0]), str(after[0]), claims["idp"]}
        words |= {v for k, v in claims.items() if k in ("eppn", "email") and isinstance(v, str)}
        (named if any(w in report for w in words if w != "refused") else unnamed).append(
            (label, before, after)
        )
    return named, unnamed


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_migrated_config_starts_and_keeps_every_identity(path):
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    c, report, out = migrated_config(path)
    assert not out.incomplete, report
    assert check_config(c) == [], report  # the check hub_extensions.setup(c) runs at start
    CILogonPresetsAuthenticator(config=c)  # the authenticator's own check at start
    assert "# default: " in report
    _, unnamed = compare(path)
    assert unnamed == [], f"differences the report does not name:\n{unnamed}\n{report}"


def test_the_corpus_covers_the_patterns():
    assert len(CORPUS) >= 20
    docs = " ".join(p.read_text().split('"""')[1] for p in CORPUS).lower()
    for pattern in [
        "eppn",
        "email",
        "stripping",
        "google",
        "microsoft",
        "github",
        "social-only",
        "several institutions",
        "allow_wildcard_domains",
        "orcid",
    ]:
        assert pattern in docs, pattern
