"""Pattern: institution by email (full addresses), Google for staff by email, staff in allowed_users."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.ncsa.illinois.edu/idp/shibboleth": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["illinois.edu"],
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"lead@illinois.edu", "admin@2i2c.org"}
c.Authenticator.allowed_users = {"helper@2i2c.org"}
