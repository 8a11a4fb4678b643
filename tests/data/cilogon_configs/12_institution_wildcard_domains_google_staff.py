"""Pattern: allow_wildcard_domains: institution by email with subdomains ('*.ucsd.edu'), Google staff."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:ucsd.edu": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["ucsd.edu", "*.ucsd.edu"],
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"staff@2i2c.org", "prof@eng.ucsd.edu"}
