"""Pattern: institution admitting all with stripping of its main domain, Google staff unprefixed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.purdue.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "email",
            "action": "strip_idp_domain",
            "domain": "purdue.edu",
        },
        "allow_all": True,
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"rcac-staff@2i2c.org", "admin"}
