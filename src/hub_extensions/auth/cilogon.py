"""`CILogonPresetsAuthenticator`: CILogon configured by a short, validated `providers` list."""

from __future__ import annotations

import copy
import json
from typing import Any

from oauthenticator.cilogon import CILogonOAuthenticator
from tornado import web
from traitlets import Bool, Dict, List, TraitError, observe

from .presets import PresetConfigError, compile_providers, idps_set_too
from .validation import ORCID_ID

_ORCID_URL = ("http://orcid.org/", "https://orcid.org/")


def bare_orcid_id(value: str) -> str | None:
    """`0000-0002-1825-0097` from `http://orcid.org/0000-0002-1825-0097` (or bare); else None."""
    for prefix in _ORCID_URL:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    return value if ORCID_ID.fullmatch(value) else None


class CILogonPresetsAuthenticator(CILogonOAuthenticator):
    """CILogon login from presets (institution, google, microsoft, github, orcid, staff_only).

    The providers compile to CILogonOAuthenticator's `idps` and `scope` when the hub starts;
    any problem stops the hub with every mistake listed.
    """

    providers = List(
        Dict(),
        help="""
        The identity providers users may log in with, each a preset and its parameters:

        - `{"preset": "institution", "entity_id": "https://idp.uni.edu/idp/shibboleth",
          "claim": "eppn", "domains": ["uni.edu"]}`: `claim` is `eppn` (default) or `email`;
          without `domains` everyone from the IdP gets in; with exactly one domain the
          username is the claim without `@domain` (set `strip_domain: False` to keep it).
        - `{"preset": "google", "domains": ["uni.edu"]}` and the same for `microsoft`:
          email addresses at the listed domains; usernames `google:<email>`.
        - `{"preset": "github"}`: usernames `github:<login>`; everyone only with
          `"allow_all": True`, else `Authenticator.allowed_users`/`admin_users`.
        - `{"preset": "orcid"}`: usernames `orcid:<bare ORCID iD>`; `allow_all` as github.
        - `{"preset": "staff_only", "provider": "github"}` (or google): only
          `admin_users`/`allowed_users`, which must not be empty.

        Wildcard domains need `"allow_wildcard_domains": True`. With several providers,
        exactly one has `"default": True` (pre-selected at CILogon). Default: empty, which
        stops the hub with a message.
        """,
    ).tag(config=True)

    shared_namespace = Bool(
        False,
        help="""
        Give social providers' usernames (google, microsoft, github, orcid) no prefix, so
        `google:alice@uni.edu` becomes `alice@uni.edu`. Providers whose usernames could then
        coincide are still refused at start (one person could log in as another), so this
        suits providers whose names cannot overlap, e.g. GitHub logins next to an
        institution's full eppn values. Default: False.
        """,
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._orcid_entity_ids: frozenset[str] = frozenset()
        self._apply_presets()

    @observe("providers", "shared_namespace")
    def _providers_changed(self, change):
        if hasattr(self, "_orcid_entity_ids"):  # after __init__: recompile
            self._apply_presets()

    def _apply_presets(self) -> None:
        sections = [k.__name__ for k in reversed(type(self).__mro__)]
        problems = idps_set_too(self.config, sections)
        try:
            compiled = compile_providers(
                self.providers,
                admin_users=self.admin_users,
                shared_namespace=self.shared_namespace,
                allowed_users=self.allowed_users,
            )
        except PresetConfigError as err:
            problems += err.problems
        if problems:
            raise TraitError(
                "hub-extensions: invalid CILogon presets, the hub will not start:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        self.idps = copy.deepcopy(compiled.idps)  # oauthenticator's check edits it in place
        # keep scopes the admin added (e.g. offline_access) after the ones presets need
        added = [s for s in self.scope if s not in compiled.scope]  # type: ignore[has-type]
        self.scope = compiled.scope + added
        self._orcid_entity_ids = compiled.orcid_entity_ids
        self.log.info(
            "hub-extensions: CILogon presets compiled to CILogonOAuthenticator.idps = %s, "
            "scope = %s\n%s",
            json.dumps(compiled.idps, indent=1),
            compiled.scope,
            "\n".join(f"  {line}" for line in compiled.summary),
        )
        for warning in compiled.warnings:
            self.log.warning("hub-extensions: %s", warning)

    def _user_info_to_unprocessed_username(self, user_info):
        value = super()._user_info_to_unprocessed_username(user_info)
        if user_info["idp"] not in self._orcid_entity_ids:
            return value
        bare = bare_orcid_id(str(value))
        if bare is None:
            message = (
                f"ORCID login refused: the oidc claim {value!r} is not an ORCID iD such as "
                "http://orcid.org/0000-0002-1825-0097. Please contact the hub administrator."
            )
            self.log.warning(message)
            raise web.HTTPError(403, message)
        return bare

    async def check_allowed(self, username, auth_model):
        """As CILogonOAuthenticator, but a refusal says which provider and rule refused."""
        if await super().check_allowed(username, auth_model):
            return True
        user_info = auth_model["auth_state"][self.user_auth_state_key]
        idp = self.idps[user_info["idp"]]
        source = user_info.get("idp_name") or user_info["idp"]
        if idp.get("allowed_domains"):
            claim = idp.get("allowed_domains_claim", "email")
            rule = f"only {claim} at {', '.join(idp['allowed_domains'])} may log in"
        else:
            rule = "only users listed by the hub administrator may log in"
        message = f"{username!r} (from {source}) is not allowed on this hub: {rule}."
        self.log.warning("hub-extensions: %s", message)
        raise web.HTTPError(403, f"{message} {self.custom_403_message}")
