"""Turn a hand-written `CILogonOAuthenticator.idps` (or `allowed_idps`) into presets.

Each IdP becomes a provider entry with the same usernames (its prefix, stripped domain and
claim) and the same allow rule. Where the old configuration let one person log in as
another, or listed users nobody can be, `migrate_resolve` changes the least it can and says
who is affected; everything else is a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .presets import SOCIAL_CLAIMS
from .render import py_literal
from .validation import SOCIAL_ENTITY_IDS, SOCIAL_NAMES, STABLE_CLAIMS, social_alias_for

IDP_SECTIONS = ("OAuthenticator", "CILogonOAuthenticator", "LocalCILogonOAuthenticator")
USER_SECTIONS = ("Authenticator", "OAuthenticator", "CILogonOAuthenticator")
_WILD = re.compile(r"[*?\[\]]")
_ORCID_URL = re.compile(r"https?://orcid\.org/")


@dataclass
class Migration:
    providers: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: compile warnings of the result (shown as they would be at hub start)
    warnings: list[str] = field(default_factory=list)
    #: True when an IdP could not be expressed or the result does not compile
    incomplete: bool = False
    admin_users: set[str] = field(default_factory=set)
    allowed_users: set[str] = field(default_factory=set)
    #: (old name, new name, why) for every listed user whose name changes
    renames: list[tuple[str, str, str]] = field(default_factory=list)
    default_note: str = ""
    #: the source's entity ID of each provider entry (for the notes)
    sources: list[str] = field(default_factory=list)
    #: providers whose every user gets a new name (why)
    renamed_providers: list[str] = field(default_factory=list)


def _domains(conf: dict) -> list[str]:
    return sorted({str(d).lower() for d in conf.get("allowed_domains") or []})


def _with_domains(entry: dict, domains: list[str]) -> dict:
    entry["domains"] = domains
    if any(_WILD.search(d) for d in domains):
        entry["allow_wildcard_domains"] = True  # the source admitted these patterns already
    return entry


def _check_domain_claim(eid: str, conf: dict, claim: str, out: Migration) -> None:
    rule_claim = conf.get("allowed_domains_claim")
    if conf.get("allowed_domains") and rule_claim and rule_claim != claim:
        out.notes.append(
            f"{eid}: the domain rule checked {rule_claim!r}; presets check the username claim "
            f"{claim!r}. Users whose {claim} and {rule_claim} domains differ are judged "
            "differently."
        )


def _social(eid: str, alias: str, conf: dict, out: Migration) -> dict | None:
    name = SOCIAL_NAMES[alias]
    derivation = conf.get("username_derivation") or {}
    claim, action = derivation.get("username_claim"), derivation.get("action")
    domains, allow_all = _domains(conf), conf.get("allow_all") is True
    if eid != SOCIAL_ENTITY_IDS[alias]:
        out.notes.append(
            f"{eid}: not a CILogon entity ID, so nobody could log in with it; the {alias} "
            f"preset uses {SOCIAL_ENTITY_IDS[alias]}, so {name} logins now work."
        )
    if claim != SOCIAL_CLAIMS[alias]:
        out.notes.append(
            f"{eid}: usernames came from {claim!r}; the {alias} preset uses "
            f"{SOCIAL_CLAIMS[alias]!r}, so existing {name} users get new names."
        )
        out.renamed_providers.append(
            f"{name} users: named by {SOCIAL_CLAIMS[alias]!r}, not {claim!r}."
        )
    entry: dict = {"preset": alias}
    prefix = derivation.get("prefix") if action == "prefix" else False
    if prefix != alias:
        entry["prefix"] = prefix  # the preset's default prefix is the alias
    if alias == "orcid" and claim == "oidc":
        out.notes.append(
            f"{eid}: ORCID usernames were the iD's URL ('...http://orcid.org/<iD>'); the orcid "
            "preset keeps the bare iD, so ORCID users get new names (listed ones renamed)."
        )
        out.renamed_providers.append(f"{eid}: ORCID users are named by the bare iD, not its URL.")
    if alias in ("google", "microsoft"):
        _check_domain_claim(eid, conf, "email", out)
        if allow_all:
            out.notes.append(
                f"{eid}: allow_all admitted every {name} account; kept as domains ['*'] with "
                "allow_wildcard_domains. Narrow it to your domains if that was not meant."
            )
            return _with_domains(entry, ["*"])
        if domains:
            return _with_domains(entry, domains)
        return {"preset": "staff_only", "provider": alias, **_only_prefix(entry)}
    if allow_all:
        entry["allow_all"] = True
    elif domains:
        out.notes.append(
            f"{eid}: allowed_domains dropped: {name} identities have no domain to check, so "
            "it admitted nobody. Listed users keep their access."
        )
    return entry


def _only_prefix(entry: dict) -> dict:
    return {"prefix": entry["prefix"]} if "prefix" in entry else {}


def _institution(eid: str, conf: dict, out: Migration) -> dict | None:
    derivation = conf.get("username_derivation") or {}
    claim, action = derivation.get("username_claim"), derivation.get("action")
    domains = _domains(conf)
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
        _with_domains(entry, domains)
        _check_domain_claim(eid, conf, claim, out)
    else:
        entry["only_listed_users"] = True  # no allow rule: only listed users, as before
    stripped = str(derivation.get("domain") or "").lower() if action == "strip_idp_domain" else ""
    if stripped and domains != [stripped]:
        entry["strip_domain"] = stripped
    elif not stripped and len(domains) == 1:
        entry["strip_domain"] = False  # keep the full claim, as before
    if action == "prefix" and derivation.get("prefix"):
        entry["prefix"] = derivation["prefix"]
    return entry


def migrate_idps(idps: object) -> Migration:
    """Provider entries with the same usernames and allow rules as `idps`, with notes."""
    out = Migration()
    if isinstance(idps, list):  # the list form of oauthenticator < 15
        out.notes.append("the list form has no username rules: each IdP gets the defaults.")
        idps = {eid: {"username_derivation": {"username_claim": "eppn"}} for eid in idps}
    if not isinstance(idps, dict) or not idps:
        out.notes.append("no CILogonOAuthenticator.idps or allowed_idps to migrate.")
        out.incomplete = True
        return out
    marked = [
        str(eid) for eid, conf in idps.items() if isinstance(conf, dict) and conf.get("default")
    ]
    for eid, conf in idps.items():
        alias, _ = social_alias_for(str(eid))
        conf = conf if isinstance(conf, dict) else {}
        entry = _social(eid, alias, conf, out) if alias else _institution(eid, conf, out)
        if entry is None:
            out.incomplete = True
            continue
        out.providers.append(entry)
        out.sources.append(str(eid))
    _pick_default(out, marked, str(next(iter(idps))))
    return out


def _pick_default(out: Migration, marked: list[str], first: str) -> None:
    """One default, the IdP oauthenticator pre-selected: the first marked one, else the first."""
    for entry in out.providers:
        entry.pop("default", None)
    if not out.providers:
        return
    chosen = next((m for m in marked if m in out.sources), None)
    index = out.sources.index(chosen) if chosen else 0
    if len(out.providers) > 1:
        out.providers[index]["default"] = True
    if len(marked) > 1:
        why = f"the first of the {len(marked)} marked default: True (oauthenticator's choice)"
    elif chosen:
        why = "marked default: True"
    elif first in out.sources:
        why = "none was marked; oauthenticator pre-selected the first"
    else:
        why = "the first one migrated; the marked or first one could not be"
    out.default_note = f"default: {out.sources[index]}: {why}."


def _rename_orcid(out: Migration) -> None:
    if not any(p.get("preset") == "orcid" or p.get("provider") == "orcid" for p in out.providers):
        return
    for option in ("admin_users", "allowed_users"):
        names: set[str] = getattr(out, option)
        for name in sorted(names):
            if _ORCID_URL.search(name):
                new = _ORCID_URL.sub("", name)
                names.discard(name)
                names.add(new)
                out.renames.append((name, new, "ORCID usernames are the bare iD"))


def as_python(out: Migration) -> str:
    """The migration as jupyterhub_config.py lines, notes as comments."""
    lines = [
        "# Generated by `hub-extensions cilogon migrate`; review it, then remove",
        "# c.CILogonOAuthenticator.idps / allowed_idps (the presets generate them).",
        'c.JupyterHub.authenticator_class = "cilogon-presets"',
        f"c.CILogonPresetsAuthenticator.providers = {py_literal(out.providers)}",
    ]
    for option in ("admin_users", "allowed_users"):
        names = getattr(out, option)
        if names:
            lines.append(f"c.Authenticator.{option} = {py_literal(set(names))}")
    lines.append("#")
    lines.append(f"# {out.default_note}" if out.default_note else "# no default to pick")
    if out.renamed_providers:
        lines.append("# Users who get new names (JupyterHub sees a new user; rename old ones):")
        lines += [f"# - {why}" for why in out.renamed_providers]
    if out.renames:
        lines.append("# Listed users whose name changes (their old account is not renamed):")
        lines += [f"# - {old!r} -> {new!r}: {why}" for old, new, why in out.renames]
    if not out.renames and not out.renamed_providers:
        lines.append("# Usernames: everyone keeps their name.")
    if out.notes:
        lines.append("# Notes:")
        lines += [f"# - {note}" for note in out.notes]
    if out.warnings:
        lines.append("# Warnings and notes the hub will log at start:")
        lines += [f"# - {warning}" for warning in out.warnings]
    return "\n".join(lines) + "\n"
