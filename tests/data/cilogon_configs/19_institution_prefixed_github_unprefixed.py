"""Pattern: institution names with a prefix ('ucb:alice@berkeley.edu'), GitHub logins without one."""

c = get_config()  # noqa: F821
c.JupyterHub.authenticator_class = "cilogon"
c.CILogonOAuthenticator.allowed_idps = {
    "urn:mace:incommon:berkeley.edu": {
        "username_derivation": {"username_claim": "eppn", "action": "prefix", "prefix": "ucb"},
        "allowed_domains": ["berkeley.edu"],
        "default": True,
    },
    "http://github.com/login/oauth/authorize": {
        "username_derivation": {"username_claim": "preferred_username"},
        "allow_all": True,
    },
}
c.Authenticator.admin_users = {"ucb:gsi@berkeley.edu", "octocat"}
