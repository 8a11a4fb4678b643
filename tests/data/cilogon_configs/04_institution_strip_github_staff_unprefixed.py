"""Pattern: institution by eppn with domain stripping, GitHub staff by login without a prefix.

A stripped eppn and a GitHub login are both bare names: 'octocat' could be either."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://shibboleth.umich.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "umich.edu",
        },
        "allowed_domains": ["umich.edu"],
        "default": True,
    },
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {"username_claim": "preferred_username"},
    },
}
c.Authenticator.admin_users = {"octocat", "monalisa"}
