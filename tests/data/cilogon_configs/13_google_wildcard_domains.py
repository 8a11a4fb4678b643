"""Pattern: allow_wildcard_domains: Google accounts of a university and all its subdomains, prefixed."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "google"},
        "allowed_domains": ["berkeley.edu", "*.berkeley.edu"],
    },
}
c.Authenticator.admin_users = {"google:dean@berkeley.edu"}
