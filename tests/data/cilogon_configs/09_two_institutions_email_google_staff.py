"""Pattern: several institutions by email (each its own domain) plus Google staff by email."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:berkeley.edu": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["berkeley.edu"],
        "default": True,
    },
    "urn:mace:incommon:ucsd.edu": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["ucsd.edu"],
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"support@2i2c.org", "chair@berkeley.edu"}
