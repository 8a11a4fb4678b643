"""Make a migrated providers list start: fix what the old configuration got away with.

In order, until nothing changes: two providers admitting the same names unlisted (one gets a
prefix), a listed name two providers can produce (one gets a prefix; the list keeps both
forms, so whoever was meant keeps their access), listed names nobody can produce (dropped),
providers nobody can log in through (dropped). Each change is a note naming who is affected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from traitlets.config import Config

from .migrate import (
    IDP_SECTIONS,
    USER_SECTIONS,
    Migration,
    _pick_default,
    _rename_orcid,
    migrate_idps,
)
from .namespaces import Namespace, producers
from .presets import PRESETS, ROOT, PresetConfigError, compile_providers, configured, namespaces_of
from .validation import check_entry


def resolve(out: Migration) -> None:
    _drop_invalid(out)
    for _ in range(4 * len(out.providers) + 4):
        namespaces = namespaces_of(out.providers)
        if not (
            _fix_open(out, namespaces)
            or _fix_listed(out, namespaces)
            or _drop_unreachable(out, namespaces)
            or _drop_dead(out, namespaces)
        ):
            break
    if not out.providers:
        out.incomplete = True
        out.notes.append("nothing left to migrate: no provider could be kept.")
        return
    _note_owned(out, namespaces_of(out.providers))
    try:
        compiled = compile_providers(
            out.providers, admin_users=out.admin_users, allowed_users=out.allowed_users
        )
    except PresetConfigError as err:
        out.incomplete = True
        out.notes += [f"the result needs a fix: {p}" for p in err.problems]
        return
    out.warnings = compiled.warnings + compiled.info


def _drop_invalid(out: Migration) -> None:
    for i in reversed(range(len(out.providers))):
        entry = out.providers[i]
        if isinstance(entry.get("prefix"), str):
            entry["prefix"] = entry["prefix"].lower()
        problems = check_entry(f"{ROOT}[{i}]", entry, PRESETS, ())
        if problems:
            out.notes += [f"{out.sources[i]}: not migrated: {p}" for p in problems]
            out.incomplete = True
            _remove(out, i)


def _remove(out: Migration, i: int) -> None:
    was_default = out.providers[i].get("default") is True
    del out.providers[i]
    del out.sources[i]
    if was_default and out.providers:
        _pick_default(out, [], "")


def _victim(out: Migration, namespaces: list[Namespace], candidates: list[int]) -> int:
    """Which provider changes: an unprefixed social one if any, else the later one."""
    social = [i for i in candidates if namespaces[i].social and not namespaces[i].prefix]
    return social[0] if social else max(candidates)


def _new_prefix(out: Migration, namespaces: list[Namespace], i: int) -> str:
    ns = namespaces[i]
    taken = {n.prefix for n in namespaces}
    if ns.social:
        base = ns.social
    else:
        domains = out.providers[i].get("domains") or []
        host = ns.strip or (domains[0] if domains else "")
        host = host or urlsplit(out.sources[i]).hostname or out.sources[i].rpartition(":")[2]
        parts = [p for p in host.split(".") if p not in ("idp", "login", "www", "shibboleth")]
        base = (parts[-2] if len(parts) >= 2 else parts[0]) if parts else "institution"
    prefix, n = base, 2
    while prefix in taken:
        prefix, n = f"{base}{n}", n + 1
    return prefix


def _separate(out: Migration, namespaces: list[Namespace], i: int, why: str) -> None:
    """Give provider i names of its own; listed names it produced follow it (and stay listed
    too when another provider produces them, so whoever was meant keeps their access)."""
    old = namespaces[i]
    entry = out.providers[i]
    if old.strip:
        entry["strip_domain"] = False  # oauthenticator cannot strip and prefix both

        def new_name(name: str) -> str:
            return name if "@" in name else f"{name}@{old.strip}"

        change = f"usernames of {out.sources[i]} keep @{old.strip}"
    else:
        prefix = _new_prefix(out, namespaces, i)
        entry["prefix"] = prefix

        def new_name(name: str) -> str:
            return f"{prefix}:{name}"

        change = f"usernames of {out.sources[i]} get the prefix '{prefix}:'"
    out.renamed_providers.append(f"{change}: {why}.")
    for option in ("admin_users", "allowed_users"):
        names: set[str] = getattr(out, option)
        for name in sorted(names):
            if not old.produces(name):
                continue
            new = new_name(name)
            names.add(new)
            if any(ns.produces(name) for k, ns in enumerate(namespaces) if k != i):
                out.notes.append(
                    f"{option}: {name!r} could be a user of either provider; kept, and "
                    f"{new!r} added for the other one. Remove the one you did not mean."
                )
            else:
                names.discard(name)
                out.renames.append((name, new, change))


def _fix_open(out: Migration, namespaces: list[Namespace]) -> bool:
    for i, a in enumerate(namespaces):
        for j in range(i + 1, len(namespaces)):
            what = a.open_overlap(namespaces[j])
            if what:
                v = _victim(out, namespaces, [i, j])
                other = j if v == i else i
                why = (
                    f"it and {out.sources[other]} both admit {what}, so one person could log in "
                    "as another"
                )
                _separate(out, namespaces, v, why)
                return True
    return False


def _fix_listed(out: Migration, namespaces: list[Namespace]) -> bool:
    for name in sorted(out.admin_users | out.allowed_users):
        found = producers(name, namespaces)
        if len(found) > 1:
            v = _victim(out, namespaces, found)
            why = f"listed {name!r} could come from {' and '.join(out.sources[k] for k in found)}"
            _separate(out, namespaces, v, why)
            return True
    return False


def _drop_unreachable(out: Migration, namespaces: list[Namespace]) -> bool:
    changed = False
    for option in ("admin_users", "allowed_users"):
        names: set[str] = getattr(out, option)
        for name in sorted(names):
            if not producers(name, namespaces):
                names.discard(name)
                changed = True
                out.notes.append(
                    f"{option}: {name!r} dropped: no provider produces that name (an "
                    "institution only names addresses at its domains), so nobody could log "
                    "in as it."
                )
    return changed


def _drop_dead(out: Migration, namespaces: list[Namespace]) -> bool:
    listed = out.admin_users | out.allowed_users
    for i, ns in enumerate(namespaces):
        if not ns.listed_only or any(i in producers(n, namespaces) for n in listed):
            continue
        owned = sorted(n for n in listed if ns.produces(n))
        if owned:  # its staff's addresses are ones another provider admits: separate them
            why = f"listed {', '.join(map(repr, owned))} would be taken as another provider's"
            _separate(out, namespaces, i, why)
            return True
        out.notes.append(
            f"{out.sources[i]}: dropped: it admitted only listed users and none has its "
            f"form ('{ns.describe()}'), so nobody could log in through it."
        )
        _remove(out, i)
        return True
    return False


def _note_owned(out: Migration, namespaces: list[Namespace]) -> None:
    """Say where a name now comes only from the provider that admits it unlisted, and which
    listed addresses an institution no longer vouches for."""
    listed = sorted(n for n in out.admin_users | out.allowed_users if "@" in n)
    for i, ns in enumerate(namespaces):
        if ns.social or ns.emails == ("*",):
            continue
        outside = [n for n in listed if ns._rest(n) is not None and not ns.produces(n)]
        if outside:
            out.notes.append(
                f"a login through {out.sources[i]} carrying {', '.join(map(repr, outside))} is "
                "now refused (before: admitted, being listed): an institution vouches only for "
                "addresses at its domains."
            )
    for i, owner in enumerate(namespaces):
        for j, other in enumerate(namespaces):
            if i == j or other.prefix != owner.prefix or other.admits_unlisted("x@" + "y"):
                continue
            shared = [d for d in owner.emails_open if d != "*" and other.produces(f"someone@{d}")]
            if shared and not any(other.admits_unlisted(f"someone@{d}") for d in shared):
                out.notes.append(
                    f"a login through {out.sources[j]} carrying an address at "
                    f"{', '.join(shared)} is now refused, even when listed or already a user: "
                    f"those names belong to {out.sources[i]}'s users, who keep them."
                )


def migrate_config(config: Config) -> Migration:
    """Migrate the idps of a loaded jupyterhub_config.py and check the result."""
    idps = configured(config, IDP_SECTIONS, "idps")
    if not idps:
        idps = configured(config, IDP_SECTIONS, "allowed_idps")
    out = migrate_idps(idps)
    out.admin_users = {
        str(n).lower() for n in configured(config, USER_SECTIONS, "admin_users", set()) or ()
    }
    out.allowed_users = {
        str(n).lower() for n in configured(config, USER_SECTIONS, "allowed_users", set()) or ()
    }
    _rename_orcid(out)
    if out.providers:
        resolve(out)
    return out
