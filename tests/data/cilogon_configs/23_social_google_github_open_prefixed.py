"""Pattern: social-only public hub: every Google and GitHub account, both prefixed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.idps = {
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "google"},
        "allow_all": True,
        "default": True,
    },
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {
            "username_claim": "preferred_username",
            "action": "prefix",
            "prefix": "github",
        },
        "allow_all": True,
    },
}
c.Authenticator.admin_users = {"github:octocat", "google:admin@example.org"}
