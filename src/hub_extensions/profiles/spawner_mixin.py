"""The profiles form for any Spawner: form, parsing, validation (HTTP 400) and overrides."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tornado import web
from traitlets import Bool, Callable, Dict, HasTraits, List, Union, default

from ..builds.catalog import providers_for
from ..builds.config import HubExtensionsBuilds
from ..builds.signing import SigningKeyError, load_key, verify
from ..cost.config import HubExtensionsCost
from ..jupyterhub_internals import requesting_user_name, spawner_log_name
from ..options import load as load_options
from ..options import options_for
from ..problems import CONFIG_PROBLEMS
from ..usage.config import HubExtensionsUsage
from .checks import callable_root, evaluate
from .form import render_form, script_version
from .model import Groups, Problem, ProfileListError, visible
from .overrides import apply_overrides, overrides_for
from .page_data import FormCache, link_summary, profiles_data, selected_for, without_signatures
from .prices import add_prices
from .selection import (
    SIGNATURE_SUFFIX,
    UNLISTED_SUFFIX,
    SelectionError,
    as_user_options,
    select,
    user_options_from_form,
)

log = logging.getLogger("hub_extensions.profiles")
MAX_PAGES = 256  # rendered forms kept per profile list, group view and price period

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

Compatibility (docs/profiles.md): every list KubeSpawner 7.1 launches is accepted; keys with
no effect are warnings (logged at start, shown to admins on the service's home page, errors
under `hub-extensions check-config --strict`); what would fail or mislead at spawn stops the
hub at start, every such problem listed. A callable's result is checked the first time it is
evaluated for a user: its broken profiles are withheld from that user, the rest are offered.
"""


class ProfilesMixin(HasTraits):
    """Mix into a Spawner (before it) to give it the profiles form."""

    if TYPE_CHECKING:  # what the Spawner it is mixed into provides
        user: Any
        config: Any
        log: Any

    #: The `user_options` this spawner last normalised (see `remember`).
    hx_normalised: dict | None = None
    #: The slug of the profile the last spawn's options chose (read by the usage ledger).
    hx_chosen_profile: str = ""

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

    allowed_groups_ignore_case = Bool(
        False,
        help="""
        Match `allowed_groups` in `profile_list` without regard to case (`Staff` allows members
        of `staff`). Default: False, an exact match, as JupyterHub's group names are.
        """,
    ).tag(config=True)

    groups_from_auth_state = Callable(
        None,
        allow_none=True,
        help="""
        A function `(spawner, auth_state) -> iterable of group names` (may be async) whose
        names count as the user's groups for `allowed_groups`, besides their JupyterHub
        groups. `auth_state` is the authenticator's (None unless
        `Authenticator.enable_auth_state`). For GitHub teams as `org:team-slug` names, set
        `hub_extensions.profiles.github_teams` (needs
        `GitHubOAuthenticator.populate_teams_in_auth_state = True`). Default: None.
        """,
    ).tag(config=True)

    #: names `groups_from_auth_state` gave at the last `hx_all_profiles`
    hx_extra_groups: frozenset[str] = frozenset()

    def hx_groups(self) -> Groups:
        """The user's groups for `allowed_groups` (the hook's, as of `hx_all_profiles`)."""
        names = {group.name for group in self.user.groups} | self.hx_extra_groups
        return Groups(names, ignore_case=self.allowed_groups_ignore_case)

    async def hx_load_groups(self) -> None:
        hook = self.groups_from_auth_state
        if hook is None:
            return
        try:
            extra = hook(self, await self.user.get_auth_state())
            if inspect.isawaitable(extra):
                extra = await extra
            names = frozenset(extra or ())
            if not all(isinstance(n, str) for n in names):
                raise TypeError(f"returned {sorted(map(repr, names))}, not group names")
        except Exception as err:
            problem = Problem(
                f"{type(self).__name__}.groups_from_auth_state",
                f"failed: {type(err).__name__}: {err}; no extra groups were added.",
                "make it return a list of group names.",
            )
            CONFIG_PROBLEMS.report([problem], f"groups of {self.user.name}")
            names = frozenset()
        self.hx_extra_groups = names

    async def hx_all_profiles(self):
        """Every usable profile for this spawner (a callable is called and checked; broken
        profiles are withheld and reported once, in the log and on the admin's page)."""
        await self.hx_load_groups()
        value = self.profile_list
        if not callable(value):  # read (and checked) once, not per render: see FormCache
            return FormCache.of(self).checked.profiles
        try:
            checked = await evaluate(value, self)
        except ProfileListError as err:
            if callable(value):
                CONFIG_PROBLEMS.report(list(err.problems), "profile_list")
            raise
        if callable(value) and checked.problems:
            CONFIG_PROBLEMS.report(checked.problems, callable_root(value))
        return checked.profiles

    #: the FormCache entry `hx_profiles` used last (the render that follows reuses it)
    hx_form_entry: FormCache | None = None

    async def hx_profiles(self):
        """The profiles this spawner's user may see and choose."""
        if callable(self.profile_list):
            return visible(await self.hx_all_profiles(), self.hx_groups())
        self.hx_form_entry = entry = FormCache.of(self)  # one look-up per render
        if not entry.uses_groups:  # everyone sees the same list: the groups are not read
            return entry.visible_to(Groups())
        await self.hx_load_groups()
        return entry.visible_to(self.hx_groups())

    def hx_verify_build(self, image: str, signature: str) -> bool:
        """Is `image` a build result signed for the server's owner, or for the user who starts
        it now? The service signs for whoever asked for the build (the form's token is the
        requester's); JupyterHub has already checked that the requester may start this
        server, so their own build may launch in it, and nobody else's."""

        try:
            key = _signing_key(options_for(HubExtensionsBuilds, self.config))
        except SigningKeyError as err:
            self.log.error("hub-extensions: cannot check build signatures: %s", err)
            return False
        names = {self.user.name, *_requester_names(self)}
        return any(verify(key, name, image, signature) for name in names)

    def options_from_query(self, query_data):
        """JupyterHub's query spawn (`GET /hub/spawn?profile=...`), which starts without the
        form: a link that names an unlisted value or a built image shows the filled-in form
        instead, unless it was followed from one of the hub's own pages (see `_link_trusted`).
        """
        options = super().options_from_query(query_data)
        handler = getattr(self, "handler", None)
        asks = [
            key
            for key, value in (options or {}).items()
            if isinstance(key, str)
            and value
            and (key.endswith(UNLISTED_SUFFIX) or key.endswith(SIGNATURE_SUFFIX))
        ]
        if asks and handler is not None and not _link_trusted(handler, self.hub.base_url):
            handler.hx_link = options  # read by the form rendered next, in this request
            log.info(
                "hub-extensions: a link for %s names %s; showing the form to confirm",
                spawner_log_name(self),
                ", ".join(sorted(asks)),
            )
            raise LinkNeedsAClick("a link's choices wait for the user's click on Start")
        return options

    def hx_apply(self, selection) -> None:
        """Apply a validated selection onto this spawner's options."""
        apply_overrides(self, overrides_for(selection))


@functools.cache
def _signing_key(builds: HubExtensionsBuilds) -> bytes:
    """The build-signing key, read (or made) once per options object, not at every check."""
    return load_key(builds)


class LinkNeedsAClick(Exception):
    """Raised by `options_from_query` so that JupyterHub renders the form instead of starting.
    The form says what the link asks for; JupyterHub's own error line stays empty."""

    jupyterhub_message = None
    jupyterhub_html_message = None


#: `Sec-Fetch-Site` values of a navigation that may start a query spawn with an unlisted value
TRUSTED_FETCH_SITES = frozenset({"same-origin"})


def _link_trusted(handler, hub_prefix: str) -> bool:
    """Was this request a link followed on one of the hub's own pages?

    Only then does a query spawn with an unlisted value or a built image start at once:
    `Sec-Fetch-Site: same-origin` and a `Referer` on this host under the hub's prefix (so not
    a user's server page, which shares the hub's origin without subdomains). Anything else
    (another site, another subdomain, a typed or pasted address, a link in an e-mail, a
    browser that sends no `Sec-Fetch-Site`) gets the filled-in form and the user's click.
    """
    headers = handler.request.headers
    if headers.get("Sec-Fetch-Site", "").lower() not in TRUSTED_FETCH_SITES:
        return False
    referer = urlsplit(headers.get("Referer", ""))
    return referer.netloc == handler.request.host and referer.path.startswith(hub_prefix)


def _requester_names(spawner) -> list[str]:
    """The user who makes the current request (form POST, REST call, spawn link), if any."""
    name = requesting_user_name(spawner)
    return [name] if name else []


def _service_prefix(spawner) -> str:
    hub_prefix = spawner.hub.base_url  # e.g. /jh/hub/
    base_url = hub_prefix[: -len("hub/")] if hub_prefix.endswith("hub/") else "/"
    return f"{base_url}services/{load_options(spawner.config).service_name}/"


async def _render_options_form(spawner) -> str:
    handler = getattr(spawner, "handler", None)
    link = getattr(handler, "hx_link", None)  # a query spawn waiting for the user's click
    if handler is not None and link is not None:
        handler.hx_link = None  # once: JupyterHub may leave this handler on the spawner
    try:
        profiles = await spawner.hx_profiles()
    except ProfileListError:  # reported once, in the log and on the admin's page
        return (
            '<div class="alert alert-danger" role="alert">The list of environments could not '
            "be loaded. The hub's admin finds the cause in the hub's log.</div>"
        )
    if not profiles:
        return ""
    # profiles, prices and build options: the same for every render of this list and day
    cache = None if callable(spawner.profile_list) else spawner.hx_form_entry
    static = FormCache.static_for(cache, spawner, profiles, _static_data)
    last = without_signatures(link) if link else spawner.user_options or None
    data = {**static["data"], "selected": selected_for(profiles, last)}
    urls = {"service_prefix": static["service_prefix"], "spawn_url": static["spawn_url"]}
    if link:
        data["link"] = link_summary(profiles, link)
        return render_form(data, **urls)
    # the same choices pre-selected give the same HTML: rendered once (users' last choices vary
    # little; the cache is bounded and lives as long as the static part it belongs to)
    pages = static["pages"]
    key = (json.dumps(data["selected"], sort_keys=True), script_version())
    html = pages.get(key)
    if html is None:
        if len(pages) >= MAX_PAGES:
            pages.clear()
        html = pages[key] = render_form(data, **urls)
    return html


def _static_data(spawner, profiles) -> dict:
    """What the form shows that depends on the profile list, the config and the time only."""
    data: dict = {"profiles": profiles_data(profiles)}
    _add_prices(spawner, data, profiles)
    if any(o.dynamic_builds for p in profiles for o in p.options):
        data["builds"] = _builds_for_form(spawner)
    return {
        "data": data,
        "service_prefix": _service_prefix(spawner),
        "spawn_url": f"{spawner.hub.base_url}spawn",
        "pages": {},  # rendered HTML by pre-selection (see _render_options_form)
    }


def _add_prices(spawner, data: dict, profiles) -> None:
    """Hourly prices per profile and choice, when the hub has a price table (issue #7)."""

    cost = options_for(HubExtensionsCost, spawner.config)
    usage = options_for(HubExtensionsUsage, spawner.config)
    if cost.enabled and usage.enabled:  # without the ledger nothing is priced: show no prices
        add_prices(data, profiles, spawner, cost, usage.timezone)


def _builds_for_form(spawner) -> dict:
    """The providers to offer, and how the panel gets its token when it is first used.

    The page carries no token: rendering it mints nothing. The build panel asks the hub for
    one (`POST /hub/api/users/{requester}/tokens` with the page's cookie and JupyterHub's XSRF
    token) the first time it needs it: for the user who opened the page, never the server's
    owner, with only the service's access scope, expiring after
    `HubExtensionsBuilds.form_token_lifetime`.
    It keeps it in the tab's sessionStorage and reuses it while it is valid (docs/builds.md).
    """

    builds = options_for(HubExtensionsBuilds, spawner.config)
    service = load_options(spawner.config).service_name
    return {
        "providers": providers_for(builds.allowed_providers),
        "token": {
            "scopes": [f"access:services!service={service}"],
            "expires_in": builds.form_token_lifetime,
            "note": "hub-extensions spawn form (builds)",
        },
    }


async def _apply_user_options(spawner, user_options: dict) -> None:
    try:
        profiles = await spawner.hx_all_profiles()
    except ProfileListError as err:
        log.error("profile_list for %s: %s", spawner_log_name(spawner), err)
        # the admin's list is broken, not the user's choice: nothing to fix in the form, and
        # not a crash either (the problem is on the admin's page); try again once it is fixed
        raise web.HTTPError(
            503,
            "The list of environments could not be loaded, so nothing can start right now. "
            "The hub's admin has been told; try again later.",
        ) from None
    if not profiles:
        return
    try:
        selection = select(
            profiles, user_options or {}, spawner.hx_groups(), spawner.hx_verify_build
        )
    except SelectionError as err:
        raise web.HTTPError(400, err.message) from None
    spawner.hx_chosen_profile = selection.profile.slug
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
