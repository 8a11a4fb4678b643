"""Pattern: several institutions by eppn (full names), three of them marked default: True."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:uci.edu": {
        "username_derivation": {"username_claim": "eppn"},
        "allowed_domains": ["uci.edu"],
        "default": True,
    },
    "urn:mace:incommon:ucla.edu": {
        "username_derivation": {"username_claim": "eppn"},
        "allowed_domains": ["ucla.edu"],
        "default": True,
    },
    "urn:mace:incommon:ucr.edu": {
        "username_derivation": {"username_claim": "eppn"},
        "allowed_domains": ["ucr.edu"],
        "default": True,
    },
}
c.Authenticator.admin_users = {"admin@uci.edu"}
