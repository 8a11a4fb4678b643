"""The remote BinderHub executor (`HubExtensionsBuilds.executor = "binderhub"`), against a fake BinderHub.

The fake (tests/infra/fake_binderhub.py) is a real HTTP server on loopback that checks the
token, `Accept` and `build_only=true` as BinderHub does and replays the recorded event stream
of tests/data/binderhub-events.txt. The unit tests drive the executor alone and through the
broker; the hub test runs the demo hub with the executor and reads the stream a browser gets.

Not covered: a real BinderHub (binderhub-service) on Kubernetes, its build pods, registry and
JupyterHub token check (HubAuth against the hub API) — the fake accepts one fixed token and
answers a wrong one with BinderHub's `failed` + `status_code: 403`, which is what the code
shows; real GitHub/GitLab specs (they need the network, so the hub test uses a git/ spec).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import yaml

from hub_extensions.builds.broker import Build, BuildBroker
from hub_extensions.builds.config import HubExtensionsBuilds, check_builds
from hub_extensions.builds.events import parse_sse
from hub_extensions.builds.executors.binderhub import (
    BinderHubExecutor,
    _SSEStream,
    binderhub_spec,
)
from hub_extensions.builds.naming import image_name
from hub_extensions.builds.providers import parse_spec
from hub_extensions.builds.signing import sign
from hub_extensions.service.builds_context import make_builds_context

from .infra.common import free_port
from .infra.fake_binderhub import FakeBinderHub

SHA = "1c2b3a4d5e6f708192a3b4c5d6e7f80912a3b4c5"
TOKEN = "fake-binderhub-token"
GH_URL = "https://github.com/binder-examples/requirements"
SNIPPET = Path(__file__).resolve().parents[1] / "helm-snippets" / "binderhub-service.yaml"


@pytest.fixture
def fake():
    with FakeBinderHub(token=TOKEN) as hub:
        yield hub


def gh_build(**kw) -> Build:
    fields = {
        "image": image_name("hub-extensions-builds/", "binder-examples-requirements", SHA),
        "repo_url": GH_URL,
        "ref": "HEAD",
        "sha": SHA,
        "user": "ada",
        "provider": "gh",
    }
    return Build(**{**fields, **kw})


async def run(executor: BinderHubExecutor, build: Build) -> tuple[tuple[str, dict], list[dict]]:
    emitted: list[dict] = []
    outcome = await asyncio.wait_for(executor(build, emitted.append), 30)
    return outcome, emitted


async def wait_for(check, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.unit
async def test_a_build_streams_binderhubs_log_and_ends_with_binderhubs_image_name(fake):
    executor = BinderHubExecutor(fake.url, TOKEN)
    build = gh_build()
    (status, extra), emitted = await run(executor, build)

    assert status == "built"
    theirs = fake.image_for("gh", f"binder-examples/requirements/{SHA}")
    assert theirs.startswith("127.0.0.1:5999/binder-binder-2dexamples-2drequirements-")
    assert theirs != build.image  # the fake's image_prefix differs from ours
    assert extra == {"message": "Done! Image built\n", "imageName": theirs}
    phases = [e.get("phase") for e in emitted]
    assert emitted[0] == {"phase": "waiting", "message": "Waiting for build to start...\n"}
    assert {"fetching", "building", "pushing"} <= set(phases)
    assert not {"built", "launching", "ready", "unknown"} & set(phases)
    messages = [e["message"] for e in emitted]
    # an event without a phase is passed on without one
    assert {"message": "Picked Git content provider.\n"} in emitted
    assert 'Step 52/52 : CMD ["jupyter", "notebook", "--ip", "0.0.0.0"]' in messages
    assert emitted[phases.index("pushing")]["progress"]["9c27e219663c"] == "Layer already exists"
    assert not build.cache_hit

    (request,) = fake.requests
    assert request["provider"] == "gh"
    assert request["spec"] == f"binder-examples/requirements/{SHA}"  # the commit we resolved
    assert request["build_only"] == "true"
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert "text/event-stream" in request["accept"]


@pytest.mark.unit
async def test_through_the_broker_ready_carries_binderhubs_name_and_a_cache_hit_shows(fake):
    executor = BinderHubExecutor(fake.url, TOKEN)
    broker = BuildBroker(executor, executor.image_exists)
    ours = gh_build().image
    theirs = fake.image_for("gh", f"binder-examples/requirements/{SHA}")

    build = await broker.request("ada", ours, GH_URL, "HEAD", SHA, provider="gh")
    events = await asyncio.wait_for(_collect(build), 30)
    phases = [e.get("phase") for e in events]
    assert phases[0] == "waiting"
    assert phases.count("waiting") == 1  # BinderHub's, not a second one of the broker's
    assert phases[-1] == "ready"
    assert "built" not in phases
    assert events[-1]["message"] == "Done! Image built\n"
    assert events[-1]["imageName"] == theirs
    assert build.built_image == theirs
    assert build.image == ours
    assert build.status == "ready"
    assert not build.cache_hit

    fake.default = "cached"  # the image is in BinderHub's registry now
    again = await broker.request("bo", ours, GH_URL, "HEAD", SHA, provider="gh")
    events = await asyncio.wait_for(_collect(again), 30)
    assert [e["phase"] for e in events] == ["ready"]
    assert events[0]["imageName"] == theirs
    assert events[0]["message"] == "Done! Found built image\n"
    assert again.cache_hit


async def _collect(build: Build) -> list[dict]:
    return [event async for event in build.follow()]


@pytest.mark.unit
async def test_a_failed_build_ends_with_binderhubs_message_and_the_log_tail(fake):
    fake.default = "failed"
    (status, extra), emitted = await run(BinderHubExecutor(fake.url, TOKEN), gh_build())
    assert status == "failed"
    # repo2docker's message as BinderHub relayed it (no newline added)
    assert extra["message"] == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    assert extra["logTail"][-2:] == ["Step 2/2 : RUN exit 3", " ---> Running in 7f1e2d3c4b5a"]
    assert all(e.get("phase") != "failed" for e in emitted)  # the broker sends the last event


@pytest.mark.unit
async def test_the_first_failed_event_ends_the_build_though_binderhub_keeps_the_stream_open(fake):
    fake.default = "failed"
    fake.keepalive_interval = 0.1
    started = time.monotonic()
    (status, extra), _ = await run(BinderHubExecutor(fake.url, TOKEN), gh_build())
    assert time.monotonic() - started < 5  # not the fake's 60 s of keepalives
    assert status == "failed"
    assert extra["message"].startswith("The command '/bin/sh -c exit 3'")
    await wait_for(lambda: len(fake.disconnects) == 1, 2)  # we closed it, not BinderHub


@pytest.mark.unit
async def test_a_build_silent_for_several_keepalives_still_ends_with_ready(fake):
    fake.default = "long"
    fake.keepalive_interval = 0.1
    fake.long_pause = 1.0  # ten keepalives and no event
    (status, extra), emitted = await run(BinderHubExecutor(fake.url, TOKEN), gh_build())
    assert status == "built", extra
    assert extra["message"] == "Done! Image built\n"
    assert emitted[0]["phase"] == "waiting"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("token", "scenario", "expected"),
    [
        ("wrong-token", "build", "HubExtensionsBuilds.binderhub_token is wrong or lacks the scope"),
        ("", "build", "HubExtensionsBuilds.binderhub_token is empty"),
        (TOKEN, "http403", "HubExtensionsBuilds.binderhub_token is wrong or lacks the scope"),
    ],
    ids=["wrong-token", "no-token", "http-403-from-a-proxy"],
)
async def test_a_refused_token_names_the_option_and_the_scope(fake, token, scenario, expected):
    fake.default = scenario
    (status, extra), emitted = await run(BinderHubExecutor(fake.url, token), gh_build())
    assert status == "failed"
    assert "(HTTP 403)" in extra["message"]
    assert expected in extra["message"]
    assert "access:services!service=" in extra["message"]
    assert emitted == []


@pytest.mark.unit
async def test_a_wrong_url_says_binderhub_url_is_wrong(fake):
    wrong = fake.url.replace("/services/binder/", "/services/binderhub/")
    (status, extra), _ = await run(BinderHubExecutor(wrong, TOKEN), gh_build())
    assert status == "failed"
    assert "404" in extra["message"]
    assert "HubExtensionsBuilds.binderhub_url is wrong" in extra["message"]


@pytest.mark.unit
async def test_an_unreachable_binderhub_is_named_with_the_url():
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    (status, extra), _ = await run(BinderHubExecutor(url, TOKEN), gh_build())
    assert status == "failed"
    assert f"BinderHub cannot be reached at {url} (connection refused)" in extra["message"]
    assert "HubExtensionsBuilds.binderhub_url" in extra["message"]


@pytest.mark.unit
async def test_a_stream_cut_mid_build_fails_instead_of_hanging(fake):
    fake.default = "cut"
    (status, extra), emitted = await run(BinderHubExecutor(fake.url, TOKEN), gh_build())
    assert status == "failed"
    assert "before the build ended" in extra["message"]
    assert len(emitted) == 5
    assert extra["logTail"]


@pytest.mark.unit
async def test_past_build_timeout_it_fails_and_closes_the_connection(fake):
    fake.default = "slow"
    executor = BinderHubExecutor(fake.url, TOKEN, timeout=1)
    started = time.monotonic()
    (status, extra), emitted = await run(executor, gh_build())
    assert 1 <= time.monotonic() - started < 5
    assert status == "failed"
    assert "within 1 s (HubExtensionsBuilds.build_timeout)" in extra["message"]
    assert any(e["message"] == "slow step 0\n" for e in emitted)
    await wait_for(lambda: len(fake.disconnects) == 1, 2)  # BinderHub saw the client leave


@pytest.mark.unit
async def test_cancelling_through_the_broker_closes_the_connection_to_binderhub(fake):
    fake.default = "slow"
    executor = BinderHubExecutor(fake.url, TOKEN)
    broker = BuildBroker(executor, executor.image_exists)
    build = await broker.request("ada", gh_build().image, GH_URL, "HEAD", SHA, provider="gh")
    await wait_for(lambda: any(e.get("message") == "slow step 1\n" for e in build.events))
    assert await broker.cancel(build, "ada")
    events = await asyncio.wait_for(_collect(build), 5)
    assert events[-1] == {"phase": "failed", "message": "Build cancelled\n", "cancelled": True}
    await wait_for(lambda: len(fake.disconnects) == 1, 2)
    sent = len(build.events)
    await asyncio.sleep(0.5)
    assert len(build.events) == sent  # nothing arrives after the cancel


@pytest.mark.unit
@pytest.mark.parametrize(
    ("provider", "spec"),
    [
        ("gh", "binder-examples/requirements/HEAD"),
        ("gl", "group%2Fsub-group%2Fproject/main"),
        ("git", f"{quote('https://git.example.org/g/repo.git?x=1&y', safe='')}/v1.0"),
    ],
)
async def test_each_provider_reaches_binderhub_as_the_same_repository_at_the_commit(
    fake, provider, spec
):
    repo = parse_spec(provider, spec)
    build = gh_build(provider=provider, repo_url=repo.repo_url)
    (status, extra), _ = await run(BinderHubExecutor(fake.url, TOKEN), build)
    assert status == "built"
    (request,) = fake.requests
    assert request["provider"] == provider
    assert request["spec"].endswith(f"/{SHA}")
    # BinderHub parses the spec as we do: the same repository, and the ref is our SHA
    theirs = parse_spec(provider, request["spec"])
    assert theirs.repo_url == repo.repo_url
    assert theirs.ref == SHA
    assert theirs.build_slug == repo.build_slug
    assert extra["imageName"] == fake.image_for(provider, request["spec"])


@pytest.mark.unit
def test_specs_are_binderhubs_forms():
    assert binderhub_spec("gh", GH_URL, SHA) == f"gh/binder-examples/requirements/{SHA}"
    assert binderhub_spec("gl", "https://gitlab.com/g/p.git", SHA) == f"gl/g%2Fp/{SHA}"
    assert (
        binderhub_spec("git", "git://127.0.0.1:9418/r", SHA)
        == f"git/git%3A%2F%2F127.0.0.1%3A9418%2Fr/{SHA}"
    )
    with pytest.raises(ValueError, match="provider"):
        binderhub_spec("zenodo", "https://zenodo.org/record/1", SHA)


@pytest.mark.unit
def test_events_split_anywhere_between_chunks_are_joined():
    stream = _SSEStream()
    wire = (
        ':keepalive\r\n\r\ndata: {"phase": "building", "message": "\\u00e9t\\u00e9 \u00e9"}\r\n\r\n'
    )
    data = wire.encode()
    events = []
    for i in range(len(data)):  # one byte at a time, splitting \r\n and UTF-8 sequences
        events += stream.feed(data[i : i + 1])
    assert events == [{"phase": "building", "message": "été é"}]


@pytest.mark.unit
async def test_the_token_never_reaches_the_log(fake, caplog):
    caplog.set_level(logging.DEBUG)
    executor = BinderHubExecutor(fake.url, TOKEN)
    await run(executor, gh_build())
    fake.default = "failed"
    await run(executor, gh_build())
    await run(BinderHubExecutor(fake.url, "a-wrong-secret-token"), gh_build())
    assert "BinderHub" in caplog.text
    assert TOKEN not in caplog.text
    assert "a-wrong-secret-token" not in caplog.text
    assert TOKEN not in repr(executor)


@pytest.mark.unit
def test_the_service_picks_the_executor_by_builds_executor(tmp_path):
    key = "k" * 40
    ctx = make_builds_context(
        HubExtensionsBuilds(executor="binderhub", binderhub_url="http://b/x", signing_key=key)
    )
    executor = ctx.broker._execute
    assert isinstance(executor, BinderHubExecutor)
    assert executor.url == "http://b/x/"
    assert executor.timeout == 1800
    with pytest.raises(ValueError, match=r"Builds\.binderhub_url: empty"):
        make_builds_context(HubExtensionsBuilds(executor="binderhub", signing_key=key))
    local = make_builds_context(HubExtensionsBuilds(signing_key=key))
    assert not isinstance(local.broker._execute, BinderHubExecutor)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("binderhub-service:8585", "is not an http(s) URL"),
        ("http://b/?x=1", "'?query' or '#fragment'"),
        ("http://user:pw@b/", "contains credentials"),
    ],
)
def test_a_bad_binderhub_url_is_refused_at_start(url, problem):
    from traitlets import TraitError
    from traitlets.config import Config

    with pytest.raises(TraitError, match=r"Builds\.binderhub_url") as err:
        HubExtensionsBuilds(binderhub_url=url)
    assert problem in str(err.value)
    config = Config({"HubExtensionsBuilds": {"executor": "binderhub"}})
    assert check_builds(config)[0].startswith("HubExtensionsBuilds.binderhub_url: empty")


@pytest.mark.unit
def test_the_binderhub_service_snippet_builds_only_behind_a_token():
    values = yaml.safe_load(SNIPPET.read_text(encoding="utf-8"))
    binderhub = values["config"]["BinderHub"]
    assert binderhub["enable_api_only_mode"] is True  # build_only=true needs it
    assert binderhub["auth_enabled"] is True
    assert binderhub["use_registry"] is True
    assert binderhub["image_prefix"]
    env = {e["name"]: e for e in values["extraEnv"]}
    assert {"JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_SERVICE_NAME"} <= set(env)


# -- the hub tier: the demo hub's service with the executor, as a browser reads it -------------
@pytest.mark.hub
def test_the_demo_hub_builds_through_binderhub_and_signs_binderhubs_image(make_hub, tmp_path):
    from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo

    _, sha = make_repo(tmp_path / "repos" / "hello", {"requirements.txt": "numpy\n"})
    make_repo(tmp_path / "repos" / "long", {"requirements.txt": "pandas\n"})
    fake = FakeBinderHub(token=TOKEN).start()
    fake.scenarios = {"/long/": "long"}
    fake.keepalive_interval = 25  # BinderHub's: the hub's own keepalives carry the silence
    fake.long_pause = 3.0
    daemon = GitDaemon(tmp_path / "repos", log_dir=tmp_path).start()
    demo = make_hub(
        config='c.HubExtensionsBuilds.executor = "binderhub"\n'
        f"c.HubExtensionsBuilds.binderhub_url = {fake.url!r}\n"
        f"c.HubExtensionsBuilds.binderhub_token = {TOKEN!r}\n"
        "c.HubExtensionsBuilds.keepalive_interval = 0.5\n" + LOOPBACK_BUILDS_CONFIG
    )
    try:
        token = demo.token(demo.login("ada"), "ada")

        def stream(repo: str) -> tuple[list, int]:
            url = demo.service_url(f"build/git/{quote(daemon.repo_url(repo), safe='')}/HEAD")
            with requests.get(
                url, headers={"Authorization": f"token {token}"}, stream=True, timeout=60
            ) as r:
                assert r.status_code == 200, r.text
                assert r.headers["Content-Type"] == "text/event-stream"
                lines = list(r.iter_lines(decode_unicode=True))
            return list(parse_sse(lines)), lines.count(":keepalive")

        repo_url = daemon.repo_url("hello")
        events, _ = stream("hello")
        phases = [e.phase for e in events]
        assert phases[0] == "waiting"
        assert events[0].message == "Waiting for build to start...\n"  # BinderHub's own
        assert events[0].extra["sha"] == sha
        assert events[0].image_name is None  # BinderHub names it; not known yet
        assert "building" in phases
        assert "pushing" in phases
        assert phases.count("waiting") == 1
        assert "built" not in phases
        assert phases[-1] == "ready"
        ready = events[-1]
        assert ready.message == "Done! Image built\n"
        theirs = fake.image_for("git", f"{quote(repo_url, safe='')}/{sha}")
        assert ready.image_name == theirs  # BinderHub's name, not the hub's own
        key = (demo.state / "hub-extensions-build-signing.key").read_bytes().strip()
        assert ready.extra["signature"] == sign(key, "ada", theirs)
        assert ready.extra["cacheHit"] is False
        (request,) = fake.requests
        assert request["spec"] == f"{quote(repo_url, safe='')}/{sha}"

        fake.scenarios["/hello/"] = "cached"  # in BinderHub's registry now: one ready event
        [hit], _ = stream("hello")
        assert (hit.phase, hit.message) == ("ready", "Done! Found built image\n")
        assert hit.image_name == theirs
        assert hit.extra["cacheHit"] is True

        events, keepalives = stream("long")  # 3 s without an event, 0.5 s keepalives
        assert keepalives >= 4
        assert events[-1].phase == "ready"
        assert events[-1].message == "Done! Image built\n"
        assert TOKEN not in demo.log()
    finally:
        demo.stop()
        daemon.stop()
        fake.stop()


@pytest.mark.unit
def test_the_hub_side_snippet_names_images_as_binderhub_does(monkeypatch):
    from traitlets.config import Config

    hub = yaml.safe_load(SNIPPET.with_name("hub-extensions-binderhub.values.yaml").read_text())
    binderhub = yaml.safe_load(SNIPPET.read_text(encoding="utf-8"))["config"]["BinderHub"]
    monkeypatch.setenv("HUB_EXTENSIONS_BINDERHUB_TOKEN", "from-the-hub-secret")
    c = Config()
    exec(hub["hub"]["extraConfig"]["hub-extensions-binderhub"], {"c": c})  # noqa: S102
    options = HubExtensionsBuilds(config=c)
    assert check_builds(c) == []
    assert options.executor == "binderhub"
    assert options.binderhub_token == "from-the-hub-secret"
    ours = image_name(options.image_prefix, "binder-examples-requirements", SHA, options.registry)
    assert ours == image_name(binderhub["image_prefix"], "binder-examples-requirements", SHA)
    role = hub["hub"]["loadRoles"]["hub-extensions-binder"]
    assert role["scopes"] == ["access:services!service=binder"]
    assert role["services"] == ["hub-extensions-binder"]
