"""Field checks for CILogon provider entries: entity IDs, claims, domains, flags.

Each function returns problem messages (path, what is wrong, the fix); none raises, so a
config with several mistakes is reported in one go.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import cast
from urllib.parse import urlsplit

#: CILogon's entity IDs of the social providers (they are http://, not https://).
SOCIAL_ENTITY_IDS = {
    "github": "http://github.com/login/oauth/authorize",
    "google": "http://google.com/accounts/o8/id",
    "microsoft": "http://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    "orcid": "http://orcid.org/oauth/authorize",
}
SOCIAL_NAMES = {"github": "GitHub", "google": "Google", "microsoft": "Microsoft", "orcid": "ORCID"}
#: Hosts people type for a social provider instead of its CILogon entity ID.
_SOCIAL_HOSTS = {
    "github.com": "github",
    "google.com": "google",
    "accounts.google.com": "google",
    "login.microsoftonline.com": "microsoft",
    "login.live.com": "microsoft",
    "microsoft.com": "microsoft",
    "orcid.org": "orcid",
    "sandbox.orcid.org": "orcid",
}
#: Claims that identify a person for as long as the account exists.
STABLE_CLAIMS = (
    "eppn",
    "email",
    "subject_id",
    "pairwise_id",
    "eptid",
    "oidc",
    "preferred_username",
)
#: Claims whose value is `something@domain`, so a domain rule can apply to them.
EMAIL_LIKE_CLAIMS = ("eppn", "email", "subject_id", "pairwise_id")
#: Claims that change or are shared between people: never a username.
UNSTABLE_CLAIMS = ("name", "given_name", "family_name", "middle_name", "nickname")
_DOMAIN = re.compile(r"\A[a-z0-9*?\[\]](?:[a-z0-9.*?\[\]-]*[a-z0-9*?\]])?\Z")
_WILDCARD = re.compile(r"[*?\[\]]")


_KEY_HINTS = {
    ("google", "allow_all"): "allow_all would admit every Google account; list `domains`.",
    ("microsoft", "allow_all"): "allow_all on Microsoft's common tenant admits every personal "
    "Microsoft account; list `domains`.",
    ("institution", "allow_all"): "omit `domains` to allow everyone from this IdP.",
    ("github", "domains"): "GitHub logins have no domain; use `allow_all: True` or "
    "Authenticator.allowed_users.",
    ("orcid", "domains"): "ORCID iDs have no domain; use `allow_all: True` or "
    "Authenticator.allowed_users.",
    ("staff_only", "allow_all"): "staff_only has no allow rule; use the plain preset instead.",
    ("staff_only", "domains"): "staff_only has no allow rule; use the plain preset instead.",
}
_REQUIRED_HINTS = {
    "google": "Google accounts come from anywhere; list the email domains that may log in, "
    "e.g. ['example.edu'].",
    "microsoft": "Microsoft's common tenant admits every personal account; list the email "
    "domains that may log in, e.g. ['example.edu'].",
    "staff_only": "Set 'google', 'github', 'microsoft' or 'orcid'.",
    "institution": "Set the institution's SAML entity ID from https://cilogon.org/idplist/.",
}


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """' Did you mean 'x'?' for a near miss, else ''."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def social_alias_for(entity_id: str) -> tuple[str | None, bool]:
    """(alias, exact) when `entity_id` is, or looks like, a social provider's entity ID."""
    for alias, exact in SOCIAL_ENTITY_IDS.items():
        if entity_id == exact:
            return alias, True
    text = entity_id.strip().lower()
    host = urlsplit(text if "://" in text else "//" + text).hostname or ""
    host = host.removeprefix("www.")
    return _SOCIAL_HOSTS.get(host), False


def check_entity_id(path: str, value: object, known: Iterable[str]) -> list[str]:
    """Problems with an institution's entity ID (a near miss of a social one is one)."""
    if not isinstance(value, str) or not value.strip():
        return [
            f"{path}: missing. Set the institution's SAML entity ID, as listed at "
            "https://cilogon.org/idplist/, e.g. 'https://idp.example.edu/idp/shibboleth'."
        ]
    alias, exact = social_alias_for(value)
    if alias and exact:
        return [
            f"{path}: {value!r} is {SOCIAL_NAMES[alias]}, not an institution. "
            f'Use {{"preset": "{alias}"}}, which applies {SOCIAL_NAMES[alias]}\'s username rules.'
        ]
    if alias:
        right = SOCIAL_ENTITY_IDS[alias]
        return [
            f"{path}: {value!r} is not a CILogon entity ID. Did you mean {right!r}? CILogon "
            f"names {SOCIAL_NAMES[alias]} with exactly that http:// URL; use "
            f'{{"preset": "{alias}"}}, which sets it for you.'
        ]
    if urlsplit(value).scheme not in ("http", "https", "urn") or value != value.strip():
        return [
            f"{path}: {value!r} is not an entity ID (a URL or URN without spaces)."
            f"{did_you_mean(value, known)} Copy the EntityID from https://cilogon.org/idplist/."
        ]
    return []


def check_claim(path: str, value: object, *, has_domains: bool) -> list[str]:
    """Problems with an institution's username claim."""
    fix = "Use 'eppn' (the default) or 'email'."
    if value is None or value == "":
        return [f"{path}: missing. {fix}"]
    if value in UNSTABLE_CLAIMS:
        return [
            f"{path}: {value!r} is not a stable identifier: people change names and two people "
            f"can share one. {fix}"
        ]
    if value not in STABLE_CLAIMS:
        return [
            f"{path}: {value!r} is not a claim CILogon can use as a username."
            f"{did_you_mean(value, STABLE_CLAIMS)} {fix}"
        ]
    if has_domains and value not in EMAIL_LIKE_CLAIMS:
        return [
            f"{path}: {value!r} has no @domain, so the `domains` rule cannot apply to it. "
            "Use claim 'eppn' or 'email', or remove `domains` to allow everyone from this IdP."
        ]
    return []


def check_domains(path: str, value: object, *, allow_wildcards: bool) -> list[str]:
    """Problems with a `domains` list."""
    if not isinstance(value, list) or not value:
        return [f"{path}: must be a non-empty list of domains, e.g. ['example.edu']."]
    problems = []
    for i, domain in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(domain, str) or not domain:
            problems.append(f"{where}: {domain!r} is not a domain. Use e.g. 'example.edu'.")
        elif "@" in domain:
            bare = domain.rsplit("@", 1)[1]
            problems.append(
                f"{where}: {domain!r} contains '@'. List the domain only, e.g. {bare!r}."
            )
        elif domain != domain.lower():
            problems.append(
                f"{where}: {domain!r} is not lowercase. Write it as {domain.lower()!r}."
            )
        elif not _DOMAIN.match(domain):
            problems.append(
                f"{where}: {domain!r} is not a domain. Use the part after '@', e.g. 'example.edu'."
            )
        elif _WILDCARD.search(domain) and not allow_wildcards:
            problems.append(
                f"{where}: {domain!r} is a wildcard and admits every matching domain. List the "
                "domains, or set `allow_wildcard_domains: True` on this provider if you mean it."
            )
    return problems


def check_bool(path: str, value: object) -> list[str]:
    """A flag must be True or False, not a truthy string."""
    if isinstance(value, bool):
        return []
    return [f"{path}: {value!r} is not a boolean. Use True or False."]


def check_entry(path: str, entry: object, presets: dict, known: Iterable[str]) -> list[str]:
    """Problems with one entry; `presets` maps a preset to its (required, optional) keys,
    `known` lists the entity IDs of the IdP snapshot."""
    if not isinstance(entry, dict):
        return [f"{path}: {entry!r} is not a dict. Use e.g. {{'preset': 'github'}}."]
    preset = entry.get("preset")
    if preset not in presets:
        if preset is None:
            return [f"{path}.preset: missing. Use one of {sorted(presets)}."]
        return [
            f"{path}.preset: unknown preset {preset!r}.{did_you_mean(preset, presets)} "
            f"Use one of {sorted(presets)}."
        ]
    preset = cast(str, preset)  # one of presets' keys
    required, optional = presets[preset]
    allowed = required | optional
    problems = []
    for key in entry:
        if key == "preset" or key in allowed:
            continue
        hint = _KEY_HINTS.get((preset, key)) or (
            f"{did_you_mean(key, allowed)} Keys of {preset!r}: {sorted(allowed)}.".lstrip()
        )
        problems.append(f"{path}.{key}: unknown key for preset {preset!r}. {hint}")
    for key in sorted(required - set(entry) - {"entity_id"}):
        problems.append(f"{path}.{key}: required by preset {preset!r}. {_REQUIRED_HINTS[preset]}")
    for key in ("default", "allow_all", "allow_wildcard_domains", "only_listed_users"):
        if key in entry:
            problems += check_bool(f"{path}.{key}", entry[key])
    if "prefix" in entry:
        problems += check_prefix(f"{path}.prefix", entry["prefix"])
    wild = entry.get("allow_wildcard_domains") is True
    if "domains" in entry and "domains" in allowed:
        problems += check_domains(f"{path}.domains", entry["domains"], allow_wildcards=wild)
    if preset == "institution":
        problems += check_entity_id(f"{path}.entity_id", entry.get("entity_id"), known)
        claim = entry.get("claim", "eppn")
        problems += check_claim(f"{path}.claim", claim, has_domains="domains" in entry)
        if "strip_domain" in entry:
            problems += check_strip(f"{path}.strip_domain", entry)
        if entry.get("only_listed_users") is True and "domains" in entry:
            problems.append(
                f"{path}.only_listed_users: admits only Authenticator.admin_users and "
                "allowed_users, so `domains` would have no effect. Remove one of them."
            )
    if preset == "staff_only" and "provider" in entry and entry["provider"] not in STAFF_ONLY:
        value = entry["provider"]
        problems.append(
            f"{path}.provider: {value!r} is not one of {', '.join(map(repr, STAFF_ONLY))}."
            f"{did_you_mean(value, STAFF_ONLY)} Use one of them."
        )
    return problems


STAFF_ONLY = ("google", "github", "microsoft", "orcid")
_PREFIX = re.compile(r"\A[a-z0-9][a-z0-9._-]*\Z")


def check_prefix(path: str, value: object) -> list[str]:
    """A username prefix: lowercase letters, digits, '.', '_', '-'; False for none."""
    if value is False or (isinstance(value, str) and _PREFIX.match(value)):
        return []
    return [
        f"{path}: {value!r} is not a username prefix. Use lowercase letters, digits, '.', '_' "
        "or '-' (the username becomes 'PREFIX:...'), or False for no prefix."
    ]


def check_strip(path: str, entry: dict) -> list[str]:
    """`strip_domain`: False (keep the full claim) or the domain to remove from the claim."""
    value, domains = entry["strip_domain"], entry.get("domains")
    if value is False:
        return []
    if value is True:
        if isinstance(domains, list) and len(domains) == 1:
            return []
        return [
            f"{path}: True needs exactly one domain in `domains`. Name the domain to remove "
            "instead, e.g. 'example.edu', or remove strip_domain."
        ]
    if isinstance(value, str) and value and value == value.lower() and "@" not in value:
        if not _WILDCARD.search(value):
            return []
    return [
        f"{path}: {value!r} is not a domain to strip. Use e.g. 'example.edu' (lowercase, "
        "without '@'), or False to keep full user@domain names."
    ]
