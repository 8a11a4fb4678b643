"""Pattern: Google (a.edu) and Microsoft (b.edu) by email without prefixes, an admin at a.edu listed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["a.edu"],
        "default": True,
    },
    "http://login.microsoftonline.com/common/oauth2/v2.0/authorize": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["b.edu"],
    },
}
c.Authenticator.admin_users = {"boss@a.edu"}
