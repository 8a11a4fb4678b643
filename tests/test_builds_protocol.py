"""The broker's streams against the genuine BinderHub's, recorded in ../shared/binderhub/streams/.

For each recorded case (a build, a cache hit, a failing build, a bad ref, an unreachable
repository, an unknown provider, an unsupported protocol) the same request goes to the demo
hub's service through the proxy, with real repo2docker builds, and its answer must have
BinderHub's HTTP status and content type and the same events: sequence, phases, fields and
message texts, after commit hashes, temporary paths, ports, timings, sizes and image names are
masked. Our extra fields (`buildId`, `sha`, `cacheHit`, `signature`, `logTail`, `field`, and
`imageName` on the first event) are left out of the comparison; the deliberate differences
listed in docs/builds.md ("Differences from BinderHub") are the only ones allowed.

The hub is configured as BinderHub was when recording: only the `git` provider, images kept in
the local engine (no registry), a repository `bhtest.git` whose Dockerfile is `FROM <base>`
plus a `COPY` (commit message "init"), and one whose RUN step exits 3 ("broken Dockerfile").

Not covered: the registry-mode recording (pushes; the broker marks push output `pushing`,
see docs/builds.md), build tokens, rate limits and the health/versions endpoints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from hub_extensions.builds.events import parse_sse_data
from hub_extensions.builds.providers import UNREADABLE

from .conftest import need
from .infra.buildx_adapter import install_buildx_adapter
from .infra.common import Unavailable
from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo
from .infra.hub import DemoHub

pytestmark = pytest.mark.docker

STREAMS = Path(__file__).resolve().parents[2] / "shared" / "binderhub" / "streams"
OUR_EXTRAS = {"buildId", "sha", "cacheHit", "signature", "logTail", "field"}
# what varies between two runs of the same build; each is masked in both streams
MASKS = [
    (re.compile(r"Cloning into '[^']*'"), "Cloning into '<tmp>'"),
    (re.compile(r"HEAD is now at [0-9a-f]{7,}"), "HEAD is now at <sha>"),
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<hash>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<sha>"),
    (re.compile(r"git%3A%2F%2F127\.0\.0\.1%3A\d+%2F"), "git%3A%2F%2F127.0.0.1%3A<port>%2F"),
    (re.compile(r"(naming to )\S+"), r"\1<image>"),
    (re.compile(r"Command '\[.*\]' returned"), "Command '<cmd>' returned"),
    (re.compile(r"(transferring \w+): .* done"), r"\1: <size> done"),  # 2B [0.0s] done
    (re.compile(r" \d+\.\d+s done"), " done"),  # exporting layers [0.0s] done
    (re.compile(r"\b\d+(\.\d+)?s\b"), "<t>s"),  # DONE 0.0s
    (re.compile(r"^(#\d+) \d+\.\d+ "), r"\1 <t> "),  # a RUN step's output timestamp
]


@dataclass
class Answer:
    status: int
    content_type: str
    cache_control: str
    events: list[dict]
    lines: list[str]


def recorded(case: str) -> Answer:
    """A recorded answer: status (from .status or .headers), headers where recorded, events."""
    if not STREAMS.is_dir():
        raise Unavailable(f"BinderHub's recorded streams are not at {STREAMS}")
    text = (STREAMS / f"{case}.txt").read_text(encoding="utf-8")
    headers_file = STREAMS / f"{case}.headers"
    status, content_type, cache_control = 0, "text/event-stream", "no-cache"
    if headers_file.exists():
        head = headers_file.read_text(encoding="utf-8").splitlines()
        status = int(head[0].split()[1])
        fields = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
        content_type, cache_control = fields["Content-Type"], fields["Cache-Control"]
    else:
        status = int((STREAMS / f"{case}.status").read_text().strip())
    lines = text.splitlines()
    return Answer(status, content_type, cache_control, list(parse_sse_data(lines)), lines)


def mask(text: str, base_image: str) -> str:
    text = text.replace(f"docker.io/{base_image}", "docker.io/probe/base:1")
    text = text.replace(base_image, "probe/base:1")
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def comparable(events: list[dict], base_image: str, ours: bool) -> list[dict]:
    """Events with variable parts masked: BinderHub's fields only, values that vary masked."""
    out = []
    for index, event in enumerate(events):
        event = dict(event)
        if ours:
            for key in OUR_EXTRAS:
                event.pop(key, None)
            if index == 0 and event.get("phase") != "ready":
                event.pop("imageName", None)  # ours: the image the build will produce
        if "message" in event:
            event["message"] = mask(event["message"], base_image)
        if "imageName" in event:
            event["imageName"] = "<image>"  # each names its own (prefixes differ)
        if "exc_info" in event:
            assert event["exc_info"].startswith("Traceback (most recent call last):")
            event["exc_info"] = "<traceback>"
        out.append(event)
    return out


def fold_building(events: list[dict]) -> list[dict]:
    """A run of `building` log lines as one item holding its distinct lines, sorted, step numbers
    masked: BuildKit runs independent steps at once, so their order (and numbers) vary from run
    to run, and its plain progress prints a step's header, `DONE` and layer lines again each time
    it switches between steps, which depends on timing (one run printed `[1/2] FROM` twice).
    Every line must still be there, and no other."""
    out: list[dict] = []
    for event in events:
        if event.get("phase") == "building" and set(event) == {"phase", "message"}:
            line = re.sub(r"^#\d+ ", "#N ", event["message"])
            if out and "lines" in out[-1]:
                out[-1]["lines"].append(line)
            else:
                out.append({"phase": "building", "lines": [line]})
        else:
            out.append(event)
    for item in out:
        if "lines" in item:
            item["lines"] = sorted(set(item["lines"]))
    return out


def until_terminal(events: list[dict]) -> tuple[list[dict], list[dict]]:
    """(events up to the first ready/failed, those after it): clients stop at the first."""
    for index, event in enumerate(events):
        if event.get("phase") in ("ready", "failed"):
            return events[: index + 1], events[index + 1 :]
    return events, []


@pytest.fixture(scope="module")
def stack(docker_engine, base_image, hub_factory, request, tmp_path_factory):
    need(lambda: recorded("build"))  # skips (or fails in CI) without ../shared
    tmp = tmp_path_factory.mktemp("builds-protocol")
    env = install_buildx_adapter(tmp / "docker-config")
    repos = tmp / "repos"
    make_repo(
        repos / "bhtest.git",
        {"Dockerfile": f"FROM {base_image}\nCOPY --chown=1000:1000 . /home/jovyan/\n"},
        message="init",
    )
    make_repo(
        repos / "broken.git",
        {"Dockerfile": f"FROM {base_image}\nRUN echo about to fail && exit 3\n"},
        message="broken Dockerfile",
    )
    daemon = GitDaemon(repos, log_dir=tmp).start()
    config = (
        f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        'c.HubExtensionsBuilds.allowed_providers = ["git"]\n'  # BinderHub was recorded with git only
        + LOOPBACK_BUILDS_CONFIG
    )
    demo = hub_factory.shared(request, config=config)
    token = demo.token(demo.login("ada"), "ada")
    built: list[str] = []
    yield demo, daemon, token, built
    daemon.stop()
    for image in built:  # nothing of ours stays in the engine
        try:
            docker_engine.client.images.remove(image, force=True)
        except Exception as err:
            print(f"could not remove {image}: {err}")


def ask(demo: DemoHub, token: str, path: str) -> Answer:
    r = requests.get(
        demo.service_url(path),
        headers={"Authorization": f"token {token}", "Accept": "text/event-stream"},
        timeout=300,
    )
    lines = r.text.splitlines()
    return Answer(
        r.status_code,
        r.headers.get("Content-Type", ""),
        r.headers.get("Cache-Control", ""),
        list(parse_sse_data(lines)),
        lines,
    )


def spec(daemon: GitDaemon, repo: str, ref: str) -> str:
    return f"build/git/{quote(daemon.repo_url(repo), safe='')}/{ref}"


def check_same(theirs: Answer, ours: Answer, base_image: str) -> list[dict]:
    """Status, headers and events up to the terminal one alike; returns BinderHub's rest."""
    assert (ours.status, ours.content_type, ours.cache_control) == (
        theirs.status,
        theirs.content_type,
        theirs.cache_control,
    )
    their_events, their_rest = until_terminal(theirs.events)
    our_events, our_rest = until_terminal(ours.events)
    assert our_rest == []  # the broker closes the stream at the last event
    expected = fold_building(comparable(their_events, base_image, ours=False))
    got = fold_building(comparable(our_events, base_image, ours=True))
    assert [e.get("phase") for e in got] == [e.get("phase") for e in expected]
    assert got == expected
    return their_rest


def test_a_build_then_a_cache_hit_are_binderhubs_event_for_event(stack, base_image):
    demo, daemon, token, built = stack
    ours = ask(demo, token, spec(daemon, "bhtest.git", "HEAD"))
    ready = ours.events[-1]
    built.append(ready["imageName"])
    assert ours.events[0]["imageName"] == ready["imageName"]  # named before it was built
    assert check_same(recorded("build"), ours, base_image) == []

    hit = ask(demo, token, spec(daemon, "bhtest.git", "HEAD"))
    assert check_same(recorded("cache-hit"), hit, base_image) == []
    assert hit.events[0]["imageName"] == ready["imageName"]
    assert hit.events[0]["cacheHit"] is True


def test_a_failing_build_ends_with_repo2dockers_error_as_binderhub_relays_it(stack, base_image):
    demo, daemon, token, _ = stack
    ours = ask(demo, token, spec(daemon, "broken.git", "HEAD"))
    rest = check_same(recorded("build-failure"), ours, base_image)
    # BinderHub then sends a bare {"phase": "failed"} and keeps the stream open with keepalives;
    # the broker closes it (docs/builds.md, "Differences from BinderHub")
    assert rest == [{"phase": "failed"}]
    assert [line for line in recorded("build-failure").lines if line][-1] == ":keepalive"
    assert ":keepalive" not in ours.lines
    assert any("about to fail" in line for line in ours.events[-1]["logTail"])


@pytest.mark.parametrize(
    ("case", "path"),
    [
        ("bad-ref", lambda d: spec(d, "bhtest.git", "no-such-branch")),
        (
            "unreachable-repo",
            lambda d: f"build/git/{quote('git://127.0.0.1:1/nothing.git', safe='')}/HEAD",
        ),
        ("unknown-provider", lambda d: "build/gh/org/repo/HEAD"),
        ("bad-protocol", lambda d: f"build/git/{quote('ftp://127.0.0.1/x.git', safe='')}/HEAD"),
    ],
)
def test_errors_before_a_build_are_one_failed_event_with_binderhubs_message(
    stack, base_image, case, path
):
    demo, daemon, token, _ = stack
    theirs, ours = recorded(case), ask(demo, token, path(daemon))
    if case == "bad-protocol":
        # BinderHub lists its allowed protocols, ssh among them; ssh is never allowed here
        theirs.events[0]["message"] = theirs.events[0]["message"].replace(", ssh\n", "\n")
    if case == "unreachable-repo":
        # BinderHub relays git's fatal line, which tells a closed port from a web server (a
        # port scanner); the broker says the same sentence with a generic reason and logs git's
        # (docs/builds.md, "Differences from BinderHub")
        message = theirs.events[0]["message"]
        assert "fatal: unable to connect to 127.0.0.1" in message
        theirs.events[0]["message"] = message[: message.index("fatal:")] + UNREADABLE + "\n"
    assert check_same(theirs, ours, base_image) == []
    assert len(ours.events) == 1
    assert ours.events[0]["field"] in ("provider", "repo", "ref")


def test_a_provider_prefix_nobody_knows_is_a_failed_event_like_binderhubs(stack, base_image):
    """BinderHub answers any prefix it has no provider for in its stream; so does the broker,
    not with the service's 404 page."""
    demo, _, token, _ = stack
    theirs = recorded("unknown-provider")
    ours = ask(demo, token, "build/zz/org/repo/HEAD")
    assert (ours.status, ours.content_type) == (theirs.status, theirs.content_type)
    assert ours.events == [
        {**ours.events[0], "phase": "failed", "message": "No provider found for prefix zz\n"}
    ]
    assert theirs.events[0]["message"] == "No provider found for prefix gh\n"
    assert ours.events[0]["field"] == "provider"
