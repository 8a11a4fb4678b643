"""Pattern: institution by email and Google by email admitting the same domain (one person, two logins)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.colorado.edu/idp/shibboleth": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["colorado.edu"],
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["colorado.edu"],
    },
}
c.Authenticator.admin_users = {"ops@colorado.edu"}
