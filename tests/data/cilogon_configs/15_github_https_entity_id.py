"""Pattern: the documented example with GitHub written as https:// (a common mistake) and the prefix."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idpz.utorauth.utoronto.ca/shibboleth": {
        "username_derivation": {
            "username_claim": "email",
            "action": "strip_idp_domain",
            "domain": "utoronto.ca",
        },
        "allow_all": True,
        "default": True,
    },
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "google"},
        "allowed_domains": ["uni.edu", "something.org"],
    },
    "https://github.com/login/oauth/authorize": {
        "username_derivation": {
            "username_claim": "preferred_username",
            "action": "prefix",
            "prefix": "github",
        },
    },
}
c.Authenticator.admin_users = {"github:github-user1"}
c.Authenticator.allowed_users = {"github:github-user2"}
