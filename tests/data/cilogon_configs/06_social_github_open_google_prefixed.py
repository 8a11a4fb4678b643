"""Pattern: social-only hub: any GitHub user (no prefix) and any Google account (prefixed)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {"username_claim": "preferred_username"},
        "allow_all": True,
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "google"},
        "allow_all": True,
    },
}
c.Authenticator.admin_users = {"octocat"}
