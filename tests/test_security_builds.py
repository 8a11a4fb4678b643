"""Builds reach only what the admin allows (issue #13, deliverable 3).

- The default URL schemes are `https` only: `file://` (the service's own disk), `http` and
  `git` need the admin's opt-in.
- Hosts on loopback, link-local or private networks are refused unless listed in
  `HubExtensionsBuilds.allowed_internal_hosts`, whatever form the address takes (decimal, hex, short
  IPv4, IPv4-mapped IPv6) and whatever a name resolves to; the check runs before a full SHA
  is accepted too, since repo2docker clones from the same host.
- The user gets one generic message, whether the port is closed, an HTTP server or a refused
  host; the log keeps git's words.
- Queued builds are capped per user and overall: a refused request is a 429 that says when to
  retry; requests for a build already running still attach, cache hits are never refused.

Real git (ls-remote against a closed port and a plain HTTP server on loopback) and the real
broker; the executor is a double the test releases. Not covered here: the 429 as the build
endpoint sends it (HTTP 200 + `failed` + `Retry-After`, BuildHandler.write_error), and DNS
rebinding between this check and git's own lookup (a documented residual risk).
"""

from __future__ import annotations

import asyncio
import http.server
import logging
import socket
import threading
from urllib.parse import quote

import pytest

from hub_extensions.builds.broker import BuildBroker, QueueFull
from hub_extensions.builds.config import HubExtensionsBuilds
from hub_extensions.builds.providers import UNREADABLE, SpecError, parse_spec, resolve_ref

from .infra.git_repos import Counting, rebinding_dns

pytestmark = pytest.mark.unit

SHA = "a" * 40


def spec(url: str, builds: HubExtensionsBuilds, ref: str = SHA):
    return parse_spec("git", f"{quote(url, safe='')}/{ref}", builds)


@pytest.mark.parametrize("url", ["file:///etc", "http://example.org/r", "git://example.org/r"])
def test_only_https_by_default(url):
    with pytest.raises(SpecError) as err:
        spec(url, HubExtensionsBuilds())
    assert err.value.kind == "scheme"
    assert err.value.field == "repo"
    assert spec("https://example.org/r", HubExtensionsBuilds()).repo_url == "https://example.org/r"


INTERNAL = [
    "https://127.0.0.1/r",
    "https://localhost/r",
    "https://2130706433/r",  # 127.0.0.1 as one decimal number
    "https://0x7f.1/r",  # hex, short form
    "https://127.1/r",
    "https://0177.0.0.1/r",  # octal
    "https://[::1]/r",
    "https://[::ffff:127.0.0.1]/r",  # IPv4-mapped IPv6
    "https://[::ffff:7f00:1]/r",
    "https://0.0.0.0/r",  # connects to this machine
    "https://169.254.169.254/latest/meta-data",  # the cloud's metadata service
    "https://[fe80::1]/r",
    "https://10.1.2.3/r",
    "https://172.16.0.9/r",
    "https://192.168.1.1:8080/r",
    "https://100.64.0.1/r",  # carrier-grade NAT
    "https://[fd00::1]/r",
    "https://[2002:7f00:1::]/r",  # 6to4 wrapping 127.0.0.1
]


@pytest.mark.parametrize("url", INTERNAL)
async def test_internal_hosts_are_refused_with_a_generic_message(url, caplog):
    caplog.set_level(logging.WARNING, logger="hub_extensions.builds.providers")
    with pytest.raises(SpecError) as err:
        await resolve_ref(spec(url, HubExtensionsBuilds()), timeout=5)
    assert (err.value.field, err.value.kind, err.value.detail) == (
        "repo",
        "unreachable",
        UNREADABLE,
    )
    assert err.value.message.endswith(f"{UNREADABLE}.")
    assert "internal" not in err.value.message
    assert "Builds." not in err.value.message
    assert "allowed_internal_hosts" in caplog.text  # the admin sees why


async def test_listed_hosts_and_networks_may_be_reached():
    listed = HubExtensionsBuilds(
        allowed_internal_hosts=["127.0.0.0/8", "::1", "git.internal.example"]
    )
    for url in ["https://2130706433/r", "https://[::1]/r", "https://[::ffff:127.0.0.1]/r"]:
        assert await resolve_ref(spec(url, listed), timeout=5) == SHA
    # a listed name is trusted as named: it is not even looked up
    assert await resolve_ref(spec("https://git.internal.example/r", listed), timeout=5) == SHA
    with pytest.raises(SpecError):  # 10/8 is not listed
        await resolve_ref(spec("https://10.0.0.1/r", listed), timeout=5)


def test_a_bad_allowlist_entry_names_the_option():
    from traitlets import TraitError

    with pytest.raises(
        TraitError, match=r"HubExtensionsBuilds.allowed_internal_hosts: 'a b' is neither"
    ):
        HubExtensionsBuilds(allowed_internal_hosts=["a b"])


@pytest.fixture
def http_server():
    """A web server on loopback that is not a git server (git gets a 404 HTML page)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_git_errors_do_not_tell_a_closed_port_from_a_web_server(http_server, caplog):
    """The old message carried git's `fatal:` line: a port scanner of the service's network."""
    caplog.set_level(logging.WARNING, logger="hub_extensions.builds.providers")
    listed = HubExtensionsBuilds(git_url_schemes=["http"], allowed_internal_hosts=["127.0.0.1"])
    messages = []
    for port in (closed_port(), http_server):
        with pytest.raises(SpecError) as err:
            await resolve_ref(spec(f"http://127.0.0.1:{port}/r", listed, ref="HEAD"), 10)
        messages.append(err.value.message.replace(str(port), "PORT"))
        assert err.value.detail == UNREADABLE
        assert "fatal" not in err.value.message
    assert messages[0] == messages[1]
    assert "fatal:" in caplog.text  # git's words stay in the service's log


async def test_git_does_not_follow_a_redirect_to_another_host(caplog):
    """A server that passes the host check could send git on to an internal one with an HTTP
    redirect; the service's `git ls-remote` of a git/ URL follows none."""
    from .infra.git_repos import redirect_to_internal

    with redirect_to_internal() as (url, seen):
        # the redirecting server stands for a public one: listed here, as it is on loopback
        listed = HubExtensionsBuilds(git_url_schemes=["http"], allowed_internal_hosts=["127.0.0.1"])
        with pytest.raises(SpecError) as err:
            await resolve_ref(spec(url, listed, ref="HEAD"), 10)
        assert err.value.detail == UNREADABLE
        assert seen == []


async def test_git_connects_to_the_addresses_that_were_checked(monkeypatch):
    """DNS rebinding: git resolving the name again could reach another address than the one
    checked. The ls-remote is pinned to the checked addresses (http.curloptResolve): here git's
    own lookup would fail, and the request still reaches the checked address."""
    Counting.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rebinding_dns(monkeypatch, "rebind.invalid", "127.0.0.1")
        listed = HubExtensionsBuilds(git_url_schemes=["http"], allowed_internal_hosts=["127.0.0.1"])
        url = f"http://rebind.invalid:{server.server_address[1]}/r.git"
        with pytest.raises(SpecError):  # a 404 page is not a repository
            await resolve_ref(spec(url, listed, ref="HEAD"), 10)
        assert Counting.seen == ["/r.git/info/refs?service=git-upload-pack"]
    finally:
        server.shutdown()


# --- queue caps -------------------------------------------------------------------------------


class Held:
    """An executor whose builds run until the test ends."""

    def __init__(self):
        self.started: list[str] = []
        self.gate = asyncio.Event()

    async def __call__(self, build, emit):
        self.started.append(build.image)
        await self.gate.wait()
        return "built"


def capped(executor, existing=()):
    async def image_exists(image):
        return image in existing

    return BuildBroker(
        executor,
        image_exists,
        max_builds=2,
        max_builds_per_user=1,
        max_queued=3,
        max_queued_per_user=2,
        retry_after=45,
    )


async def test_one_users_queue_is_capped_with_a_429_that_says_when_to_retry():
    ex = Held()
    b = capped(ex, existing={"img:cached"})
    running = await b.request("ann", "img:0", "https://r", "HEAD", "0" * 40)
    await b.request("ann", "img:1", "https://r", "HEAD", "1" * 40)
    await b.request("ann", "img:2", "https://r", "HEAD", "2" * 40)
    with pytest.raises(QueueFull) as err:
        await b.request("ann", "img:3", "https://r", "HEAD", "3" * 40)
    assert err.value.status_code == 429
    assert err.value.retry_after == 45
    assert "Try again in 45 seconds." in err.value.log_message
    assert "img:3" not in b.active
    assert len(b.queue) == 2
    # what is already running or queued is still shared, and a cache hit is never refused
    assert await b.request("ann", "img:2", "https://r", "HEAD", "2" * 40) in b.queue
    assert (await b.request("ann", "img:cached", "https://r", "HEAD", "c" * 40)).cache_hit
    # another user is not held back by ann's queue
    assert (await b.request("bob", "img:b", "https://r", "HEAD", "b" * 40)).status == "building"
    assert running.status == "building"
    ex.gate.set()


async def test_the_whole_queue_is_capped():
    ex = Held()
    b = capped(ex)
    for i, user in enumerate(["ann", "bob", "cat", "dan", "eve"]):
        await b.request(user, f"img:{i}", "https://r", "HEAD", str(i) * 40)
    assert len(b.running()) == 2
    assert len(b.queue) == 3
    with pytest.raises(QueueFull, match="The build queue is full"):
        await b.request("fay", "img:f", "https://r", "HEAD", "f" * 40)
    ex.gate.set()


async def test_twenty_distinct_requests_queue_at_most_the_cap():
    """The finding: 20 requests with distinct SHAs queued 19 builds."""
    ex = Held()
    b = capped(ex)
    refused = 0
    for i in range(20):
        try:
            await b.request("ann", f"img:{i}", "https://r", "HEAD", f"{i:040d}")
        except QueueFull:
            refused += 1
    assert (len(b.running()), len(b.queue), refused) == (1, 2, 17)
    ex.gate.set()
