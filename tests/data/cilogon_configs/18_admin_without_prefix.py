"""Pattern: GitHub prefixed but an admin written without the prefix (nobody can be that admin)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:osu.edu": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "osu.edu",
        },
        "allowed_domains": ["osu.edu"],
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
c.Authenticator.admin_users = {"github:octocat", "octocat-old@gmail.com"}
