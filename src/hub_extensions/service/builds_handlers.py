"""Build endpoints, in BinderHub's protocol: `build/{provider}/{spec}` streams events (SSE).

JSON beside it: `api/repoproviders`, `api/builds` (mine; admins add `?all=1`),
`api/builds/{id}` (one build with its whole log) and `DELETE api/builds/{id}` (cancel).
Users see and cancel only their own builds; admins see and cancel all.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from tornado import web
from tornado.iostream import StreamClosedError

from ..builds.catalog import providers_for
from ..builds.events import KEEPALIVE, KEEPALIVE_INTERVAL, format_sse
from ..builds.naming import image_name
from ..builds.providers import SpecError, parse_spec, resolve_ref_shared
from ..builds.signing import sign
from .handlers import APIHandler


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
    }
    if with_log:
        out["log"] = [event.get("message", "") for event in build.events]
    return out


class BuildHandler(APIHandler):
    """GET build/{provider}/{spec}: resolve, then stream the build's events until it ends."""

    @web.authenticated
    async def get(self, provider: str, _decoded_spec: str) -> None:
        builds = self.ctx.builds
        if builds is None:
            raise web.HTTPError(501, "Builds are not enabled on this hub.")
        user = self.current_user_model["name"]
        # tornado unquotes path groups; BinderHub specs are parsed from the raw, encoded path
        spec = self.request.path[len(f"{self.ctx.urls.service_prefix}build/{provider}/") :]
        try:
            repo = parse_spec(provider, spec, builds.options)
            sha = await resolve_ref_shared(repo, timeout=builds.options.git_ls_remote_timeout)
        except SpecError as err:
            raise web.HTTPError(400, str(err)) from None
        image = image_name(
            builds.options.image_prefix, repo.build_slug, sha, builds.options.registry
        )
        build = await builds.broker.request(
            user, image, repo.repo_url, repo.ref, sha, provider=repo.provider
        )
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        await self._send(
            {
                "phase": "waiting",
                "message": f"Resolved {repo.ref} to {sha}\n",
                "sha": sha,
                "buildId": build.id,
                "imageName": image,
            }
        )
        events = build.follow().__aiter__()
        while True:
            try:
                event = await asyncio.wait_for(events.__anext__(), KEEPALIVE_INTERVAL)
            except TimeoutError:
                if not await self._write(KEEPALIVE):
                    return
                continue
            except StopAsyncIteration:
                break
            if event.get("phase") == "ready":
                event = {
                    **event,
                    "cacheHit": build.cache_hit,
                    # the executor's name for it (a remote BinderHub's may differ from ours)
                    "signature": sign(builds.key, user, event.get("imageName") or image),
                }
            if not await self._send(event):
                return
        self.finish()

    async def _send(self, event: dict) -> bool:
        return await self._write(format_sse(event))

    async def _write(self, data: bytes) -> bool:
        try:
            self.write(data)
            await self.flush()
        except StreamClosedError:
            return False  # the requester left; the build goes on for the others
        return True


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
        from ..builds import history
        from .usage_context import LedgerNotReady

        store = getattr(self.ctx, "usage", None)
        if store is None:
            return []
        try:
            return await store.run(lambda ledger: history.recent(ledger.engine, user))
        except LedgerNotReady:
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
        from ..builds import history
        from .usage_context import LedgerNotReady

        store = getattr(self.ctx, "usage", None)
        if store is None:
            return None
        try:
            row = await store.run(lambda ledger: history.one(ledger.engine, build_id))
        except LedgerNotReady:
            return None
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
