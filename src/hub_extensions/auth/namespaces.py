"""Which usernames a CILogon provider can produce, which it admits unlisted, and where they meet.

A provider's usernames have a prefix (`google:`) or none, and come in two shapes: names with an
`@domain` (emails, eppn) and bare names (stripped institution names, GitHub logins, ORCID iDs).
For each shape a provider has a *reach* (what a login through it can be named: an institution
vouches only for its `domains`, Google or Microsoft accounts carry any address) and an *open*
set (who gets in without being listed). Listed users (`admin_users`, `allowed_users`) bypass
the open set, which is why the checks look at both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch

ANY: tuple[str, ...] = ("*",)
NONE: tuple[str, ...] = ()
ORCID_ID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_WILDCARD = re.compile(r"[*?\[\]]")


def domain_in(domain: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(domain, p) for p in patterns)


def domains_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two domain rules (fnmatch patterns) can both match one domain."""
    for x in a:
        for y in b:
            both_wild = _WILDCARD.search(x) and _WILDCARD.search(y)
            if x == y or fnmatch(x, y) or fnmatch(y, x) or both_wild:
                return True
    return False


@dataclass(frozen=True)
class Namespace:
    """The usernames of one provider (after JupyterHub lowercases them)."""

    placeholder: str
    prefix: str | None = None
    bare: bool = False  # can produce names without '@'
    bare_open: bool = False  # admits those without a listing
    emails: tuple[str, ...] = NONE  # domains of the '@' names it can produce
    emails_open: tuple[str, ...] = NONE  # domains it admits without a listing
    strip: str | None = None  # '@strip' is removed, so no '@' name ends with it
    orcid: bool = False
    social: str | None = None

    def describe(self) -> str:
        return f"{self.prefix}:{self.placeholder}" if self.prefix else self.placeholder

    @property
    def listed_only(self) -> bool:
        return not self.bare_open and not self.emails_open

    def _rest(self, name: str) -> str | None:
        if self.prefix:
            head = self.prefix + ":"
            return name[len(head) :] or None if name.startswith(head) else None
        # ':' never occurs in an eppn, email, login or iD: such a name is someone's prefix
        return None if ":" in name.partition("@")[0] else name or None

    def _fits(self, rest: str, bare_ok: bool, domains: tuple[str, ...]) -> bool:
        if "@" not in rest:
            if self.orcid:
                return bare_ok and ORCID_ID.fullmatch(rest.upper()) is not None
            return bare_ok
        domain = rest.rsplit("@", 1)[1]
        if self.strip and domain == self.strip:
            return False
        return bool(domain) and domain_in(domain, domains)

    def produces(self, name: str) -> bool:
        """Whether a login through this provider can end up with `name`."""
        rest = self._rest(name)
        return rest is not None and self._fits(rest, self.bare, self.emails)

    def admits_unlisted(self, name: str) -> bool:
        """Whether `name` gets in through this provider without being listed."""
        rest = self._rest(name)
        return rest is not None and self._fits(rest, self.bare_open, self.emails_open)

    def suggest(self, name: str) -> str | None:
        """The form of `name` this provider would produce, if it differs and it can."""
        base = name
        head, sep, tail = name.partition(":")
        if sep and "@" not in head and "/" not in head:
            base = tail
        if self.strip and base.endswith("@" + self.strip):
            base = base[: -len(self.strip) - 1]
        if self.orcid and (m := ORCID_ID.search(base.upper())):
            base = m.group(0).lower()
        candidate = f"{self.prefix}:{base}" if self.prefix else base
        return candidate if candidate != name and self.produces(candidate) else None

    def open_overlap(self, other: Namespace) -> str | None:
        """What one admits unlisted and the other can also produce (a description), or None.

        Bare names count when one provider admits them and the other merely produces them:
        JupyterHub admits existing users again (allow_existing_users), and a bare name has no
        domain to tell whose it is. Addresses are told apart by domain at login instead."""
        if self.prefix != other.prefix:
            return None
        if (self.bare_open and other.bare) or (other.bare_open and self.bare):
            if self.orcid and other.orcid:
                return "ORCID iDs"
            return "names without @"
        if domains_overlap(self.emails_open, other.emails_open):
            shared = sorted(set(self.emails_open) & set(other.emails_open))
            at = ", ".join(shared) if shared else "overlapping domains"
            return f"addresses at {at}"
        return None


def producers(name: str, namespaces: Iterable[Namespace]) -> list[int]:
    """Indexes of the namespaces a login named `name` can come through.

    An address some provider admits unlisted belongs to that provider (the authenticator
    refuses it through any other), so only those count; otherwise every provider producing it."""
    namespaces = list(namespaces)
    owners = [i for i, ns in enumerate(namespaces) if "@" in name and ns.admits_unlisted(name)]
    return owners or [i for i, ns in enumerate(namespaces) if ns.produces(name)]
