"""Pattern: social-only hub: Google accounts of two domains, full email as the username."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.idps = {
    "http://google.com/accounts/o8/id": {
        "username_derivation": {"username_claim": "email"},
        "allowed_domains": ["lab.org", "partner.org"],
    },
}
c.Authenticator.admin_users = {"pi@lab.org"}
