"""Start-time checks across providers: collisions, unreachable listed users, dead providers.

Each takes `(path, Namespace)` pairs and returns problem messages (path, what, fix).
"""

from __future__ import annotations

from .namespaces import Namespace, producers

Described = list[tuple[str, Namespace]]
ADMINS, ALLOWED = "Authenticator.admin_users", "Authenticator.allowed_users"


def open_collisions(entries: Described, shared: bool) -> list[str]:
    """Two providers that admit the same name without a listing: one person could be another."""
    problems = []
    for i, (path_a, a) in enumerate(entries):
        for path_b, b in entries[i + 1 :]:
            what = a.open_overlap(b)
            if what:
                problems.append(
                    f"{path_b}: its usernames ('{b.describe()}') can coincide with those of "
                    f"{path_a} ('{a.describe()}'): both admit {what}, so one person could log "
                    f"in as another. {_fix(a, b, shared)}"
                )
    return problems


def _fix(a: Namespace, b: Namespace, shared: bool) -> str:
    fixes = []
    if shared and (a.social or b.social):
        fixes.append("set shared_namespace = False (the default) so social usernames get a prefix")
    fixes.append("give one of them a `prefix`")
    if a.strip and b.strip:
        fixes.append("set `strip_domain: False` on one of them to keep full user@domain names")
    if a.emails_open and b.emails_open:
        fixes.append("list disjoint `domains` for each")
    return "Fix: " + ", or ".join(fixes) + "."


def listed_problems(entries: Described, admins: set[str], allowed: set[str]) -> list[str]:
    """Listed names no provider, or several providers, can produce; providers nobody can use.

    Listed users bypass every domain rule, so a name two providers can produce is a collision
    even when their `domains` are disjoint."""
    namespaces = [ns for _, ns in entries]
    problems = []
    used = set()
    for option, names in ((ADMINS, admins), (ALLOWED, allowed)):
        for name in sorted(names):
            found = producers(name, namespaces)
            used.update(found)
            if not found:
                problems.append(_unreachable(option, name, entries))
            elif len(found) > 1:
                paths = " and ".join(
                    f"{entries[i][0]} ('{entries[i][1].describe()}')" for i in found
                )
                problems.append(
                    f"{option}: {name!r} can come from {paths}. Listed users bypass the domain "
                    "rules, so a login through either would be this user. Fix: give one of "
                    "them a `prefix` (and list the prefixed name), or for an institution list "
                    "`domains` that exclude this address."
                )
    listed = sorted(admins | allowed)
    for i, (path, ns) in enumerate(entries):
        if ns.listed_only and i not in used:
            owned = [n for n in listed if ns.produces(n)]
            why = (
                f"those of its form ({', '.join(map(repr, owned))}) are addresses another "
                "provider admits, and a login through this one may not take them"
                if owned
                else f"none of them has its form ('{ns.describe()}')"
            )
            problems.append(
                f"{path}: admits only Authenticator.admin_users and allowed_users, and {why}, "
                "so nobody can log in through it. Give it a `prefix`, list "
                f"the people who should (e.g. c.Authenticator.allowed_users = "
                f"{{'{_example(ns)}'}}), or remove the provider."
            )
    return problems


def _example(ns: Namespace) -> str:
    sample = {"<login>": "octocat", "<ORCID iD>": "0000-0002-1825-0097"}.get(
        ns.placeholder, "someone@example.org"
    )
    return f"{ns.prefix}:{sample}" if ns.prefix else sample


def _unreachable(option: str, name: str, entries: Described) -> str:
    forms = ", ".join(f"'{ns.describe()}'" for _, ns in entries)
    hint = ""
    for path, ns in entries:
        suggestion = ns.suggest(name)
        if suggestion:  # suggest() only returns names this provider produces
            hint = f" Did you mean {suggestion!r} (from {path})?"
            break
    return (
        f"{option}: {name!r} is a username no provider can produce (they produce {forms}; "
        f"an institution only names addresses at its `domains`).{hint} Nobody could log in as "
        "it: write it in one of these forms."
    )
