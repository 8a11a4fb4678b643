"""CILogon provider presets, compiled to `CILogonOAuthenticator.idps`.

Usernames (JupyterHub lowercases each one afterwards):

- `institution`: the `claim` value (`eppn` by default, or `email`). With exactly one domain in
  `domains`, `@that.domain` is stripped (`alice@uni.edu` -> `alice`) unless
  `strip_domain: False`; `strip_domain: "uni.edu"` names the domain to strip explicitly.
- `google`, `microsoft`: the full email, prefixed: `google:alice@uni.edu`.
- `github`: the GitHub login (`preferred_username`), prefixed: `github:octocat`.
- `orcid`: the bare iD from the `oidc` claim, prefixed: `orcid:0000-0002-1825-0097`.
- `staff_only`: as its `provider`.

`prefix` on an entry sets its prefix (a string, or False for none); `shared_namespace = True`
drops the social prefixes not set that way. The checks (see `namespaces`): two providers may
not admit the same name unlisted, a listed name must come from exactly one provider, and a
provider that admits only listed users must have one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config

from ..config_values import option_value, section_names
from ..hub_classes import configured_class
from .checks import listed_problems, open_collisions
from .idp_snapshot import (
    DEFAULT_LIST_PATH,
    IdpList,
    entity_id_findings,
    load_idp_list,
    same_idp_key,
)
from .namespaces import ANY, NONE, Namespace, domain_in
from .validation import EMAIL_LIKE_CLAIMS, SOCIAL_ENTITY_IDS, SOCIAL_NAMES, check_entry

CLASS = "CILogonPresetsAuthenticator"
ROOT = f"{CLASS}.providers"
SCOPE = ["openid", "email", "profile", "org.cilogon.userinfo"]
_COMMON = frozenset({"default", "prefix"})
#: preset -> (required keys, optional keys), besides "preset" itself
PRESETS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "institution": (
        frozenset({"entity_id"}),
        _COMMON
        | {"claim", "domains", "allow_wildcard_domains", "strip_domain", "only_listed_users"},
    ),
    "google": (frozenset({"domains"}), _COMMON | {"allow_wildcard_domains"}),
    "microsoft": (frozenset({"domains"}), _COMMON | {"allow_wildcard_domains"}),
    "github": (frozenset(), _COMMON | {"allow_all"}),
    "orcid": (frozenset(), _COMMON | {"allow_all"}),
    "staff_only": (frozenset({"provider"}), _COMMON),
}
SOCIAL_CLAIMS = {"google": "email", "microsoft": "email", "github": "preferred_username"}
SOCIAL_CLAIMS["orcid"] = "oidc"
LISTED = "only Authenticator.admin_users and allowed_users"


class PresetConfigError(ValueError):
    """Every problem in a providers list, each starting with its path and ending with the fix."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Compiled:
    """What a providers list compiles to."""

    idps: dict[str, dict] = field(default_factory=dict)
    scope: list[str] = field(default_factory=lambda: list(SCOPE))
    warnings: list[str] = field(default_factory=list)
    #: facts worth one log line (e.g. the IdP list is missing), not warnings
    info: list[str] = field(default_factory=list)
    #: entity IDs whose claim holds an ORCID URL, reduced to the bare iD at login
    orcid_entity_ids: frozenset[str] = frozenset()
    #: one line per provider: entity ID, username form, allow rule
    summary: list[str] = field(default_factory=list)
    #: entity ID -> its usernames, and how a user would call it ("Google", "Example University")
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class _Entry:
    path: str
    preset: str
    entity_id: str
    idp: dict
    namespace: Namespace
    default: bool
    allow: str


def _institution(entry: dict, domains: tuple[str, ...] | None) -> tuple[dict, Namespace, str]:
    claim = entry.get("claim", "eppn")
    strip_value = entry.get("strip_domain", True)
    if strip_value is True:
        strip = domains[0] if domains and len(domains) == 1 else None
    else:
        strip = strip_value or None
    prefix = entry.get("prefix") or None
    listed = entry.get("only_listed_users") is True
    derivation: dict = {"username_claim": claim}
    if strip:
        derivation.update(action="strip_idp_domain", domain=strip)
    elif prefix:
        derivation.update(action="prefix", prefix=prefix)
    idp: dict = {"username_derivation": derivation}
    if domains:
        idp.update(allowed_domains=list(domains), allowed_domains_claim=claim)
        allow = f"{claim} at {', '.join(domains)}"
    elif listed:
        allow = LISTED
    else:
        idp["allow_all"] = True
        allow = "everyone from this IdP"
    reach = domains or ANY
    opened = NONE if listed else reach
    if claim in EMAIL_LIKE_CLAIMS:
        placeholder = f"<{claim} without @{strip}>" if strip else f"<{claim}>"
        ns = Namespace(
            placeholder,
            prefix,
            bare=strip is not None,
            bare_open=strip is not None and not listed and domain_in(strip, reach),
            emails=reach,
            emails_open=opened,
            strip=strip,
        )
    else:
        ns = Namespace(f"<{claim}>", prefix, bare=True, bare_open=not listed)
    return idp, ns, allow


def _social(entry: dict, social: str, shared: bool, staff: bool) -> tuple[dict, Namespace, str]:
    domains = tuple(entry["domains"]) if "domains" in entry and not staff else None
    if "prefix" in entry:
        prefix = entry["prefix"] or None
    else:
        prefix = None if shared else social
    claim = SOCIAL_CLAIMS[social]
    derivation: dict = {"username_claim": claim}
    if prefix:
        derivation.update(action="prefix", prefix=prefix)
    idp: dict = {"username_derivation": derivation}
    allow_all = entry.get("allow_all") is True and not staff
    if domains:
        idp.update(allowed_domains=list(domains), allowed_domains_claim=claim)
        allow = f"{claim} at {', '.join(domains)}"
    elif allow_all:
        idp["allow_all"] = True
        allow = f"every {SOCIAL_NAMES[social]} account"
    else:
        allow = LISTED
    placeholder = {"github": "<login>", "orcid": "<ORCID iD>"}.get(social, "<email>")
    if social in ("google", "microsoft"):
        ns = Namespace(placeholder, prefix, emails=ANY, emails_open=domains or NONE, social=social)
    else:
        orcid = social == "orcid"
        ns = Namespace(
            placeholder, prefix, bare=True, bare_open=allow_all, orcid=orcid, social=social
        )
    return idp, ns, allow


def _build(path: str, entry: dict, shared: bool) -> _Entry:
    """The idps entry and username namespace of one valid provider entry."""
    preset = entry["preset"]
    domains = tuple(entry["domains"]) if "domains" in entry else None
    if preset == "institution":
        entity_id = entry["entity_id"]
        idp, ns, allow = _institution(entry, domains)
    else:
        social = entry["provider"] if preset == "staff_only" else preset
        entity_id = SOCIAL_ENTITY_IDS[social]
        idp, ns, allow = _social(entry, social, shared, preset == "staff_only")
    return _Entry(path, preset, entity_id, idp, ns, entry.get("default") is True, allow)


def namespaces_of(providers: list[dict], shared: bool = False) -> list[Namespace]:
    """The username namespaces of valid provider entries, in order."""
    return [_build(f"{ROOT}[{i}]", p, shared).namespace for i, p in enumerate(providers)]


def _entry_problems(path: str, entry: dict) -> list[str]:
    """Combinations oauthenticator cannot apply."""
    if entry["preset"] != "institution" or not entry.get("prefix"):
        return []
    strip = entry.get("strip_domain", True)
    domains = entry.get("domains")
    strips = isinstance(strip, str) or (strip is True and domains and len(domains) == 1)
    if not strips:
        return []
    return [
        f"{path}.prefix: CILogonOAuthenticator either strips a domain or adds a prefix, not "
        "both. Set strip_domain: False to keep the prefix, or remove prefix."
    ]


def compile_providers(
    providers: list[dict],
    *,
    admin_users: Iterable[str] = (),
    shared_namespace: bool = False,
    allowed_users: Iterable[str] = (),
    idp_list: IdpList | None = None,
) -> Compiled:
    """Compile a providers list; raise PresetConfigError listing every problem."""
    if not isinstance(providers, list) or not providers:
        raise PresetConfigError(
            [
                f"{ROOT}: the provider list is empty. List at least one, e.g. "
                "[{'preset': 'institution', 'entity_id': 'https://idp.example.edu/idp/shibboleth'}]."
            ]
        )
    idp_list = idp_list or load_idp_list(None)
    problems: list[str] = []
    entries: list[_Entry] = []
    for i, raw in enumerate(providers):
        path = f"{ROOT}[{i}]"
        found = check_entry(path, raw, PRESETS, idp_list.entity_ids)
        if not found:
            found = _entry_problems(path, raw)
        problems += found
        if not found:
            entries.append(_build(path, raw, shared_namespace))
    seen: dict[str, _Entry] = {}
    for entry in entries:
        key = same_idp_key(entry.entity_id)
        if key in seen:
            problems.append(
                f"{entry.path}: the same identity provider as {seen[key].path} "
                f"({seen[key].entity_id}). Keep one entry per identity provider."
            )
        seen.setdefault(key, entry)
    problems += _default_problems(providers, entries)
    described = [(e.path, e.namespace) for e in entries]
    problems += open_collisions(described, shared_namespace)
    if len(entries) == len(providers):  # else a broken entry might be the listed users' one
        admins = {str(n).lower() for n in admin_users}
        allowed = {str(n).lower() for n in allowed_users} - admins
        problems += listed_problems(described, admins, allowed)
    if problems:
        raise PresetConfigError(problems)
    compiled = Compiled()
    institutions = {e.entity_id: e.path for e in entries if e.preset == "institution"}
    compiled.warnings, compiled.info = entity_id_findings(institutions, idp_list)
    for entry in entries:
        if len(entries) == 1 or entry.default:
            entry.idp["default"] = True
        compiled.idps[entry.entity_id] = entry.idp
        compiled.namespaces[entry.entity_id] = entry.namespace
        compiled.labels[entry.entity_id] = _label(entry, idp_list)
        compiled.summary.append(
            f"{entry.entity_id} ({entry.preset}): usernames "
            f"'{entry.namespace.describe()}'; allowed: {entry.allow}"
        )
    compiled.orcid_entity_ids = frozenset(
        e.entity_id for e in entries if e.entity_id == SOCIAL_ENTITY_IDS["orcid"]
    )
    return compiled


def _label(entry: _Entry, idp_list: IdpList) -> str:
    """How a user would name the provider (never its entity ID when a better name is known)."""
    if entry.namespace.social:
        return SOCIAL_NAMES[entry.namespace.social]
    if name := idp_list.names.get(entry.entity_id):
        return name
    domains = entry.idp.get("allowed_domains") or []
    strip = entry.namespace.strip
    if domains or strip:
        return f"the {strip or domains[0]} login"
    return f"the institution login {entry.entity_id}"


def _default_problems(providers: list, entries: list[_Entry]) -> list[str]:
    if len(providers) == 1:
        return []  # a single provider is the default
    marked = [e.path for e in entries if e.default]
    if len(marked) > 1:
        return [
            f"{ROOT}: several providers have default: True ({', '.join(marked)}). "
            "Keep exactly one, the IdP CILogon pre-selects."
        ]
    flagged = any(isinstance(p, dict) and p.get("default") is True for p in providers)
    if not marked and not flagged:
        return [
            f"{ROOT}: none of the {len(providers)} providers has default: True. Mark exactly "
            f"one, the IdP CILogon pre-selects, e.g. {ROOT}[0]['default'] = True."
        ]
    return []


#: Config sections an authenticator of the presets class reads, least specific first.
SECTIONS = ("Authenticator", "OAuthenticator", "CILogonOAuthenticator", CLASS)


def authenticator_class(config: Config) -> type | None:
    return configured_class(config, "authenticator_class", "jupyterhub.authenticators")


def is_presets_class(cls: object) -> bool:
    """Whether `cls` is (a subclass of) CILogonPresetsAuthenticator, without importing it."""
    return isinstance(cls, type) and any(
        k.__name__ == CLASS and k.__module__ == "hub_extensions.auth.cilogon" for k in cls.__mro__
    )


def configured(config: Config, sections: Iterable[str], name: str, default=None):
    """The value `name` gets from `config` in `sections`, least specific first (the most
    specific wins; `.append(...)`-style edits apply to `default`), as the authenticator gets it."""
    return option_value(config, list(sections), name, default)


def idps_set_too(config: Config, sections: Iterable[str]) -> list[str]:
    """Problems for `idps`/`allowed_idps` set next to providers (presets would override them)."""
    return [
        f"{section}.{name}: {ROOT} generates CILogonOAuthenticator.idps. Remove {name}; "
        "`hub-extensions cilogon migrate FILE` turns it into providers."
        for section in sections
        for name in ("idps", "allowed_idps")
        if section in config and name in config[section]
    ]


def compile_config(config: Config, cls: type | None = None) -> Compiled:
    """Compile the providers a (presets) authenticator class reads from `config`."""
    sections = section_names(cls) if cls else list(SECTIONS)
    problems = idps_set_too(config, sections)
    list_path = configured(config, sections, "idp_list_path", DEFAULT_LIST_PATH)
    try:
        compiled = compile_providers(
            configured(config, sections, "providers", []),
            admin_users=configured(config, sections, "admin_users", set()) or (),
            shared_namespace=bool(configured(config, sections, "shared_namespace", False)),
            allowed_users=configured(config, sections, "allowed_users", set()) or (),
            idp_list=load_idp_list(Path(list_path) if list_path else None),
        )
    except PresetConfigError as err:
        raise PresetConfigError(problems + err.problems) from None
    if problems:
        raise PresetConfigError(problems)
    return compiled


def check_cilogon_presets(config: Config, warnings: list[str] | None = None) -> list[str]:
    """One message per problem in the presets authenticator's providers (none if not used);
    findings that do not stop the hub (e.g. an entity ID missing from CILogon's list) are
    appended to `warnings` when a list is given."""
    cls = authenticator_class(config)
    if not is_presets_class(cls):
        return []
    try:
        compiled = compile_config(config, cls)
    except PresetConfigError as err:
        return err.problems
    if warnings is not None:
        warnings.extend(compiled.warnings)
    return []
