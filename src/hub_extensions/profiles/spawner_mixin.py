"""The profiles form for any Spawner: form, parsing, validation (HTTP 400) and overrides."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tornado import web
from traitlets import Callable, Dict, HasTraits, List, Union, default

from ..config import load as load_options
from .form import render_form
from .model import ProfileListError, resolve, visible
from .overrides import apply_overrides, overrides_for
from .page_data import page_data
from .selection import SelectionError, as_user_options, select, user_options_from_form

log = logging.getLogger("hub_extensions.profiles")

PROFILE_LIST_HELP = """
List of profiles users choose from when they start a server, with KubeSpawner's semantics
(https://jupyterhub-kubespawner.readthedocs.io, `KubeSpawner.profile_list`), for any spawner.

A list of dicts, a dict keyed by slug, or a callable (sync or async) taking the spawner and
returning either. Each profile has `display_name`, optional `slug` (made from the display name
when absent), `description` (simple HTML: links, emphasis, lists; sanitised), `default`,
`kubespawner_override` (spawner options this profile sets, e.g. `image`, `mem_limit`,
`cpu_limit`, `environment`; dicts merge) and `profile_options`: `{key: {display_name,
choices: {choice_key: {display_name, description, default, kubespawner_override}},
unlisted_choice: {enabled, display_name, display_name_in_choices, validation_regex,
kubespawner_override}}}` where `{value}` in an unlisted choice's override is replaced by the
user's value, which must fully match `validation_regex`.

Additions: `allowed_groups` on a profile or a choice (only members of those JupyterHub groups
see and can choose it) and `resources` (`{"cpu": 2, "memory": "4G", "gpu": 1,
"gpu_type": "T4"}`) shown on the card. Example::

    c.ProfilesDockerSpawner.profile_list = [
        {"display_name": "Small", "kubespawner_override": {"mem_limit": "2G", "cpu_limit": 1}},
        {"display_name": "GPU", "allowed_groups": ["gpu-users"],
         "kubespawner_override": {"image": "pytorch:2"}},
    ]

Override keys that the spawner does not have stop the hub at start, naming the key.
"""


class ProfilesMixin(HasTraits):
    """Mix into a Spawner (before it) to give it the profiles form."""

    if TYPE_CHECKING:  # what the Spawner it is mixed into provides
        user: Any
        config: Any
        log: Any

    #: The `user_options` this spawner last normalised (see `remember`).
    hx_normalised: dict | None = None

    profile_list = Union(
        [List(), Dict(), Callable()], default_value=[], help=PROFILE_LIST_HELP
    ).tag(config=True)

    @default("options_form")
    def _hx_options_form_default(self):
        return _render_options_form

    @default("options_from_form")
    def _hx_options_from_form_default(self):
        return user_options_from_form

    @default("apply_user_options")
    def _hx_apply_user_options_default(self):
        return _apply_user_options

    def hx_groups(self) -> set[str]:
        return {group.name for group in self.user.groups}

    async def hx_all_profiles(self):
        """Every profile, resolved for this spawner (callables called)."""
        return await resolve(self.profile_list, self)

    async def hx_profiles(self):
        """The profiles this spawner's user may see and choose."""
        return visible(await self.hx_all_profiles(), self.hx_groups())

    def hx_verify_build(self, image: str, signature: str) -> bool:
        """Is `image` a build result signed for this spawner's user? (issue #4's signatures)"""
        from ..builds.config import Builds
        from ..builds.signing import SigningKeyError, load_key, verify

        try:
            key = load_key(Builds(config=self.config))
        except SigningKeyError as err:
            self.log.error("hub-extensions: cannot check build signatures: %s", err)
            return False
        return verify(key, self.user.name, image, signature)

    def hx_apply(self, selection) -> None:
        """Apply a validated selection onto this spawner's options."""
        apply_overrides(self, overrides_for(selection))


def _service_prefix(spawner) -> str:
    hub_prefix = spawner.hub.base_url  # e.g. /jh/hub/
    base_url = hub_prefix[: -len("hub/")] if hub_prefix.endswith("hub/") else "/"
    return f"{base_url}services/{load_options(spawner.config).service_name}/"


async def _render_options_form(spawner) -> str:
    try:
        profiles = await spawner.hx_profiles()
    except ProfileListError:
        log.exception("profile_list for %s could not be loaded", spawner._log_name)
        return (
            '<div class="alert alert-danger" role="alert">The list of environments could not '
            "be loaded. The hub's admin finds the cause in the hub's log.</div>"
        )
    if not profiles:
        return ""
    data = page_data(profiles, spawner.user_options or None)
    _add_prices(spawner, data, profiles)
    token = None
    if any(o.dynamic_builds for p in profiles for o in p.options):
        data["builds"], token = _builds_for_form(spawner)
    return render_form(
        data,
        service_prefix=_service_prefix(spawner),
        spawn_url=f"{spawner.hub.base_url}spawn",
        build_token=token,
    )


def _add_prices(spawner, data: dict, profiles) -> None:
    """Hourly prices per profile and choice, when the hub has a price table (issue #7)."""
    from ..cost.config import Cost
    from ..cost.form_prices import add_prices
    from ..usage.config import Usage

    cost = Cost(config=spawner.config)
    usage = Usage(config=spawner.config)
    if cost.enabled and usage.enabled:  # without the ledger nothing is priced: show no prices
        add_prices(data, profiles, spawner, cost, cost.timezone or usage.timezone)


def _builds_for_form(spawner) -> tuple[dict, str | None]:
    """The providers to offer, and a short-lived token that reaches only our service.

    The token goes into the page (memory), never into browser storage: the build panel sends
    it as `Authorization` to the service's build endpoints. It carries only the service's
    access scope, so it can read nothing else of the user's, and it expires after
    `Builds.form_token_lifetime`. Without it the panel says why and the form still works.
    """
    from ..builds.catalog import providers_for
    from ..builds.config import Builds

    builds = Builds(config=spawner.config)
    info = {"providers": providers_for(builds.allowed_providers)}
    service = load_options(spawner.config).service_name
    try:
        token = spawner.user.new_api_token(
            note="hub-extensions spawn form (builds)",
            expires_in=builds.form_token_lifetime,
            scopes=[f"access:services!service={service}"],
        )
    except Exception:  # e.g. the user's roles lack the service's access scope
        log.exception("no build token for %s: the build panel is off", spawner._log_name)
        return {**info, "error": "Builds are not available to you. Ask the hub's admin."}, None
    return info, token


async def _apply_user_options(spawner, user_options: dict) -> None:
    try:
        profiles = await spawner.hx_all_profiles()
    except ProfileListError as err:
        log.error("profile_list for %s: %s", spawner._log_name, err)
        raise web.HTTPError(500, "The list of environments could not be loaded.") from None
    if not profiles:
        return
    try:
        selection = select(
            profiles, user_options or {}, spawner.hx_groups(), spawner.hx_verify_build
        )
    except SelectionError as err:
        raise web.HTTPError(400, err.message) from None
    spawner.hx_apply(selection)
    remember(spawner, as_user_options(selection, user_options or {}))


def remember(spawner, user_options: dict) -> None:
    """Keep the normalised selection as the spawner's `user_options`, and in the database.

    JupyterHub stores what the form or the REST call sent before this hook runs; replacing it
    means the next form pre-fills only what was applied, the REST API shows it, and KubeSpawner's
    `load_user_options` (in `start()`, after this hook) reads it. JupyterHub commits the
    database right after calling `start()`.
    """
    spawner.user_options = user_options
    spawner.hx_normalised = user_options
    orm_spawner = getattr(spawner, "orm_spawner", None)
    if orm_spawner is not None and orm_spawner.user_options != user_options:
        orm_spawner.user_options = user_options
