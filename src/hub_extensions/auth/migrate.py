"""Turn a hand-written `CILogonOAuthenticator.idps` (or `allowed_idps`) into presets.

Each IdP becomes a provider entry when presets can express it; otherwise a note says what
differs (new usernames, a wider or narrower allow rule) or why it was left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from traitlets.config import Config

from .presets import SOCIAL_CLAIMS, PresetConfigError, compile_providers, configured
from .render import py_literal
from .validation import SOCIAL_ENTITY_IDS, SOCIAL_NAMES, STABLE_CLAIMS, social_alias_for

IDP_SECTIONS = ("OAuthenticator", "CILogonOAuthenticator", "LocalCILogonOAuthenticator")
USER_SECTIONS = ("Authenticator", "OAuthenticator", "CILogonOAuthenticator")


@dataclass
class Migration:
    providers: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: True when an IdP could not be expressed or the result does not compile
    incomplete: bool = False
    shared_namespace: bool = False
    #: per social IdP: whether its usernames had the preset's prefix
    prefixed: list[bool] = field(default_factory=list)


def _social(eid: str, alias: str, conf: dict, out: Migration) -> dict | None:
    name = SOCIAL_NAMES[alias]
    derivation = conf.get("username_derivation") or {}
    claim, action = derivation.get("username_claim"), derivation.get("action")
    domains, allow_all = conf.get("allowed_domains") or [], conf.get("allow_all") is True
    if eid != SOCIAL_ENTITY_IDS[alias]:
        out.notes.append(
            f"{eid}: not a CILogon entity ID (no login could match it); the {alias} preset "
            f"uses {SOCIAL_ENTITY_IDS[alias]}."
        )
    if claim != SOCIAL_CLAIMS[alias]:
        out.notes.append(
            f"{eid}: usernames came from {claim!r}; the {alias} preset uses "
            f"{SOCIAL_CLAIMS[alias]!r}, so existing {name} users get new names."
        )
    if action == "prefix" and derivation.get("prefix") != alias:
        out.notes.append(
            f"{eid}: usernames were '{derivation.get('prefix')}:...'; the preset writes "
            f"'{alias}:...', so existing {name} users get new names."
        )
    out.prefixed.append(action == "prefix")
    if alias == "orcid" and claim == "oidc":
        out.notes.append(
            f"{eid}: usernames were '...http://orcid.org/<iD>'; the orcid preset keeps the "
            "bare iD, so existing ORCID users get new names."
        )
    entry: dict = {"preset": alias}
    if alias in ("google", "microsoft"):
        if domains:
            entry["domains"] = sorted({d.lower() for d in domains})
        elif allow_all:
            out.notes.append(
                f"{eid}: not migrated: allow_all admits every {name} account, and the "
                f"{alias} preset needs `domains`. Add {{'preset': '{alias}', 'domains': [...]}}."
            )
            return None
        elif alias == "google":
            entry = {"preset": "staff_only", "provider": "google"}
        else:
            out.notes.append(
                f"{eid}: not migrated: Microsoft without an allow rule has no preset "
                "(staff_only is for Google or GitHub). Add it with `domains`."
            )
            return None
    elif allow_all:
        entry["allow_all"] = True
    elif domains:
        out.notes.append(
            f"{eid}: allowed_domains dropped: {name} identities have no domain to check. "
            "List the users in Authenticator.allowed_users, or set allow_all."
        )
    return entry


def _institution(eid: str, conf: dict, out: Migration) -> dict | None:
    derivation = conf.get("username_derivation") or {}
    claim, action = derivation.get("username_claim"), derivation.get("action")
    domains = sorted({d.lower() for d in conf.get("allowed_domains") or []})
    if claim not in STABLE_CLAIMS:
        out.notes.append(
            f"{eid}: not migrated: usernames come from {claim!r}, which is not a stable "
            "identifier presets accept. Use 'eppn' or 'email' and rename existing users."
        )
        return None
    entry: dict = {"preset": "institution", "entity_id": eid}
    if claim != "eppn":
        entry["claim"] = claim
    if conf.get("allow_all") is True:
        if domains:
            out.notes.append(f"{eid}: allowed_domains dropped: allow_all already admits all.")
        domains = []
    elif domains:
        entry["domains"] = domains
        rule_claim = conf.get("allowed_domains_claim") or claim
        if rule_claim != claim:
            out.notes.append(
                f"{eid}: the domain rule checked {rule_claim!r}; presets check the username "
                f"claim {claim!r}."
            )
    else:
        out.notes.append(
            f"{eid}: not migrated: only users listed in allowed_users could log in from it; "
            "the institution preset admits everyone from the IdP or listed `domains`."
        )
        return None
    stripped = derivation.get("domain") if action == "strip_idp_domain" else None
    if stripped and domains != [stripped.lower()]:
        out.notes.append(
            f"{eid}: usernames were stripped of @{stripped}; presets strip only when "
            f"`domains` is exactly [{stripped!r}], so these users get full '<{claim}>' names."
        )
    if not stripped and len(domains) == 1:
        entry["strip_domain"] = False  # keep the full claim, as before
    if action == "prefix":
        out.notes.append(
            f"{eid}: usernames were '{derivation.get('prefix')}:<{claim}>'; institutions have "
            "no prefix in presets, so these users get new names."
        )
    return entry


def migrate_idps(idps: object) -> Migration:
    """Provider entries for an `idps`/`allowed_idps` value, with notes."""
    out = Migration()
    if isinstance(idps, list):  # the list form of oauthenticator < 15
        out.notes.append("the list form has no username rules: each IdP gets the defaults.")
        idps = {eid: {"username_derivation": {"username_claim": "eppn"}} for eid in idps}
    if not isinstance(idps, dict) or not idps:
        out.notes.append("no CILogonOAuthenticator.idps or allowed_idps to migrate.")
        out.incomplete = True
        return out
    for eid, conf in idps.items():
        alias, _ = social_alias_for(str(eid))
        conf = conf if isinstance(conf, dict) else {}
        entry = _social(eid, alias, conf, out) if alias else _institution(eid, conf, out)
        if entry is None:
            out.incomplete = True
            continue
        if conf.get("default") is True:
            entry["default"] = True
        out.providers.append(entry)
    if out.prefixed and not any(out.prefixed):
        out.shared_namespace = True  # no social prefixes before: keep the names
    elif not all(out.prefixed):
        out.notes.append(
            "some social IdPs had a username prefix and others not; presets prefix all of "
            "them (or none, with shared_namespace = True), so some users get new names."
        )
    if len(out.providers) > 1 and not any(p.get("default") for p in out.providers):
        out.providers[0]["default"] = True  # oauthenticator pre-selected the first one
    return out


def migrate_config(config: Config) -> Migration:
    """Migrate the idps of a loaded jupyterhub_config.py and check the result."""
    idps = configured(config, IDP_SECTIONS, "idps")
    if not idps:
        idps = configured(config, IDP_SECTIONS, "allowed_idps")
    out = migrate_idps(idps)
    if out.providers:
        try:
            compile_providers(
                out.providers,
                admin_users=configured(config, USER_SECTIONS, "admin_users", set()) or (),
                shared_namespace=out.shared_namespace,
                allowed_users=configured(config, USER_SECTIONS, "allowed_users", set()) or (),
            )
        except PresetConfigError as err:
            out.incomplete = True
            out.notes += [f"the result needs a fix: {p}" for p in err.problems]
    return out


def as_python(out: Migration) -> str:
    """The migration as jupyterhub_config.py lines, notes as comments."""
    lines = [
        "# Generated by `hub-extensions cilogon migrate`; review it, then remove",
        "# c.CILogonOAuthenticator.idps / allowed_idps (the presets generate them).",
        'c.JupyterHub.authenticator_class = "cilogon-presets"',
        f"c.CILogonPresetsAuthenticator.providers = {py_literal(out.providers)}",
    ]
    if out.shared_namespace:
        lines.append("c.CILogonPresetsAuthenticator.shared_namespace = True  # as before")
    lines += ["#", "# Notes:"] if out.notes else []
    lines += [f"# - {note}" for note in out.notes]
    return "\n".join(lines) + "\n"
