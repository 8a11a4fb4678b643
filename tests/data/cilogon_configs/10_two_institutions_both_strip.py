"""Pattern: several institutions, both stripping their domain: 'alice' could be from either."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.u.washington.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "uw.edu",
        },
        "allowed_domains": ["uw.edu"],
        "default": True,
    },
    "https://idp.wsu.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "wsu.edu",
        },
        "allowed_domains": ["wsu.edu"],
    },
}
c.Authenticator.admin_users = {"hubadmin"}
