# CILogon login with presets: one institution, Google accounts of listed domains, and ORCID.
# Register the client at https://cilogon.org/oauth2/register (see docs/cilogon.md) with the
# callback https://hub.example.edu/hub/oauth_callback and the scopes openid, email, profile
# and org.cilogon.userinfo. `hub-extensions cilogon render cilogon-presets.py` shows the
# compiled CILogonOAuthenticator configuration.
import hub_extensions

c = get_config()  # noqa: F821

c.JupyterHub.authenticator_class = "cilogon-presets"
c.CILogonPresetsAuthenticator.client_id = "cilogon:/client_id/REPLACE-ME"
c.CILogonPresetsAuthenticator.client_secret = "REPLACE-ME"  # noqa: S105 - a placeholder
c.CILogonPresetsAuthenticator.oauth_callback_url = "https://hub.example.edu/hub/oauth_callback"

c.CILogonPresetsAuthenticator.providers = [
    # Staff and students log in through their university; usernames lose "@example.edu".
    {
        "preset": "institution",
        "entity_id": "https://idp.example.edu/idp/shibboleth",
        "claim": "eppn",
        "domains": ["example.edu"],
        "default": True,
    },
    # Partners with Google Workspace accounts: google:<email>, only these domains.
    {"preset": "google", "domains": ["partner.example.org"]},
    # Guest researchers by ORCID iD: orcid:<bare iD>, only those listed below
    # (add "allow_all": True to admit everyone with an ORCID iD).
    {"preset": "orcid"},
]
# Usernames as the presets produce them (docs/cilogon.md, "Usernames").
c.Authenticator.admin_users = {"prof", "orcid:0000-0002-1825-0097"}
c.Authenticator.allowed_users = {"orcid:0000-0001-5109-3700"}

hub_extensions.setup(c)
