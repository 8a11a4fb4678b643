"""Pattern: institution by eppn with domain stripping, Google for support staff by email (no prefix)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:ucmerced.edu": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "ucmerced.edu",
        },
        "allowed_domains": ["ucmerced.edu"],
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"staff@2i2c.org", "instructor"}
