"""Pattern: institution admitting everyone it vouches for (full eppn), GitHub staff prefixed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://access-ci.org/idp": {
        "username_derivation": {"username_claim": "eppn"},
        "allow_all": True,
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
c.Authenticator.admin_users = {"github:octocat", "jdoe@access-ci.org"}
