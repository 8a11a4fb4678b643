"""Pattern: institution by email with domain stripping, Microsoft for staff by email (no prefix)."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://idpz.utorauth.utoronto.ca/shibboleth": {
        "username_derivation": {
            "username_claim": "email",
            "action": "strip_idp_domain",
            "domain": "utoronto.ca",
        },
        "allowed_domains": ["utoronto.ca"],
        "default": True,
    },
    "http://login.microsoftonline.com/common/oauth2/v2.0/authorize": {
        "username_derivation": {"username_claim": "email"},
    },
}
c.Authenticator.admin_users = {"it-lead@partner.org", "prof"}
