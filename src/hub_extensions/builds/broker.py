"""The build broker: one build per image, every requester sees the whole log, limits queue.

A request resolves its ref to a commit, names the image (BinderHub's scheme), and then
either answers at once (the image exists: a cache hit), attaches to the build of that image
already running or queued, or queues a new build. Builds start while the overall and the
per-user limits allow; a queued build reports its position. Subscribers replay the events so
far, then follow live ones until the build ends.

The events are BinderHub's build-only stream: a cache hit is one `ready` ("Done! Found built
image"); a build starts with `waiting` ("Waiting for build to start...") unless the executor
relays BinderHub's own (`relays_binderhub_stream`), and ends with `ready` ("Done! Image built")
or `failed`, each with a message. No `built`: build-only BinderHub never sends one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tornado import web

from .events import BUILT_MESSAGE, CACHE_HIT_MESSAGE, WAITING_MESSAGE

TERMINAL = ("ready", "failed")  # BinderHub's last phases; a cancel ends as "failed" too
INTERNAL = ("built",)  # executors may report it; the broker's `ready` says it to clients


def last_line(text: str | None) -> str:
    """The last line of a build's log that is not blank (a list entry shows it)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _new_id() -> str:
    """A build id unique across service restarts (the history outlives the process)."""
    return f"b{uuid.uuid4().hex[:12]}"


@dataclass
class Build:
    """One build of one image, shared by everyone who asked for it."""

    image: str
    repo_url: str
    ref: str
    sha: str
    user: str  # who started it (limits count against this user)
    provider: str = "git"  # gh | gl | git, for executors that pass the spec on (BinderHub)
    id: str = field(default_factory=_new_id)
    requesters: set[str] = field(default_factory=set)
    events: list[dict] = field(default_factory=list)
    status: str = "waiting"  # waiting | building | ready | failed | cancelled
    position: int | None = None  # in the queue, while waiting
    cache_hit: bool = False
    # the name the executor reports (a remote BinderHub may name it differently from `image`,
    # which stays the key requests share); the ready event carries it, and it is what is signed
    built_image: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None
    _recording: asyncio.Lock = field(default_factory=asyncio.Lock)  # one write at a time

    @property
    def message(self) -> str:
        """Its last message: how it ended, or where it is (e.g. its place in the queue)."""
        for event in reversed(self.events):
            if line := last_line(str(event.get("message", ""))):
                return line
        return ""

    @property
    def done(self) -> bool:
        return self.status in ("ready", "failed", "cancelled")

    def push(self, event: dict) -> None:
        """Record an event and wake everyone following this build."""
        self.events.append(event)
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    async def follow(self) -> AsyncIterator[dict]:
        """Every event from the first, then live ones, until the build ends."""
        seen = 0
        while True:
            if len(self.events) == seen:
                await self._wake.wait()
                continue
            event = self.events[seen]
            seen += 1
            yield event
            if event.get("phase") in TERMINAL:
                return


class QueueFull(web.HTTPError):
    """A build that would wait while the queue (the user's or everyone's) is full.

    An HTTP error with status 429, so the build endpoint answers it as BinderHub answers its
    rate limit: HTTP 200, one `failed` event with `status_code: 429` and "Try again in N
    seconds"; `retry_after` is also sent as the `Retry-After` header.
    """

    def __init__(self, message: str, retry_after: int):
        super().__init__(429, message)
        self.retry_after = retry_after


#: `execute(build, emit)` returns the final status ("built", "failed", "cancelled"), or that and
#: extra fields for the last event (e.g. the failure's message and log tail, or on "built" the
#: `imageName` the executor produced when it differs from `build.image`).
Executor = Callable[[Build, Callable[[dict], None]], Awaitable[str | tuple[str, dict]]]


class BuildBroker:
    """Deduplicates, queues and runs builds with `execute(build, emit) -> final status`."""

    def __init__(
        self,
        execute: Executor,
        image_exists: Callable[[str], Awaitable[bool]],
        *,
        max_builds: int = 2,
        max_builds_per_user: int = 1,
        max_queued: int | None = None,
        max_queued_per_user: int | None = None,
        retry_after: int = 60,
        on_finish: Callable[[Build], Any] | None = None,
        keep: int = 200,
    ):
        self._execute = execute
        # e.g. record the build in the suite's database; called when a build is queued,
        # starts and ends
        self.on_finish = on_finish
        self.keep = keep  # finished builds kept in memory (the database keeps them all)
        self._image_exists = image_exists
        self.max_builds = max_builds
        self.max_builds_per_user = max_builds_per_user
        self.max_queued = max_queued  # None: no cap
        self.max_queued_per_user = max_queued_per_user
        self.retry_after = retry_after
        self.active: dict[str, Build] = {}  # image -> build not yet finished
        self.queue: list[Build] = []
        self.history: list[Build] = []

    async def request(
        self, user: str, image: str, repo_url: str, ref: str, sha: str, provider: str = "git"
    ) -> Build:
        """The build that will produce `image` for `user` (maybe already done, or shared)."""
        build = self.active.get(image)
        if build is not None:
            build.requesters.add(user)
            return build
        build = Build(
            image=image, repo_url=repo_url, ref=ref, sha=sha, user=user, provider=provider
        )
        build.requesters.add(user)
        # registered before the (awaited) cache check, so requests arriving meanwhile attach
        self.active[image] = build
        exists = await self._image_exists(image)
        if build.done:  # cancelled while the cache was being checked
            return build
        if exists:
            build.cache_hit = True
            await self._finish(build, "ready", {"message": CACHE_HIT_MESSAGE})
            return build
        refusal = self._queue_refusal(user)
        if refusal:
            # not a build: nothing is recorded; anyone who attached meanwhile hears why
            self.active.pop(image, None)
            build.status = "failed"
            build.push({"phase": "failed", "status_code": 429, "message": refusal + "\n"})
            raise QueueFull(refusal, self.retry_after)
        if not getattr(self._execute, "relays_binderhub_stream", False):
            build.push({"phase": "waiting", "message": WAITING_MESSAGE})
        self.queue.append(build)
        await self._schedule()
        if build in self.queue:
            # recorded while it waits too: if the service dies before it runs, the next start
            # marks it interrupted (it was lost without a trace); written before the client's
            # first event, so a build anyone saw has its record
            await self._record(build)
        return build

    async def cancel(self, build: Build, user: str, *, admin: bool = False) -> bool:
        """Cancel for its starter (or an admin); False when not allowed or already done."""
        if build.done or not (admin or user == build.user):
            return False
        if build in self.queue:
            self.queue.remove(build)
            await self._finish(build, "cancelled", {"message": "Build cancelled\n"})
            await self._schedule()
        elif build._task is not None:
            build._task.cancel()
        else:  # still checking the cache: end it now, request() sees it is done
            await self._finish(build, "cancelled", {"message": "Build cancelled\n"})
        return True

    def _queue_refusal(self, user: str) -> str | None:
        """Why a new build of `user` may not wait for a slot (the queue caps), or None."""
        running = self.running()
        mine = sum(b.user == user for b in running)
        if len(running) < self.max_builds and mine < self.max_builds_per_user:
            return None  # it starts at once
        retry = f"Try again in {self.retry_after} seconds."
        queued = sum(b.user == user for b in self.queue)
        if self.max_queued_per_user is not None and queued >= self.max_queued_per_user:
            return (
                f"You have {queued} builds waiting for a slot, the most this hub allows. "
                f"Wait for them or cancel one. {retry}"
            )
        if self.max_queued is not None and len(self.queue) >= self.max_queued:
            return f"The build queue is full ({len(self.queue)} builds waiting). {retry}"
        return None

    def find(self, build_id: str) -> Build | None:
        for build in itertools.chain(self.active.values(), reversed(self.history)):
            if build.id == build_id:
                return build
        return None

    def running(self) -> list[Build]:
        return [b for b in self.active.values() if b.status == "building"]

    async def _schedule(self) -> None:
        running = self.running()
        for build in list(self.queue):
            if len(running) >= self.max_builds:
                break
            if sum(b.user == build.user for b in running) >= self.max_builds_per_user:
                continue
            self.queue.remove(build)
            running.append(build)
            build.status = "building"
            build.position = None
            build.started = time.time()
            build._task = asyncio.create_task(self._run(build))
        for position, build in enumerate(self.queue, 1):
            if build.position != position:
                build.position = position
                build.push(
                    {
                        "phase": "waiting",
                        "message": f"Waiting for a build slot: {position} in the queue\n",
                        "position": position,
                    }
                )

    async def _run(self, build: Build) -> None:
        def emit(event: dict) -> None:
            # the broker sends the last event itself
            if event.get("phase") not in TERMINAL + INTERNAL:
                build.push(event)

        extra: dict[str, Any] = {}
        try:
            # recorded as running first: if the service dies, its next start marks it failed
            await self._record(build)
            outcome = await self._execute(build, emit)
            status, extra = outcome if isinstance(outcome, tuple) else (outcome, {})
        except asyncio.CancelledError:
            status, extra = "cancelled", {"message": "Build cancelled\n"}
        except Exception as err:  # an executor bug must not leave requesters hanging
            status, extra = "failed", {"message": f"Build error: {err}\n"}
        await self._finish(build, "ready" if status == "built" else status, extra)
        await self._schedule()

    async def _finish(self, build: Build, status: str, extra: dict[str, Any]) -> None:
        build.status = status
        build.finished = time.time()
        self.active.pop(build.image, None)
        self.history.append(build)
        event = {"phase": "ready" if status == "ready" else "failed", **extra}
        # every last event has a message: BinderHub's clients show it
        if not event.get("message"):
            event["message"] = BUILT_MESSAGE if status == "ready" else "Build failed\n"
        if status == "ready":
            build.built_image = extra.get("imageName") or build.image
            event["imageName"] = build.built_image
        if status == "cancelled":
            event["cancelled"] = True
        build.push(event)
        del self.history[: -self.keep]
        await self._record(build)

    async def _record(self, build: Build) -> None:
        """`on_finish(build)`: called when a build waits in the queue, when it starts running
        and when it ends; one at a time per build, in that order (the last write wins)."""
        if self.on_finish is None:
            return
        async with build._recording:
            try:
                result = self.on_finish(build)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # a history that cannot be written must not break builds
                logging.getLogger(__name__).exception("build %s not recorded", build.id)
