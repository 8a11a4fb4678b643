"""Pattern: institution by eppn with domain stripping, GitHub staff with the 'github' prefix."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://login.cmu.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "andrew.cmu.edu",
        },
        "allowed_domains": ["andrew.cmu.edu"],
        "default": True,
    },
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {
            "username_claim": "preferred_username",
            "action": "prefix",
            "prefix": "github",
        },
    },
}
c.Authenticator.admin_users = {"github:octocat", "ta1"}
c.Authenticator.allowed_users = {"github:hubot"}
