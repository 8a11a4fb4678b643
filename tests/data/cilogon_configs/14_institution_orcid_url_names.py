"""Pattern: institution by eppn with stripping plus ORCID by the oidc claim (names are the iD URL)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idp.cornell.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "cornell.edu",
        },
        "allowed_domains": ["cornell.edu"],
        "default": True,
    },
    "http://orcid.org/oauth/authorize": {
        "username_derivation": {"username_claim": "oidc", "action": "prefix", "prefix": "orcid"},
    },
}
c.Authenticator.admin_users = {"orcid:http://orcid.org/0000-0002-1825-0097"}
c.Authenticator.allowed_users = {"orcid:http://orcid.org/0000-0001-5109-3700"}
