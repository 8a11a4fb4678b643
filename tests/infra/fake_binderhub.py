"""A stand-in for BinderHub's build API (binderhub/builder.py `BuildHandler`) on loopback.

It checks what a real binderhub-service would check (the bearer token, `Accept:
text/event-stream`, `build_only=true`, a parsable spec) and answers as BinderHub does: errors
raised before streaming become a `failed` event with `status_code` under HTTP 200. The events
are replayed from the recorded stream in tests/data/binderhub-events.txt, cut the way
`build_only` ends them (`ready` + `imageName`, no launch). The image name follows BinderHub's
scheme with the fake's own `image_prefix`, so it differs from the hub's on purpose.

Scenarios, picked per request by `scenarios` (a substring of the decoded spec -> name) or
`default`: build, cached, failed, http403, cut, slow, long. As BinderHub does, a stream carries
`:keepalive` every `keepalive_interval` seconds while it is open, and a failed build's stream
stays open after its `failed` events (BinderHub's build-only loop waits on), until the client
leaves.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from urllib.parse import unquote

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError

from hub_extensions.builds.config import HubExtensionsBuilds
from hub_extensions.builds.naming import image_name
from hub_extensions.builds.providers import parse_spec

from .common import free_port

EVENTS_FILE = Path(__file__).resolve().parents[1] / "data" / "binderhub-events.txt"


def recorded_responses(path: Path = EVENTS_FILE) -> list[list[str]]:
    """The recorded responses, each a list of SSE blocks (`data: ...` or `:keepalive`)."""
    responses: list[list[str]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line]
        if any(line.startswith(": response ") for line in lines):
            responses.append([])
            lines = [line for line in lines if not line.startswith(":") or line == ":keepalive"]
        if lines and responses:
            responses[-1].append("\n".join(lines))
    return responses


def _phase(block: str) -> str | None:
    if not block.startswith("data:"):
        return None
    return json.loads(block[5:]).get("phase")


class FakeBinderHub:
    """The fake, served from its own thread and event loop (usable from sync and async tests)."""

    def __init__(
        self,
        token: str = "fake-binderhub-token",  # noqa: S107 (the fake's, not a secret)
        base_url: str = "/services/binder/",
        image_prefix: str = "127.0.0.1:5999/binder-",
    ):
        self.token = token
        self.base_url = base_url
        self.image_prefix = image_prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{base_url}"
        self.default = "build"
        self.scenarios: dict[str, str] = {}
        self.slow_interval = 0.2
        self.keepalive_interval = 25.0  # BinderHub's
        self.long_pause = 3.0  # the `long` scenario's silence before its last event
        self.requests: list[dict] = []
        self.disconnects: list[float] = []  # monotonic times clients went away mid-stream
        self.recorded = recorded_responses()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def image_for(self, provider: str, spec: str) -> str:
        # BinderHub's own schemes (not the broker's https-only default)
        repo = parse_spec(
            provider, spec, HubExtensionsBuilds(git_url_schemes=["https", "http", "git", "file"])
        )
        return image_name(self.image_prefix, repo.build_slug, spec.rstrip("/").rsplit("/", 1)[1])

    def scenario_for(self, spec: str) -> str:
        decoded = unquote(spec)
        return next((name for key, name in self.scenarios.items() if key in decoded), self.default)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeBinderHub:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(
                [(rf"{self.base_url}build/([^/]+)/(.+)", _BuildHandler, {"fake": self})]
            )
            self._server = app.listen(self.port, address="127.0.0.1")
            self._loop.call_soon(ready.set)
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-binderhub-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake BinderHub did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        def shutdown() -> None:
            if self._server is not None:
                self._server.stop()
            self._loop.stop()

        self._loop.call_soon_threadsafe(shutdown)
        self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeBinderHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _BuildHandler(web.RequestHandler):
    def initialize(self, fake: FakeBinderHub) -> None:
        self.fake = fake
        self.streaming = False
        self.writing = asyncio.Lock()  # a keepalive never lands inside an event

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")

    def on_connection_close(self) -> None:
        if self.streaming:
            self.fake.disconnects.append(time.monotonic())

    async def send(self, block: str, split: bool = False) -> None:
        data = (block + "\n\n").encode()
        # split mid-line on purpose: clients must join partial lines
        pieces = [data[: len(data) // 2], data[len(data) // 2 :]] if split else [data]
        async with self.writing:
            for piece in pieces:
                self.write(piece)
                await self.flush()
                await asyncio.sleep(0)

    async def keep_alive(self) -> None:
        """BinderHub's `keep_alive()`: a comment every interval, until the stream ends."""
        while True:
            await asyncio.sleep(self.fake.keepalive_interval)
            async with self.writing:
                try:
                    self.write(":keepalive\n\n")
                    await self.flush()
                except StreamClosedError:
                    return

    async def fail(self, message: str, status_code: int | None = None) -> None:
        event = {"phase": "failed", "message": message + "\n"}
        if status_code is not None:
            event["status_code"] = status_code
        await self.send(f"data: {json.dumps(event)}")

    async def get(self, provider: str, _spec: str) -> None:
        fake = self.fake
        spec = self.request.path[len(f"{fake.base_url}build/{provider}/") :]
        auth = self.request.headers.get("Authorization", "")
        fake.requests.append(
            {
                "provider": provider,
                "spec": spec,
                "build_only": self.get_query_argument("build_only", None),
                "authorization": auth,
                "accept": self.request.headers.get("Accept", ""),
            }
        )
        scenario = fake.scenario_for(spec)
        if scenario == "http403":  # e.g. a proxy in front of BinderHub refusing the request
            self.clear()
            self.set_status(403)
            self.set_header("Content-Type", "text/html")
            self.finish("<h1>403 Forbidden</h1>")
            return
        # BinderHub's order: Accept (prepare), then the token (@authenticated), then the spec
        if "text/event-stream" not in self.request.headers.get("Accept", ""):
            await self.fail("Missing Accept header: text/event-stream", 400)
            return
        if fake.token and auth not in (f"Bearer {fake.token}", f"token {fake.token}"):
            await self.fail("Forbidden", 403)
            return
        if self.get_query_argument("build_only", "") != "true":
            await self.fail("fake BinderHub: launching is not faked, ask with build_only=true", 400)
            return
        ref = spec.rstrip("/").rsplit("/", 1)[-1]
        if len(ref) != 40:
            await self.fail(f"fake BinderHub: the ref {ref!r} is not a resolved commit SHA", 400)
            return
        image = fake.image_for(provider, spec)
        self.streaming = True
        keepalive = asyncio.ensure_future(self.keep_alive())
        try:
            await self.play(scenario, image)
        except StreamClosedError:
            pass
        finally:
            keepalive.cancel()

    async def play(self, scenario: str, image: str) -> None:
        built, cached, failed, _unresolved = self.fake.recorded
        ready = {"phase": "ready", "message": "Done! Image built\n", "imageName": image}
        if scenario == "build":
            for block in built:
                if _phase(block) == "built":  # build_only: no launch, `ready` instead
                    break
                await self.send(block, split=True)
            await self.send(f"data: {json.dumps(ready)}")
        elif scenario == "cached":
            event = json.loads(cached[0][5:])
            await self.send(f"data: {json.dumps({**event, 'imageName': image})}")
        elif scenario == "failed":
            for block in failed:
                await self.send(block)
            await self.send('data: {"phase": "failed"}')  # BinderHub's own, after repo2docker's
            for _ in range(600):  # and the stream stays open (keepalives) until the client leaves
                await asyncio.sleep(0.1)
                if self.request.connection.stream.closed():
                    return
        elif scenario == "cut":  # the connection drops mid-build
            for block in built[:5]:
                await self.send(block)
            # let them arrive first: tornado's client drops data it reads together with the close
            await asyncio.sleep(0.3)
            self.request.connection.stream.close()
            return
        elif scenario == "long":  # a build silent for longer than several keepalives
            for block in built:
                if _phase(block) == "built":
                    break
                await self.send(block)
            await asyncio.sleep(self.fake.long_pause)
            await self.send(f"data: {json.dumps(ready)}")
        elif scenario == "slow":  # a long build, logging now and then, until the client leaves
            await self.send(built[0])
            for step in range(600):
                event = {"phase": "building", "message": f"slow step {step}\n"}
                await self.send(f"data: {json.dumps(event)}")
                await asyncio.sleep(self.fake.slow_interval)
            await self.send(f"data: {json.dumps(ready)}")
        else:
            raise ValueError(f"unknown scenario {scenario!r}")
        self.finish()
