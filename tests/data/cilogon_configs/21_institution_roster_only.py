"""Pattern: a course hub: institution by eppn with stripping, only a roster in allowed_users gets in."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "https://shib.asu.edu/idp/shibboleth": {
        "username_derivation": {
            "username_claim": "eppn",
            "action": "strip_idp_domain",
            "domain": "asu.edu",
        },
    },
}
c.Authenticator.admin_users = {"instructor"}
c.Authenticator.allowed_users = {"student1", "student2", "student3"}
