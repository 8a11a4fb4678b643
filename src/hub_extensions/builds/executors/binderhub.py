"""Build images on a remote BinderHub (binderhub-service on Kubernetes) through its HTTP API.

The contract is BinderHub's `BuildHandler` (binderhub/builder.py):

- `GET {binderhub_url}build/{provider}/{spec}?build_only=true` with `Accept: text/event-stream`
  (BinderHub answers 400 without it) and, when BinderHub runs with `auth_enabled`, a JupyterHub
  token (`Authorization: Bearer ...`, read by JupyterHub's HubAuth) whose owner has the scope
  `access:services!service=<BinderHub's service name>`.
- `build_only=true` builds and pushes without launching; BinderHub allows it only with
  `BinderHub.enable_api_only_mode` (binderhub-service's default), otherwise it fails with 400.
- Events: `data: {json}` lines and `:keepalive` comments every 25 s. A build sends `waiting`,
  then repo2docker's log events (`fetching`, `building`, `pushing` with `progress`/`layers`,
  some without a phase), and ends with `ready` + `imageName` ("Done! Image built"). An image
  already in the registry is answered with a lone `ready` ("Done! Found built image"): that is
  how a cache hit shows. Failures end with `failed` (repo2docker's, with `exc_info`), after
  which BinderHub keeps the stream open: the first `failed` ends the build here. Errors
  BinderHub raises before streaming (a refused token is a 403) come as a `failed` event
  carrying `status_code`, with HTTP 200.
- The events are relayed as BinderHub sent them (BinderHub's `waiting` too: the broker sends
  no `waiting` of its own, so that a cache hit stays one `ready`); keepalives are not events,
  and a stream silent for longer than a keepalive is no error.
- The spec names the resolved commit SHA, so BinderHub builds exactly the commit we sign, and
  the image name we sign is the one BinderHub reports (its `image_prefix` may differ from ours).

Closing the connection (cancel, timeout) makes BinderHub stop *watching* the build; the build
pod itself runs on to its end and pushes (`BuildExecutor.stop()`: "not related to stopping the
build"). The next request for that commit attaches to the pod or finds the image.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.iostream import IOStream
from tornado.simple_httpclient import HTTPTimeoutError, SimpleAsyncHTTPClient
from tornado.tcpclient import TCPClient

from ..broker import Build
from ..events import BUILT_MESSAGE, parse_sse_data

log = logging.getLogger(__name__)

Event = dict[str, Any]
TOKEN_OPTION = "HubExtensionsBuilds.binderhub_token"  # noqa: S105 (an option name)
URL_OPTION = "HubExtensionsBuilds.binderhub_url"
TIMEOUT_OPTION = "HubExtensionsBuilds.build_timeout"
TAIL_LINES = 50  # log lines sent with a failure, as the local executor does


def binderhub_spec(provider: str, repo_url: str, sha: str) -> str:
    """`{provider}/{spec}` naming `sha`, from the repo URL `providers.parse_spec` made.

    gh: `https://github.com/ORG/REPO` -> `gh/ORG/REPO/SHA`; gl: `https://gitlab.com/NS.git` ->
    `gl/URL-ENCODED-NS/SHA`; git: any URL -> `git/URL-ENCODED-URL/SHA`.
    """
    if provider == "gh":
        return f"gh/{urlsplit(repo_url).path.strip('/')}/{sha}"
    if provider == "gl":
        path = urlsplit(repo_url).path.strip("/")
        path = path[:-4] if path.endswith(".git") else path
        return f"gl/{quote(path, safe='')}/{sha}"
    if provider == "git":
        return f"git/{quote(repo_url, safe='')}/{sha}"
    raise ValueError(f"provider: {provider!r} is not one of gh, gl, git")


class _SSEStream:
    """Bytes in, event dicts out; events are cut at blank lines and parsed by `parse_sse`."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""

    def feed(self, chunk: bytes) -> list[Event]:
        self._text += self._decoder.decode(chunk)
        # keep a trailing '\r': its '\n' may come in the next chunk
        text, hold = (self._text[:-1], "\r") if self._text.endswith("\r") else (self._text, "")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        complete, sep, rest = text.rpartition("\n\n")
        self._text = rest + hold
        if not sep:
            return []
        return list(parse_sse_data([complete + "\n\n"]))  # as sent: no phase added


class _TrackingTCPClient(TCPClient):
    """Remembers its connections so that a cancel can close them (tornado has no abort)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streams: list[IOStream] = []
        self.closed = False

    async def connect(self, *args: Any, **kwargs: Any) -> IOStream:
        stream = await super().connect(*args, **kwargs)
        self.streams.append(stream)
        if self.closed:  # cancelled while connecting
            stream.close()
        return stream

    def close_streams(self) -> None:
        self.closed = True
        for stream in self.streams:
            stream.close()


class _Client(SimpleAsyncHTTPClient):
    """One client per build, whose connection `abort()` closes at once."""

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(**kwargs)
        self.tracking = _TrackingTCPClient(resolver=self.resolver)
        self.tcp_client = self.tracking  # what tornado's connections are made with

    def abort(self) -> None:
        self.tracking.close_streams()


class BinderHubExecutor:
    """`execute(build, emit)` for the broker: one streaming GET to BinderHub per build."""

    relays_binderhub_stream = True  # BinderHub's own `waiting` starts the stream

    def __init__(
        self,
        url: str,
        token: str = "",
        *,
        timeout: float = 1800,
        connect_timeout: float = 20,
        tail_lines: int = TAIL_LINES,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._token = token  # never logged
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.tail_lines = tail_lines

    def __repr__(self) -> str:
        return f"BinderHubExecutor({self.url!r}, token={'set' if self._token else 'none'})"

    def build_url(self, build: Build) -> str:
        spec = binderhub_spec(build.provider, build.repo_url, build.sha)
        return f"{self.url}build/{spec}?build_only=true"

    async def image_exists(self, image: str) -> bool:
        """Always False: BinderHub checks its registry itself and answers a hit at once."""
        return False

    async def __call__(self, build: Build, emit: Callable[[Event], None]) -> tuple[str, dict]:
        url = self.build_url(build)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        run = _Run(self, build, emit)
        request = HTTPRequest(
            url,
            headers=headers,
            connect_timeout=min(self.connect_timeout, self.timeout),
            request_timeout=self.timeout + 60,  # our own deadline below comes first
            follow_redirects=False,
            header_callback=run.on_header,
            streaming_callback=run.on_chunk,
        )
        client = _Client(force_instance=True)
        log.info("build %s: asking BinderHub for %s", build.id, url)
        started = time.monotonic()
        fetch = asyncio.ensure_future(client.fetch(request, raise_error=False))
        try:
            waiting: set[asyncio.Future[Any]] = {fetch, run.finished}
            done, _ = await asyncio.wait(
                waiting, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if run.finished in done:
                outcome = run.finished.result()
            elif fetch in done:
                response: HTTPResponse | None = None
                error: BaseException | None = None
                try:
                    response = fetch.result()
                except Exception as err:  # network errors are raised even with raise_error=False
                    error = err
                else:
                    error = response.error
                outcome = run.after_response(response, error)
            else:
                outcome = run.fail(
                    f"BinderHub did not finish the build within {self.timeout:g} s "
                    f"({TIMEOUT_OPTION}); the connection was closed. BinderHub's build pod may "
                    "still finish and push the image; asking again then finds it."
                )
        finally:  # also on cancel: close the connection so that BinderHub stops streaming
            client.abort()
            if not fetch.done():
                fetch.cancel()
            client.close()
        log.info(
            "build %s: BinderHub %s after %.1f s", build.id, outcome[0], time.monotonic() - started
        )
        return outcome


class _Run:
    """The state of one request: status line, events so far, and how it ended."""

    def __init__(self, ex: BinderHubExecutor, build: Build, emit: Callable[[Event], None]):
        self.ex = ex
        self.build = build
        self.emit = emit
        self.code: int | None = None
        self.content_type = ""
        self.sse = _SSEStream()
        self.events = 0
        self.tail: deque[str] = deque(maxlen=ex.tail_lines)
        self.body = b""  # the start of a non-stream answer, for the error message
        self.finished: asyncio.Future[tuple[str, dict]] = asyncio.get_running_loop().create_future()

    # -- tornado callbacks --------------------------------------------------------------
    def on_header(self, line: str) -> None:
        if self.code is None and line.startswith("HTTP/"):
            parts = line.split(" ", 2)
            self.code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        elif line.lower().startswith("content-type:"):
            self.content_type = line.split(":", 1)[1].strip().lower()

    def on_chunk(self, chunk: bytes) -> None:
        if self.finished.done():
            return
        if self.code != 200 or not self.content_type.startswith("text/event-stream"):
            self.body = (self.body + chunk)[:2000]
            return
        for event in self.sse.feed(chunk):
            self.on_event(event)
            if self.finished.done():
                return

    # -- events -------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        first = self.events == 0
        self.events += 1
        phase = event.get("phase")
        if phase in ("ready", "built"):
            self.finished.set_result(self.ready(event, cache_hit=first))
        elif phase == "failed":
            self.finished.set_result(self.failed_event(event))
        else:
            message = event.get("message")
            if isinstance(message, str) and message.strip():
                self.tail.append(message.rstrip("\n"))
            self.emit(event)

    def ready(self, event: Event, *, cache_hit: bool) -> tuple[str, dict]:
        image = event.get("imageName") or event.get("image")
        sha = self.build.sha
        if not isinstance(image, str) or not image:
            return self.fail("BinderHub's ready event names no image (no 'imageName').")
        if image.rsplit(":", 1)[-1] != sha.lower():
            # BinderHub tags with the commit it resolved; anything else is not what we sign
            return self.fail(f"BinderHub reported image {image!r}, which is not tagged {sha}.")
        if image != self.build.image:
            log.info(
                "build %s: BinderHub named the image %s (ours: %s); set "
                "HubExtensionsBuilds.registry and "
                "HubExtensionsBuilds.image_prefix to match BinderHub's image_prefix to make them "
                "equal",
                self.build.id,
                image,
                self.build.image,
            )
        if cache_hit:
            self.build.cache_hit = True
        return "built", {"message": event.get("message") or BUILT_MESSAGE, "imageName": image}

    def failed_event(self, event: Event) -> tuple[str, dict]:
        code = event.get("status_code")
        message = str(event.get("message") or "").strip()
        if code in (401, 403):
            return self.fail(self.token_message(code))
        if code == 400 and "api only mode" in message.lower():
            return self.fail(
                f"BinderHub refused to build without launching ({message}). Set "
                "config.BinderHub.enable_api_only_mode: true in its values "
                "(binderhub-service's default)."
            )
        if isinstance(code, int):
            return self.fail(f"BinderHub refused the build (HTTP {code}): {message}")
        if not message:
            return self.fail("BinderHub reported a failed build.")
        # repo2docker's own failure ("Error during build: ..."): passed on as it came
        extra = {k: v for k, v in event.items() if k != "phase"}
        if self.tail:
            extra["logTail"] = list(self.tail)
        log.warning("build %s: %s", self.build.id, message)
        return "failed", extra

    # -- endings ------------------------------------------------------------------------
    def after_response(
        self, response: HTTPResponse | None, error: BaseException | None
    ) -> tuple[str, dict]:
        """The request ended without a ready or failed event: say why."""
        code = self.code if self.code is not None else (response.code if response else 599)
        if code in (401, 403):
            return self.fail(self.token_message(code))
        if code == 404:
            return self.fail(
                f"BinderHub answered 404 for {self.ex.url}build/...: {URL_OPTION} is wrong. "
                "Give BinderHub's base URL, including its base_url (e.g. "
                "'http://binderhub-service/services/binder/' behind the hub's proxy)."
            )
        if code is not None and 300 <= code < 400:
            headers = response.headers if response is not None else None
            where = headers.get("Location", "?") if headers else "?"
            return self.fail(
                f"BinderHub redirected to {where} (HTTP {code}). Set {URL_OPTION} to the URL "
                "BinderHub serves at, without redirects."
            )
        if code == 599 or self.code is None:
            if self.events == 0 and not self.content_type:
                return self.fail(self.unreachable_message(error))
            return self.fail(
                "The connection to BinderHub broke before the build ended "
                f"({error or 'closed'}). Try again; BinderHub may still finish the build."
            )
        if code != 200:
            snippet = self.body.decode("utf-8", "replace").strip()[:300]
            return self.fail(f"BinderHub answered HTTP {code} for {self.ex.url}: {snippet}")
        if not self.content_type.startswith("text/event-stream"):
            return self.fail(
                f"{self.ex.url} answered with {self.content_type or 'no content type'}, not "
                f"an event stream: {URL_OPTION} does not point at BinderHub's API."
            )
        return self.fail(
            "BinderHub closed the stream before the build ended (no ready or failed event). "
            "Try again; check BinderHub's logs if it happens again."
        )

    def token_message(self, code: int) -> str:
        state = "is empty" if not self.ex._token else "is wrong or lacks the scope"
        return (
            f"BinderHub refused the request (HTTP {code}): {TOKEN_OPTION} {state}. Give it a "
            "JupyterHub API token whose owner has the scope "
            "'access:services!service=<BinderHub's service name>' (see docs/builds.md)."
        )

    def unreachable_message(self, error: BaseException | None) -> str:
        if isinstance(error, HTTPTimeoutError):
            reason = f"no connection within {self.ex.connect_timeout:g} s"
        elif isinstance(error, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = str(error) or type(error).__name__
        return (
            f"BinderHub cannot be reached at {self.ex.url} ({reason}). Check that it runs and "
            f"that {URL_OPTION} points at it."
        )

    def fail(self, message: str) -> tuple[str, dict]:
        log.warning("build %s: %s", self.build.id, message)
        extra: dict[str, Any] = {"message": message if message.endswith("\n") else message + "\n"}
        if self.tail:
            extra["logTail"] = list(self.tail)
        return "failed", extra
