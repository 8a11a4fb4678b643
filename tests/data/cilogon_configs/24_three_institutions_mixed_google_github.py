"""Pattern: several institutions (eppn strip, email, eppn), Google staff by email, GitHub prefixed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.unc.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "unc.edu",
        },
        "allowed_domains": ["unc.edu"],
        "default": True,
    },
    "https://shibboleth.duke.edu/shibboleth-idp": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["duke.edu"],
    },
    "urn:mace:incommon:ncsu.edu": {
        "username_derivation": {"username_claim": "eppn"},
        "allowed_domains": ["ncsu.edu"],
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
    },
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {
            "username_claim": "preferred_username",
            "action": "prefix",
            "prefix": "github",
        },
    },
}
c.Authenticator.admin_users = {"dean", "staff@2i2c.org", "github:octocat"}
c.Authenticator.allowed_users = {"visitor@duke.edu"}
