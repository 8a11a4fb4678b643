"""What a user is told when a CILogon login is refused: what happened and what to do."""

from __future__ import annotations

#: claim -> (what it is, in a user's words; what to do when it is missing)
_CLAIMS = {
    "eppn": (
        "your institutional username (eduPersonPrincipalName)",
        "Your institution does not release it to CILogon: ask its IT help desk to release "
        "eduPersonPrincipalName to CILogon, or log in with another provider if the hub offers one.",
    ),
    "email": (
        "your email address",
        "Check that your account has an email address and that you allowed CILogon to share "
        "it, then log in again.",
    ),
    "preferred_username": (
        "your GitHub username",
        "Log in again and allow CILogon to share your profile.",
    ),
    "oidc": (
        "your account identifier (for ORCID, your iD)",
        "Log in again and allow CILogon to share it.",
    ),
}
_ADMIN = (
    "If it keeps happening, tell the hub administrator (the CILogon client may lack a scope: "
    "the section Register the client at CILogon of the hub-extensions CILogon docs tells which)."
)


def missing_idp() -> str:
    return (
        "CILogon did not say which identity provider you logged in with, so the hub cannot "
        f"tell who you are. Log in again. {_ADMIN}"
    )


def unknown_idp(idp_name: object, accepted: list[str]) -> str:
    chosen = idp_name if isinstance(idp_name, str) and idp_name.strip() else "The login you chose"
    return (
        f"{chosen} is not one of the logins this hub accepts. Log in again and choose one of: "
        f"{'; '.join(accepted)}."
    )


def missing_claim(label: str, claim: str) -> str:
    what, fix = _CLAIMS.get(claim, (f"the '{claim}' claim", "Log in again."))
    return (
        f"{label} did not pass {what} to CILogon, and this hub names accounts by it. {fix} {_ADMIN}"
    )


def wrong_provider(username: str, label: str, owners: list[str]) -> str:
    if owners:
        return (
            f"The account {username} belongs to users of {', '.join(owners)}, not {label}. "
            f"Log in with {owners[0]}."
        )
    return (
        f"{label} cannot vouch for {username}: that address is outside the domains this hub "
        "accepts from it. Log in with the provider that issued the address."
    )


def refused(username: str, source: str, rule: str) -> str:
    return f"{username!r} (from {source}) is not allowed on this hub: {rule}."
