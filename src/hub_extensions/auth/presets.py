"""CILogon provider presets, compiled to `CILogonOAuthenticator.idps`.

Usernames (JupyterHub lowercases each one afterwards):

- `institution`: the `claim` value (`eppn` by default, or `email`). With exactly one domain in
  `domains`, `@that.domain` is stripped (`alice@uni.edu` -> `alice`) unless
  `strip_domain: False`; otherwise the full value (`alice@uni.edu`).
- `google`, `microsoft`: the full email, prefixed: `google:alice@uni.edu`.
- `github`: the GitHub login (`preferred_username`), prefixed: `github:octocat`.
- `orcid`: the bare iD from the `oidc` claim, prefixed: `orcid:0000-0002-1825-0097`.
- `staff_only`: as its `provider` (google or github).

Social prefixes apply even with a single provider, so adding a provider later renames nobody;
`shared_namespace = True` drops them (the admin's explicit choice). Either way, two providers
whose usernames could coincide are refused: unprefixed email-shaped names collide when their
domain rules overlap (no `domains` means any domain); names without `@` (stripped institution
names, GitHub logins, ORCID iDs) collide with each other whatever their source.

Who gets in: `institution` everyone from the IdP, or listed domains of the claim; `google` and
`microsoft` listed email domains only; `github` and `orcid` everyone only with an explicit
`allow_all: True`, else `allowed_users`/`admin_users`; `staff_only` only those lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from traitlets.config import Config
from traitlets.config.loader import LazyConfigValue

from ..hub_classes import configured_class
from .idp_snapshot import load_snapshot
from .validation import (
    SOCIAL_ENTITY_IDS,
    Namespace,
    check_entry,
    collision_fix,
)

CLASS = "CILogonPresetsAuthenticator"
ROOT = f"{CLASS}.providers"
SCOPE = ["openid", "email", "profile", "org.cilogon.userinfo"]
#: preset -> (required keys, optional keys), besides "preset" itself
PRESETS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "institution": (
        frozenset({"entity_id"}),
        frozenset({"claim", "domains", "allow_wildcard_domains", "strip_domain", "default"}),
    ),
    "google": (frozenset({"domains"}), frozenset({"allow_wildcard_domains", "default"})),
    "microsoft": (frozenset({"domains"}), frozenset({"allow_wildcard_domains", "default"})),
    "github": (frozenset(), frozenset({"allow_all", "default"})),
    "orcid": (frozenset(), frozenset({"allow_all", "default"})),
    "staff_only": (frozenset({"provider"}), frozenset({"default"})),
}
SOCIAL_CLAIMS = {"google": "email", "microsoft": "email", "github": "preferred_username"}
SOCIAL_CLAIMS["orcid"] = "oidc"


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
    #: entity IDs whose claim holds an ORCID URL, reduced to the bare iD at login
    orcid_entity_ids: frozenset[str] = frozenset()
    #: one line per provider: entity ID, username form, allow rule
    summary: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    path: str
    preset: str
    entity_id: str
    idp: dict
    namespace: Namespace
    default: bool
    allow: str


def _compile_entry(path: str, entry: object, shared: bool) -> tuple[_Entry | None, list[str]]:
    problems = check_entry(path, entry, PRESETS, load_snapshot().entity_ids)
    if problems:
        return None, problems
    assert isinstance(entry, dict)
    return _build(path, entry["preset"], entry, shared), []


def _build(path: str, preset: str, entry: dict, shared: bool) -> _Entry:
    """The idps entry and username namespace of one valid provider entry."""
    domains = tuple(entry["domains"]) if "domains" in entry else None
    idp: dict = {}
    if preset == "institution":
        entity_id, claim = entry["entity_id"], entry.get("claim", "eppn")
        strip = (
            domains[0]
            if domains and len(domains) == 1 and entry.get("strip_domain", True)
            else None
        )
        derivation = {"username_claim": claim}
        if strip:
            derivation.update(action="strip_idp_domain", domain=strip)
        namespace = Namespace.for_claim(claim, domains=domains, strip=strip)
    else:
        social = entry["provider"] if preset == "staff_only" else preset
        entity_id, claim = SOCIAL_ENTITY_IDS[social], SOCIAL_CLAIMS[social]
        derivation = {"username_claim": claim}
        if not shared:
            derivation.update(action="prefix", prefix=social)
        namespace = Namespace.for_social(social, None if shared else social, domains)
    idp["username_derivation"] = derivation
    if preset == "staff_only":
        allow = "only Authenticator.admin_users and allowed_users"
    elif domains is not None:
        idp["allowed_domains"] = list(domains)
        idp["allowed_domains_claim"] = claim
        allow = f"{claim} at {', '.join(domains)}"
    elif preset == "institution" or entry.get("allow_all") is True:
        idp["allow_all"] = True
        allow = "everyone from this IdP" if preset == "institution" else f"every {preset} account"
    else:
        allow = "only Authenticator.admin_users and allowed_users"
    return _Entry(path, preset, entity_id, idp, namespace, entry.get("default") is True, allow)


def compile_providers(
    providers: list[dict],
    *,
    admin_users: Iterable[str] = (),
    shared_namespace: bool = False,
    allowed_users: Iterable[str] = (),
) -> Compiled:
    """Compile a providers list; raise PresetConfigError listing every problem."""
    if not isinstance(providers, list) or not providers:
        raise PresetConfigError(
            [
                f"{ROOT}: the provider list is empty. List at least one, e.g. "
                "[{'preset': 'institution', 'entity_id': 'https://idp.example.edu/idp/shibboleth'}]."
            ]
        )
    problems: list[str] = []
    entries: list[_Entry] = []
    for i, raw in enumerate(providers):
        entry, found = _compile_entry(f"{ROOT}[{i}]", raw, shared_namespace)
        problems += found
        if entry:
            entries.append(entry)
    admins = sorted({str(name).lower() for name in admin_users})
    seen: dict[str, _Entry] = {}
    for entry in entries:
        if entry.entity_id in seen:
            problems.append(
                f"{entry.path}: the same identity provider as {seen[entry.entity_id].path} "
                f"({entry.entity_id}). Keep one entry per identity provider."
            )
        seen.setdefault(entry.entity_id, entry)
        if entry.preset == "staff_only" and not admins:
            problems.append(
                f"{entry.path}: staff_only lets in only Authenticator.admin_users and "
                "allowed_users, and admin_users is empty. Add the staff's usernames, e.g. "
                f"c.Authenticator.admin_users = {{'{entry.namespace.describe()}'}}."
            )
    problems += _default_problems(providers, entries)
    problems += _collisions(entries, shared_namespace)
    namespaces = [e.namespace for e in entries]
    if len(entries) == len(providers):  # else a broken entry might be the admins' provider
        for name in admins:
            if not any(ns.produces(name) for ns in namespaces):
                problems.append(_unreachable("Authenticator.admin_users", name, namespaces))
    if problems:
        raise PresetConfigError(problems)
    compiled = Compiled()
    for name in sorted({str(n).lower() for n in allowed_users}):
        if not any(ns.produces(name) for ns in namespaces):
            compiled.warnings.append(_unreachable("Authenticator.allowed_users", name, namespaces))
    snapshot = load_snapshot()
    for entry in entries:
        if len(entries) == 1 or entry.default:
            entry.idp["default"] = True
        compiled.idps[entry.entity_id] = entry.idp
        compiled.summary.append(
            f"{entry.entity_id} ({entry.preset}): usernames "
            f"'{entry.namespace.describe()}'; allowed: {entry.allow}"
        )
        if entry.preset == "institution" and entry.entity_id not in snapshot.entity_ids:
            compiled.warnings.append(
                f"{entry.path}.entity_id: {entry.entity_id!r} is not in the bundled snapshot "
                f"of CILogon's IdP list ({snapshot.describe()}); check it at "
                "https://cilogon.org/ or refresh with `hub-extensions cilogon refresh-idps`."
            )
    compiled.orcid_entity_ids = frozenset(
        e.entity_id for e in entries if e.entity_id == SOCIAL_ENTITY_IDS["orcid"]
    )
    return compiled


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


def _collisions(entries: list[_Entry], shared: bool) -> list[str]:
    problems = []
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if a.entity_id != b.entity_id and a.namespace.collides(b.namespace):
                problems.append(
                    f"{b.path}: its usernames ('{b.namespace.describe()}') can coincide with "
                    f"those of {a.path} ('{a.namespace.describe()}'), so one person could "
                    f"log in as another. {collision_fix(a.namespace, b.namespace, shared)}"
                )
    return problems


def _unreachable(option: str, name: str, namespaces: list[Namespace]) -> str:
    forms = ", ".join(f"'{ns.describe()}'" for ns in namespaces)
    hints = [s for ns in namespaces if (s := ns.suggest(name))]
    hint = f" Did you mean {hints[0]!r}?" if hints else ""
    return (
        f"{option}: {name!r} is a username no provider can produce (they produce {forms})."
        f"{hint} Write it in one of these forms."
    )


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
    """The value `name` gets from `config` (the most specific section wins)."""
    value = default
    for section in sections:
        if section in config and name in config[section]:
            found = config[section][name]
            value = found.get_value(value) if isinstance(found, LazyConfigValue) else found
    return value


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
    sections = [k.__name__ for k in reversed(cls.__mro__)] if cls else list(SECTIONS)
    problems = idps_set_too(config, sections)
    try:
        compiled = compile_providers(
            configured(config, sections, "providers", []),
            admin_users=configured(config, sections, "admin_users", set()) or (),
            shared_namespace=bool(configured(config, sections, "shared_namespace", False)),
            allowed_users=configured(config, sections, "allowed_users", set()) or (),
        )
    except PresetConfigError as err:
        raise PresetConfigError(problems + err.problems) from None
    if problems:
        raise PresetConfigError(problems)
    return compiled


def check_cilogon_presets(config: Config) -> list[str]:
    """One message per problem in the presets authenticator's providers (none if not used)."""
    cls = authenticator_class(config)
    if not is_presets_class(cls):
        return []
    try:
        compile_config(config, cls)
    except PresetConfigError as err:
        return err.problems
    return []
