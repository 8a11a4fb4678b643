"""Pattern: social-only hub: GitHub logins from a roster in allowed_users (no prefix)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {"username_claim": "preferred_username"},
    },
}
c.Authenticator.admin_users = {"octocat"}
c.Authenticator.allowed_users = {"student-one", "student-two", "hubot"}
