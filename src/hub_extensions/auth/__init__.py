"""CILogon login presets: a validated `CILogonOAuthenticator.idps` from a few lines of config.

`cilogon.CILogonPresetsAuthenticator` (entry point `cilogon-presets`) is the authenticator;
`presets` compiles and checks the providers list without importing oauthenticator.
"""
