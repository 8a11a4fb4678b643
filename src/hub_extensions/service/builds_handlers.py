"""Build endpoints, in BinderHub's protocol: `build/{provider}/{spec}` streams events (SSE),
event for event as BinderHub's build-only mode sends them, with our fields added.

JSON beside it: `api/repoproviders`, `api/builds` (mine; admins add `?all=1`),
`api/builds/{id}` (one build with its whole log) and `DELETE api/builds/{id}` (cancel).
Users see and cancel only their own builds; admins see and cancel all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from http import HTTPStatus
from urllib.parse import unquote

from tornado import web
from tornado.iostream import StreamClosedError

from ..builds import history
from ..builds.broker import TERMINAL
from ..builds.catalog import providers_for
from ..builds.events import KEEPALIVE, format_sse
from ..builds.naming import image_name
from ..builds.providers import SpecError, parse_spec, resolve_ref_shared
from ..builds.signing import sign
from ..usage.fail_open import UNAVAILABLE
from .handlers import APIHandler, user_message
from .usage_context import LedgerNotReady
from .usage_handlers import RETRY_AFTER_OUTAGE, unavailable

log = logging.getLogger(__name__)

#: `Sec-Fetch-Site` values of requests a cookie may not start a build from
CROSS_SITE = frozenset({"cross-site", "same-site"})


def build_summary(build, *, with_log: bool = False) -> dict:
    out = {
        "id": build.id,
        "user": build.user,
        "repository": build.repo_url,
        "ref": build.ref,
        "sha": build.sha,
        "image": build.built_image or build.image,
        "status": build.status,
        "cacheHit": build.cache_hit,
        "created": build.created,
        "duration": (build.finished - build.started) if build.finished and build.started else None,
        # its last message: how it ended, or where it is (e.g. its place in the queue)
        "message": build.message,
    }
    if with_log:
        out["log"] = [event.get("message", "") for event in build.events]
    return out


class BuildHandler(APIHandler):
    """GET build/{provider}/{spec}: resolve, then stream the build's events until it ends.

    As BinderHub does, every answer is HTTP 200 `text/event-stream`: errors (a bad spec, an
    unknown ref, a refused token) are one `failed` event with the message, since EventSource
    clients cannot read an error status. While the build runs, `:keepalive` comments go out
    every `HubExtensionsBuilds.keepalive_interval` seconds without events.
    """

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # nginx: pass events on as they come

    def write_error(self, status_code: int, **kwargs) -> None:
        """An error as BinderHub's `send_error`: HTTP 200, a `failed` event with `status_code`."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = user_message(exc) or HTTPStatus(status_code).phrase
        if status_code >= 500 and not isinstance(exc, web.HTTPError):  # a bug, not a message
            message = (
                "Internal error in the hub-extensions service; the admin finds it in the hub's log."
            )
        self.set_status(200)
        if getattr(exc, "retry_after", None):  # a full build queue (broker.QueueFull): 429
            self.set_header("Retry-After", str(exc.retry_after))
        event = {"phase": "failed", "status_code": status_code, "message": message + "\n"}
        self.finish(format_sse(event))

    def on_connection_close(self) -> None:
        gone = getattr(self, "_gone", None)
        if gone is not None:
            gone.set()  # stop waiting for the build's next event: nobody reads it

    def _cross_site_cookie(self) -> bool:
        """A browser's cookie-authenticated request made from another site (or a sibling
        subdomain, such as a user's server): a link or page there must not start a build in
        the visitor's name. Token-authenticated requests (the form's panel, BinderHub clients)
        carry their own proof and are not affected."""
        headers = self.request.headers
        by_token = "Authorization" in headers or self.get_query_argument("token", None)
        return not by_token and headers.get("Sec-Fetch-Site", "").lower() in CROSS_SITE

    @web.authenticated
    async def get(self, provider: str, _decoded_spec: str) -> None:
        self._gone = asyncio.Event()
        if self._cross_site_cookie():
            raise web.HTTPError(
                403,
                "Builds are not started from links or pages on other sites. Open the hub's "
                "spawn page, check the repository and press Build.",
            )
        builds = self.ctx.builds
        if builds is None:
            raise web.HTTPError(501, "Builds are not enabled on this hub.")
        # the build panel ends a stream after 3 intervals without a chunk (a dead service)
        self.set_header("X-Keepalive-Interval", f"{builds.options.keepalive_interval:g}")
        user = self.current_user_model["name"]
        # tornado unquotes path groups; BinderHub specs are parsed from the raw, encoded path
        spec = self.request.path[len(f"{self.ctx.urls.service_prefix}build/{provider}/") :]
        try:
            repo = parse_spec(provider, spec, builds.options)
            sha = await resolve_ref_shared(repo, timeout=builds.options.git_ls_remote_timeout)
        except SpecError as err:
            message = binderhub_message(err, provider, spec, builds.options.git_url_schemes)
            self.finish(format_sse({"phase": "failed", "message": message, "field": err.field}))
            return
        image = image_name(
            builds.options.image_prefix, repo.build_slug, sha, builds.options.registry
        )
        build = await builds.broker.request(
            user, image, repo.repo_url, repo.ref, sha, provider=repo.provider
        )
        # a remote BinderHub names the image itself (its image_prefix may differ from ours):
        # it is known only from its ready event
        known_image = image if builds.options.executor != "binderhub" else None
        first = True
        async with aclosing(self._follow(build, builds.options.keepalive_interval)) as events:
            async for event in events:
                extra: dict = {}
                if first or event.get("phase") in TERMINAL:
                    extra = {"buildId": build.id, "sha": sha}
                if first and known_image:
                    extra["imageName"] = known_image  # the image this build will produce
                first = False
                if event.get("phase") == "ready":
                    extra["cacheHit"] = build.cache_hit
                    # the executor's name for it (a remote BinderHub's may differ from ours)
                    extra["signature"] = sign(builds.key, user, event.get("imageName") or image)
                out = dict(event)  # BinderHub's fields first; ours never replace them
                for key, value in extra.items():
                    out.setdefault(key, value)
                if not await self._send(out):
                    return
        self.finish()

    async def _follow(self, build, interval: float) -> AsyncGenerator[dict, None]:
        """The build's events; a keepalive written after each `interval` without one.

        One `__anext__()` stays pending across keepalives: cancelling it (as a timeout around
        it would) ends the generator, and with it the stream, at the first keepalive.
        """
        events = build.follow().__aiter__()
        gone = asyncio.ensure_future(self._gone.wait())
        pending: asyncio.Future | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(events.__anext__())
                done, _ = await asyncio.wait(
                    {pending, gone}, timeout=interval, return_when=asyncio.FIRST_COMPLETED
                )
                if gone in done:
                    return
                if pending not in done:
                    if not await self._write(KEEPALIVE):
                        return
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                yield event
        finally:
            gone.cancel()
            if pending is not None and not pending.done():
                pending.cancel()  # this requester's follower only; the build goes on

    async def _send(self, event: dict) -> bool:
        return await self._write(format_sse(event))

    async def _write(self, data: bytes) -> bool:
        try:
            self.write(data)
            await self.flush()
        except StreamClosedError:
            return False  # the requester left; the build goes on for the others
        return True


def binderhub_message(err: SpecError, provider: str, spec: str, schemes: list[str]) -> str:
    """BinderHub's message for the errors it has one for (binderhub/builder.py and
    repoproviders.py), else ours, which names the field ("ref: ...")."""
    spec = spec.rstrip("/")
    key = f"{provider}:{spec}"
    if err.kind == "provider":
        return f"No provider found for prefix {provider}\n"
    if err.kind == "scheme":
        scheme = err.detail.split(":", 1)[0].lower()
        # BinderHub's own order; ssh is never allowed here
        allowed = [s for s in ("git", "https", "http", "file") if s in schemes]
        return f"Unsupported git url {err.detail}, protocol {scheme} not in {', '.join(allowed)}\n"
    if err.kind == "denied":
        # no newline, as BinderHub sends it
        return f"Sorry, {spec} is not allowed to launch. Please contact admins for more info!"
    if err.kind == "unresolved":
        return (
            f"Could not resolve ref for {key}. "
            "Double check your URL and that your repo is public.\n"
        )
    if err.kind == "unreachable":
        return (
            f"Error resolving ref for {key}: Unable to run git ls-remote to get the "
            f"`resolved_ref`: {err.detail}\n"
        )
    return f"{err}\n"


class ProvidersHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish({"providers": providers_for(self.ctx.builds.options.allowed_providers)})


class BuildsHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        user = self.current_user_model
        everyone = self.get_argument("all", "") == "1"
        if everyone and not user.get("admin"):
            raise web.HTTPError(403, "Only admins list everyone's builds (?all=1).")
        broker = self.ctx.builds.broker
        known = {b.id: b for b in [*broker.history, *broker.active.values()]}
        mine = [b for b in known.values() if everyone or user["name"] in b.requesters]
        out = {b.id: build_summary(b) for b in mine}
        for past in await self._history(None if everyone else user["name"]):
            out.setdefault(past["id"], past)  # builds of earlier service runs
        builds = sorted(out.values(), key=lambda b: b["created"], reverse=True)
        self.finish({"builds": builds})

    async def _history(self, user: str | None) -> list[dict]:
        store = getattr(self.ctx, "usage", None)
        if store is None:
            return []
        try:
            return await store.run(lambda ledger: history.recent(ledger.engine, user))
        except LedgerNotReady:
            return []
        except UNAVAILABLE as err:  # the database is away: the live builds are still listed
            log.warning("build history unavailable: %s", err)
            return []


class OneBuildHandler(APIHandler):
    def _build(self, build_id: str):
        build = self.ctx.builds.broker.find(unquote(build_id))
        user = self.current_user_model
        if build is None or not (user.get("admin") or user["name"] in build.requesters):
            raise web.HTTPError(404, f"No build {build_id!r} of yours.")
        return build

    @web.authenticated
    async def get(self, build_id: str) -> None:
        try:
            build = self._build(build_id)
        except web.HTTPError:
            past = await self._past(unquote(build_id))
            if past is None:
                raise
            self.finish(past)
            return
        self.finish(build_summary(build, with_log=True))

    async def _past(self, build_id: str) -> dict | None:
        """A build of an earlier service run, from the database, if it is the caller's."""

        store = getattr(self.ctx, "usage", None)
        if store is None:
            return None
        try:
            row = await store.run(lambda ledger: history.one(ledger.engine, build_id))
        except LedgerNotReady:
            return None
        except UNAVAILABLE as err:
            log.warning("build history unavailable: %s", err)
            raise unavailable(
                "The build history's database cannot be reached right now. Try again in "
                f"{RETRY_AFTER_OUTAGE} seconds.",
                RETRY_AFTER_OUTAGE,
            ) from None
        user = self.current_user_model
        if row is None or not (
            user.get("admin") or user["name"] == row.user or user["name"] in (row.requesters or [])
        ):
            return None
        return history.summary(row, with_log=True)

    @web.authenticated
    async def delete(self, build_id: str) -> None:
        build = self._build(build_id)
        user = self.current_user_model
        if build.done:
            raise web.HTTPError(409, f"Build {build.id} has already ended ({build.status}).")
        if not await self.ctx.builds.broker.cancel(
            build, user["name"], admin=bool(user.get("admin"))
        ):
            raise web.HTTPError(403, "Only the user who started a build (or an admin) cancels it.")
        self.set_status(204)
        self.finish()
