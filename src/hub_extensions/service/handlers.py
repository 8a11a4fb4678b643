"""HTTP handlers of the service: pages redirect to the hub's login, APIs answer 403."""

from __future__ import annotations

import contextlib
import json
from http import HTTPStatus

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web

from .. import page_style
from ..problems import ConfigProblems
from .context import ServiceContext

#: A token gives admin powers in the service (everyone's builds, usage, cost, the config
#: problems) only when it carries one of these scopes unfiltered. The hub's `admin` flag says
#: what the *user* may do, whatever the token: a token narrowed to
#: `access:services!service=...` (like the spawn form's) held by an admin must act as a
#: plain user. `admin-ui` is what an admin's login to the service carries (the service asks
#: for it, see wiring.ADMIN_MARKER_SCOPE); at the hub it opens the admin page and nothing else.
ADMIN_SCOPES = ("admin:users", "admin-ui")


def has_admin_powers(model: dict) -> bool:
    """Admin powers in the service, from the token's scopes (not from the user's admin flag)."""
    scopes = set(model.get("scopes") or ())
    return any(scope in scopes for scope in ADMIN_SCOPES)


def user_message(exc: BaseException | None) -> str | None:
    """An HTTPError's message as the user should read it.

    Tornado's `HTTPError.log_message` doubles every '%' when the error has no arguments (it is
    meant for a %-style logger), so a message naming `/api/100%25` read `/api/100%%25`.
    """
    if not isinstance(exc, web.HTTPError) or exc.log_message is None:
        return None
    raw = getattr(exc, "_log_message", None) or exc.log_message
    try:
        return raw % exc.args if exc.args else raw
    except (TypeError, ValueError):
        return raw


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    ctx: ServiceContext

    def initialize(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.hub_auth = ctx.hub_auth

    def get_current_user(self):
        """The hub's model of the caller, with `admin` meaning admin powers *of this token*
        (`hub_admin` keeps the user's flag); every handler reads `admin` from here."""
        model = super().get_current_user()
        if not model:
            return model
        model = dict(model)
        model["hub_admin"] = bool(model.get("admin"))
        model["admin"] = has_admin_powers(model)
        return model

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Security-Policy", "frame-ancestors 'self'; object-src 'none'")

    @property
    def current_user_model(self) -> dict:
        return self.current_user

    def render_page(self, template: str, **ns) -> None:
        page = self.ctx.templates.get_template(template)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        # pages are per user (names, figures, an XSRF token): never kept by a cache
        self.set_header("Cache-Control", "no-store")
        self.finish(
            page.render(
                urls=self.ctx.urls,
                user=self.current_user,
                static_url=self.static_url,
                xsrf_token=self.xsrf_token.decode() if self.current_user else "",
                version=self.ctx.version,
                **ns,
            )
        )

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = self._reason or HTTPStatus(status_code).phrase
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = user_message(exc) or reason
        if status_code >= 500 and not isinstance(exc, web.HTTPError):  # a bug, not a message
            message = (
                "Internal error in the hub-extensions service; the admin finds it in the hub's log."
            )
        self.render_page("error.html", status_code=status_code, reason=reason, message=message)


class APIHandler(BaseHandler):
    """JSON in, JSON out; no redirects to the login page."""

    def get_login_url(self) -> str:
        raise web.HTTPError(
            403, "Not authenticated: send a hub token (Authorization: token ...) or log in first."
        )

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = user_message(exc) or HTTPStatus(status_code).phrase
        if getattr(exc, "retry_after", None):  # a 503 of an outage, a 429 of a full queue
            self.set_header("Retry-After", str(exc.retry_after))
        if status_code >= 500 and not isinstance(exc, web.HTTPError):  # a bug, not a message
            message = (
                "Internal error in the hub-extensions service; the admin finds it in the hub's log."
            )
        self.finish(json.dumps({"status": status_code, "message": message}))


class HealthHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        user = self.current_user_model
        body = {
            "status": "ok",
            "version": self.ctx.version,
            "hub": await self.ctx.hub_status(),
            "user": {"name": user["name"], "admin": bool(user.get("admin"))},
        }
        if user.get("admin"):
            problem = await ledger_problem(self.ctx)
            body["ledger"] = {"ok": problem is None, "problem": problem}
        self.finish(body)


async def ledger_problem(ctx: ServiceContext) -> str | None:
    """What is wrong with the ledger's SQLite file (vanished, replaced), for admins; else None."""
    store = ctx.usage
    if store is None:
        return None
    with contextlib.suppress(Exception):  # opens the ledger if it can; its errors are the APIs'
        await store.run(lambda ledger: None)
    return store.file_problem()


class ConfigProblemsHandler(APIHandler):
    """Admins only: the configuration warnings the hub found at start, and the problems it
    found since in callable profile lists (shared through `config.ConfigProblems`' file)."""

    @web.authenticated
    async def get(self) -> None:
        if not self.current_user_model.get("admin"):
            raise web.HTTPError(
                403,
                "Only the hub's admins see its configuration problems (with a token that "
                "carries admin:users, or logged in to the service).",
            )
        path = self.ctx.config_problems_path
        data = ConfigProblems.load(path) if path is not None else None
        ledger = await ledger_problem(self.ctx)
        if ledger is not None:  # shown with the rest on the admin's page
            data = data or {"started": ""}
            data["runtime"] = [
                {"message": f"Usage ledger: {ledger}", "refused": True, "seen": ""},
                *data.get("runtime", []),
            ]
        if data is None:
            self.finish(
                {
                    "available": False,
                    "message": "The hub has not shared its configuration checks (yet): "
                    "its log has them.",
                    "warnings": [],
                    "runtime": [],
                }
            )
            return
        self.finish(
            {
                "available": True,
                "started": data.get("started", ""),
                "warnings": [str(w) for w in data.get("warnings", [])],
                "runtime": [
                    {"message": str(r.get("message", "")), "refused": bool(r.get("refused")),
                     "seen": str(r.get("seen", ""))}
                    for r in data.get("runtime", []) if isinstance(r, dict)
                ],
            }
        )  # fmt: skip


class PageStyleHandler(web.RequestHandler):
    """JupyterHub's stylesheet without its leading @imports, for the spawn and home pages
    (page_style.py).

    Public, like JupyterHub's own static files. Cached for good at the version the hub put in
    the page's link (`?v=`); any other URL is revalidated. Gzipped when the browser takes it.
    """

    def initialize(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def get(self) -> None:
        style = page_style.load(self.ctx.hub_data_files_path)
        if style is None:
            # the hub links JupyterHub's own stylesheet in that case; a stale page falls back to
            # it too (the link's onerror)
            raise web.HTTPError(404, "JupyterHub's stylesheet is not one this service can serve")
        self.set_header("Content-Type", "text/css; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Vary", "Accept-Encoding")
        if self.get_query_argument("v", None) == style.version:
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.set_header("Cache-Control", "no-cache")
        self.set_header("Etag", f'W/"{style.version}"')
        if self.check_etag_header():
            self.set_status(304)
            return
        if "gzip" in self.request.headers.get("Accept-Encoding", ""):
            self.set_header("Content-Encoding", "gzip")
            self.write(style.gzipped)
        else:
            self.write(style.body)


class HomeHandler(BaseHandler):
    @web.authenticated
    def get(self) -> None:
        self.render_page("home.html")


class APINotFoundHandler(APIHandler):
    def prepare(self) -> None:
        raise web.HTTPError(404, f"No such API endpoint: {self.request.path}")


class PageNotFoundHandler(BaseHandler):
    def prepare(self) -> None:
        raise web.HTTPError(404, f"No such page: {self.request.path}")


class OAuthCallbackHandler(HubOAuthCallbackHandler):
    def initialize(self, ctx: ServiceContext) -> None:
        self.hub_auth = ctx.hub_auth
