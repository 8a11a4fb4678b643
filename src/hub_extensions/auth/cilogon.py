"""`CILogonPresetsAuthenticator`: CILogon configured by a short, validated `providers` list."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from oauthenticator.cilogon import CILogonOAuthenticator
from tornado import web
from traitlets import Bool, Dict, Float, List, TraitError, Unicode, observe

from ..requirements_check import oauthenticator_problems
from .idp_refresh import IdpListRefresher
from .idp_snapshot import DEFAULT_LIST_PATH, DEFAULT_URL, entity_id_findings, load_idp_list
from .login_messages import missing_claim, missing_idp, refused, unknown_idp, wrong_provider
from .namespaces import ORCID_ID
from .presets import PresetConfigError, compile_providers, idps_set_too

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
          username is the claim without `@domain` (`strip_domain: False` keeps it,
          `strip_domain: "uni.edu"` names the domain to strip); `only_listed_users: True`
          admits only `admin_users`/`allowed_users`.
        - `{"preset": "google", "domains": ["uni.edu"]}` and the same for `microsoft`:
          email addresses at the listed domains; usernames `google:<email>`.
        - `{"preset": "github"}`: usernames `github:<login>`; everyone only with
          `"allow_all": True`, else `Authenticator.allowed_users`/`admin_users`.
        - `{"preset": "orcid"}`: usernames `orcid:<bare ORCID iD>`; `allow_all` as github.
        - `{"preset": "staff_only", "provider": "github"}` (or google, microsoft, orcid):
          only `admin_users`/`allowed_users`, at least one of them in its form.

        Every entry takes `"prefix": "name"` (usernames `name:...`) or `"prefix": False`
        (none). Wildcard domains need `"allow_wildcard_domains": True`. With several
        providers, exactly one has `"default": True` (pre-selected at CILogon). Default:
        empty, which stops the hub with a message.
        """,
    ).tag(config=True)

    shared_namespace = Bool(
        False,
        help="""
        Give social providers' usernames (google, microsoft, github, orcid) no prefix, so
        `google:alice@uni.edu` becomes `alice@uni.edu` (a provider's own `prefix` wins).
        Providers whose usernames could then coincide are still refused at start (one person
        could log in as another), so this suits providers whose names cannot overlap, e.g.
        GitHub logins next to an institution's full eppn values. Default: False.
        """,
    ).tag(config=True)

    idp_list_path = Unicode(
        DEFAULT_LIST_PATH,
        help="""
        Where the hub keeps its copy of CILogon's IdP list, used to warn at start about an
        institution's entity ID that CILogon does not know (with the nearest real ones). A
        relative path is relative to the hub's working directory, its data directory (next
        to jupyterhub.sqlite; /srv/jupyterhub on Zero to JupyterHub). The hub refreshes it
        in the background; `hub-extensions cilogon refresh-idps --config FILE` writes it too.
        Default: 'cilogon-idps.json'.
        """,
    ).tag(config=True)

    idp_list_url = Unicode(
        DEFAULT_URL,
        help="""
        Where the hub fetches CILogon's IdP list (a JSON array of objects with `EntityID` and
        `DisplayName`). Default: 'https://cilogon.org/idplist/'.
        """,
    ).tag(config=True)

    idp_list_refresh_interval = Float(
        86400.0,
        help="""
        Seconds between background refreshes of CILogon's IdP list; the first runs right after
        start. Each fetch times out after 10 s and never delays start or logins; a failure is
        one info line and the previous copy stays. 0 disables the refresh (e.g. a hub without
        internet access: run `refresh-idps` elsewhere and copy the file). Default: 86400 (daily).
        """,
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._orcid_entity_ids: frozenset[str] = frozenset()
        self._apply_presets()
        self._refresher: IdpListRefresher | None = None
        if self.idp_list_refresh_interval > 0:
            self._refresher = IdpListRefresher(
                self.idp_list_url,
                self._list_path(),
                self.idp_list_refresh_interval,
                self.log,
                self._idp_list_refreshed,
            )
            self._refresher.start()

    def _list_path(self) -> Path:
        return Path(self.idp_list_path).expanduser()

    @observe("providers", "shared_namespace")
    def _providers_changed(self, change):
        if hasattr(self, "_orcid_entity_ids"):  # after __init__: recompile
            self._apply_presets()

    def _apply_presets(self) -> None:
        sections = [k.__name__ for k in reversed(type(self).__mro__)]
        # oauthenticator < 17.4 reads allowed_idps, not the idps set below: refuse at start
        problems = oauthenticator_problems() + idps_set_too(self.config, sections)
        try:
            compiled = compile_providers(
                self.providers,
                admin_users=self.admin_users,
                shared_namespace=self.shared_namespace,
                allowed_users=self.allowed_users,
                idp_list=load_idp_list(self._list_path()),
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
        self._compiled = compiled
        self.log.info(
            "hub-extensions: CILogon presets compiled to CILogonOAuthenticator.idps = %s, "
            "scope = %s\n%s",
            json.dumps(compiled.idps, indent=1),
            compiled.scope,
            "\n".join(f"  {line}" for line in compiled.summary),
        )
        for line in compiled.info:
            self.log.info("hub-extensions: %s", line)
        for warning in compiled.warnings:
            self.log.warning("hub-extensions: %s", warning)

    def _idp_list_refreshed(self) -> None:
        """Judge the institutions' entity IDs against the fresh list (warnings only)."""
        idp_list = load_idp_list(self._list_path())
        institutions = {
            eid: f"{eid} ({label})"
            for eid, label in self._compiled.labels.items()
            if not self._compiled.namespaces[eid].social
        }
        warnings, _ = entity_id_findings(institutions, idp_list)
        for eid in institutions:
            if name := idp_list.names.get(eid):
                self._compiled.labels[eid] = name
        for warning in warnings:
            self.log.warning("hub-extensions: %s", warning)

    # ---------------------------------------------------------------- logins
    def user_info_to_username(self, user_info):
        """As CILogonOAuthenticator, but every refusal is a 403 a user can act on."""
        idp = user_info.get("idp")
        if not isinstance(idp, str) or not idp.strip():
            raise self._refuse(missing_idp())
        if idp not in self.idps:
            accepted = [self._compiled.labels.get(e, e) for e in self.idps]
            raise self._refuse(unknown_idp(user_info.get("idp_name"), accepted))
        return super().user_info_to_username(user_info)

    def _user_info_to_unprocessed_username(self, user_info):
        idp = user_info["idp"]
        claim = self.idps[idp]["username_derivation"]["username_claim"]
        value = user_info.get(claim)
        if not value or not isinstance(value, str):
            raise self._refuse(missing_claim(self._label(user_info), claim))
        if idp not in self._orcid_entity_ids:
            return value
        bare = bare_orcid_id(value)
        if bare is None:
            raise self._refuse(
                f"ORCID login refused: the oidc claim {value!r} is not an ORCID iD such as "
                "http://orcid.org/0000-0002-1825-0097. Please contact the hub administrator."
            )
        return bare

    def _label(self, user_info: dict) -> str:
        idp = user_info["idp"]
        return self._compiled.labels.get(idp) or user_info.get("idp_name") or "Your login"

    def _refuse(self, message: str) -> web.HTTPError:
        self.log.warning("hub-extensions: login refused: %s", message)
        return web.HTTPError(403, message)

    async def check_allowed(self, username, auth_model):
        """As CILogonOAuthenticator, plus: a name is admitted only through a provider that
        can produce it, and a name another provider admits only when it is listed."""
        user_info = auth_model["auth_state"][self.user_auth_state_key]
        idp = user_info["idp"]
        try:
            allowed = await super().check_allowed(username, auth_model)
        except web.HTTPError as err:  # a domain claim missing: oauthenticator answers 500
            if err.status_code < 500:
                raise
            claim = self.idps[idp].get("allowed_domains_claim", "email")
            raise self._refuse(missing_claim(self._label(user_info), claim)) from None
        ns = self._compiled.namespaces.get(idp)
        if allowed and ns is not None:
            # names another provider admits unlisted are its users' (e.g. its domain's), even
            # when listed or already in the database: refuse them through any other provider
            owners = [
                self._compiled.labels[e]
                for e, other in self._compiled.namespaces.items()
                if e != idp and "@" in username and other.admits_unlisted(username)
            ]
            if not ns.produces(username) or (owners and not ns.admits_unlisted(username)):
                raise self._refuse(wrong_provider(username, self._label(user_info), owners))
        if allowed:
            return True
        conf = self.idps[idp]
        if conf.get("allowed_domains"):
            claim = conf.get("allowed_domains_claim", "email")
            rule = f"only {claim} at {', '.join(conf['allowed_domains'])} may log in"
        else:
            rule = "only users listed by the hub administrator may log in"
        source = user_info.get("idp_name") or self._label(user_info)
        message = refused(username, source, rule)
        self.log.warning("hub-extensions: %s", message)
        raise web.HTTPError(403, f"{message} {self.custom_403_message}")
