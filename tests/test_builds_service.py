"""Builds through the real stack: the service's BinderHub-style endpoint behind the proxy,
a git daemon serving a Dockerfile repository, repo2docker, the local registry.

The service streams with 0.5 s keepalives here (`HubExtensionsBuilds.keepalive_interval`), so that a
build of a few seconds outlasts several of them. Not covered here: the remote BinderHub executor
(test_builds_binderhub.py), the comparison with BinderHub's recorded streams
(test_builds_protocol.py).
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import docker
import pytest
import requests

from hub_extensions.builds.events import parse_sse
from hub_extensions.builds.signing import sign
from hub_extensions.demo.runner import RUN_LABEL

from .infra.buildx_adapter import install_buildx_adapter
from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo
from .infra.registry import manifest_exists

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stack(docker_engine, base_image, registry, hub_factory, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("builds-service")
    env = install_buildx_adapter(tmp / "docker-config")
    make_repo(
        tmp / "repos" / "hello",
        {
            "Dockerfile": f"FROM {base_image}\nCOPY hello.txt /home/jovyan/hello.txt\n",
            "hello.txt": "hello from the repository\n",
        },
    )
    make_repo(
        tmp / "repos" / "broken",
        {"Dockerfile": f"FROM {base_image}\nRUN echo BROKEN-STEP && exit 3\n"},
    )
    make_repo(tmp / "repos" / "slow", {"Dockerfile": f"FROM {base_image}\nRUN sleep 120\n"})
    make_repo(tmp / "repos" / "twice", {"Dockerfile": f"FROM {base_image}\nRUN sleep 3\n"})
    # several keepalive intervals without output; the echo keeps BuildKit's cache from it
    long_step = f"RUN sleep 4 && echo {uuid.uuid4().hex}"
    make_repo(tmp / "repos" / "long", {"Dockerfile": f"FROM {base_image}\n{long_step}\n"})
    daemon = GitDaemon(tmp / "repos", log_dir=tmp).start()
    config = (
        f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        f"c.HubExtensionsBuilds.registry = {registry.host!r}\n"
        "c.HubExtensionsBuilds.keepalive_interval = 0.5\n" + LOOPBACK_BUILDS_CONFIG
    )
    demo = hub_factory.shared(request, spawner="docker", image=base_image, config=config)
    yield demo, daemon, registry
    daemon.stop()


def build_url(demo, daemon, repo="hello", ref="HEAD"):
    return demo.service_url(f"build/git/{quote(daemon.repo_url(repo), safe='')}/{ref}")


def stream(url, token):
    return stream_lines(url, token)[0]


def stream_lines(url, token):
    """(events, the raw lines: events and ':keepalive' comments as they came)."""
    with requests.get(
        url, headers={"Authorization": f"token {token}"}, stream=True, timeout=300
    ) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = list(r.iter_lines(decode_unicode=True))
    return list(parse_sse(lines)), lines


def test_a_build_streams_its_phases_pushes_and_is_signed_then_hits_the_cache(stack):
    demo, daemon, registry = stack
    token = demo.token(demo.login("ada"), "ada")
    events = stream(build_url(demo, daemon), token)
    phases = [e.phase for e in events]
    assert phases[0] == "waiting"
    assert events[0].message == "Waiting for build to start...\n"
    assert phases[-1] == "ready"
    assert "built" not in phases  # BinderHub's build-only streams have none
    assert "building" in phases
    assert "pushing" in phases
    assert phases.index("building") < phases.index("pushing") < phases.index("ready")
    ready = events[-1]
    assert ready.message == "Done! Image built\n"
    image = ready.image_name
    assert events[0].image_name == image  # the first event names the image the build makes
    assert image.startswith(f"{registry.host}/hub-extensions-builds/")
    repo, tag = image[len(registry.host) + 1 :].rsplit(":", 1)
    assert manifest_exists(registry.host, repo, tag)
    key = (demo.state / "hub-extensions-build-signing.key").read_bytes().strip()
    assert ready.extra["signature"] == sign(key, "ada", image)
    assert ready.extra["cacheHit"] is False

    again = stream(build_url(demo, daemon), token)  # same commit: the image exists
    assert [(e.phase, e.message) for e in again] == [("ready", "Done! Found built image\n")]
    assert again[-1].extra["cacheHit"] is True
    assert again[-1].image_name == image
    other = demo.token(demo.login("bo"), "bo")
    theirs = stream(build_url(demo, daemon), other)[-1]
    assert theirs.extra["signature"] == sign(key, "bo", image)  # signed for each user
    assert theirs.extra["signature"] != ready.extra["signature"]


def test_bad_specs_get_one_failed_event_with_binderhubs_message_or_the_field_named(stack):
    demo, daemon, _ = stack
    token = demo.token(demo.login("cy"), "cy")
    spec = f"git:{quote(daemon.repo_url('hello'), safe='')}"
    missing = f"git:{quote(daemon.repo_url('missing'), safe='')}"
    cases = {
        build_url(demo, daemon, ref="no-such-branch"): (
            "ref",
            f"Could not resolve ref for {spec}/no-such-branch. "
            "Double check your URL and that your repo is public.\n",
        ),
        build_url(demo, daemon, repo="missing"): (
            "repo",
            f"Error resolving ref for {missing}/HEAD: Unable to run git ls-remote to get the "
            "`resolved_ref`: could not be read; check the URL and that the repository is "
            "public\n",  # not git's "no such repository" (docs/builds.md: a port scanner)
        ),
        demo.service_url("build/git/" + quote("ext::sh -c touch% /tmp/pwned", safe="") + "/HEAD"): (
            "repo",
            "repo: 'ext::sh -c touch% /tmp/pwned' contains whitespace",
        ),
        build_url(demo, daemon, ref="--upload-pack=touch"): ("ref", "ref: '--upload-pack"),
    }
    for url, (field, message) in cases.items():
        [event] = stream(url, token)  # HTTP 200, text/event-stream, as BinderHub answers
        assert event.phase == "failed"
        assert event.message.startswith(message), (url, event.message)
        assert event.extra["field"] == field
    # a request without a token: BinderHub's send_error shape, with the status
    r = requests.get(build_url(demo, daemon), timeout=30)
    assert r.status_code == 200
    [event] = list(parse_sse(r.iter_lines()))
    assert (event.phase, event.extra["status_code"]) == ("failed", 403)
    assert event.message.startswith("Not authenticated")


def test_users_see_their_own_builds_and_admins_see_all(stack):
    demo, daemon, _ = stack
    mine = demo.api(demo.token(demo.login("dee"), "dee"))
    stream(build_url(demo, daemon), mine.headers["Authorization"].split()[1])
    builds = mine.get(demo.service_url("api/builds"), timeout=10).json()["builds"]
    assert builds
    assert all(b["user"] == "dee" or b["status"] for b in builds)
    assert builds[0]["repository"] == daemon.repo_url("hello")
    log = mine.get(demo.service_url(f"api/builds/{builds[0]['id']}"), timeout=10).json()["log"]
    assert log[-1] in ("Done! Found built image\n", "Done! Image built\n")
    stranger = demo.api(demo.token(demo.login("eli"), "eli"))
    assert stranger.get(demo.service_url("api/builds"), timeout=10).json()["builds"] == []
    assert (
        stranger.get(demo.service_url(f"api/builds/{builds[0]['id']}"), timeout=10).status_code
        == 404
    )
    assert stranger.get(demo.service_url("api/builds?all=1"), timeout=10).status_code == 403
    admin = demo.api(demo.token(demo.login("demo"), "demo"))
    everyone = admin.get(demo.service_url("api/builds?all=1"), timeout=10).json()["builds"]
    assert {b["user"] for b in everyone} >= {"ada", "dee"}
    providers = mine.get(demo.service_url("api/repoproviders"), timeout=10).json()["providers"]
    assert [p["id"] for p in providers] == ["gh", "gl", "git"]


def test_the_built_image_launches_with_its_signature_and_serves_the_repository(stack):
    demo, daemon, _ = stack
    session = demo.login("fay")
    api = demo.api(demo.token(session, "fay"))
    ready = stream(build_url(demo, daemon), api.headers["Authorization"].split()[1])[-1]
    image, signature = ready.image_name, ready.extra["signature"]
    options = {"profile": "medium", "image--unlisted-choice": image}

    forged = api.post(
        demo.hub_url("api/users/fay/server"),
        json={**options, "image--build-signature": "f" * 64},
        timeout=30,
    )
    assert forged.status_code == 400
    assert "not a valid signature" in forged.json()["message"]
    unsigned = api.post(demo.hub_url("api/users/fay/server"), json=options, timeout=30)
    assert unsigned.status_code == 400  # an arbitrary image name alone is refused

    demo.spawn(api, "fay", **options, **{"image--build-signature": signature})
    client = docker.from_env()
    [container] = client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"})
    assert container.attrs["Config"]["Image"] == image
    r = api.get(f"http://127.0.0.1:{demo.port}/user/fay/files/hello.txt", timeout=30)
    assert r.status_code == 200, r.text
    assert r.text == "hello from the repository\n"
    demo.stop_server(api, "fay")


def build_containers(client):
    return client.containers.list(all=True, filters={"label": "hub-extensions.build-job"})


def test_a_broken_dockerfile_ends_in_failed_with_the_log_tail_and_nothing_left(stack):
    demo, daemon, _ = stack
    token = demo.token(demo.login("gus"), "gus")
    events = stream(build_url(demo, daemon, repo="broken"), token)
    assert [e.phase for e in events].count("failed") == 1
    failed = events[-1]
    assert failed.phase == "failed"
    # repo2docker's own error is the message, with its traceback, as BinderHub relays it
    assert failed.message.startswith("Error during build: Command '['docker', 'buildx', 'build'")
    assert failed.extra["exc_info"].startswith("Traceback (most recent call last)")
    assert any("BROKEN-STEP" in line for line in failed.extra["logTail"])
    assert build_containers(docker.from_env()) == []


def test_cancel_stops_the_build_and_its_stream(stack):
    demo, daemon, _ = stack
    api = demo.api(demo.token(demo.login("hal"), "hal"))
    url = build_url(demo, daemon, repo="slow")
    with api.get(url, stream=True, timeout=120) as r:
        lines = r.iter_lines()
        first = next(parse_sse(lines))
        build_id = first.extra["buildId"]
        other = demo.api(demo.token(demo.login("ivy"), "ivy"))
        assert (
            other.delete(demo.service_url(f"api/builds/{build_id}"), timeout=10).status_code == 404
        )
        assert api.delete(demo.service_url(f"api/builds/{build_id}"), timeout=30).status_code == 204
        rest = list(parse_sse(lines))  # the stream closes after the last event
    assert rest[-1].phase == "failed"
    assert rest[-1].extra.get("cancelled") is True
    build = api.get(demo.service_url(f"api/builds/{build_id}"), timeout=10).json()
    assert build["status"] == "cancelled"
    assert build_containers(docker.from_env()) == []


def test_two_concurrent_requests_for_a_new_commit_make_one_build(stack):
    from concurrent.futures import ThreadPoolExecutor

    demo, daemon, _ = stack
    tokens = [demo.token(demo.login(name), name) for name in ("jo", "kit")]
    url = build_url(demo, daemon, repo="twice")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda t: stream(url, t), tokens))
    ids = {events[0].extra["buildId"] for events in results}
    assert len(ids) == 1  # one build, attached twice
    for events in results:
        assert events[-1].phase == "ready"
    assert [e.message for e in results[0][1:]] == [e.message for e in results[1][1:]]


def test_a_build_past_its_timeout_fails_and_its_stream_closes(
    stack, base_image, make_hub, tmp_path
):
    _, daemon, _ = stack
    env = install_buildx_adapter(tmp_path / "docker-config")
    demo = make_hub(
        spawner="docker",
        image=base_image,
        config=f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        "c.HubExtensionsBuilds.build_timeout = 5\n"  # and no registry: the image would stay local
        + LOOPBACK_BUILDS_CONFIG,
    )
    try:
        token = demo.token(demo.login("lea"), "lea")
        events = stream(build_url(demo, daemon, repo="slow"), token)  # RUN sleep 120
        assert events[-1].phase == "failed"
        assert "timed out after 5" in events[-1].message
        assert build_containers(docker.from_env()) == []
    finally:
        demo.stop()


def test_a_build_longer_than_many_keepalives_streams_to_its_end_also_after_a_reconnect(stack):
    """A build of ~5 s under 0.5 s keepalives: the first client leaves mid-build, the second
    (reconnecting) gets the whole log replayed, keepalives through the silent step, and the
    end. Before the fix, the first keepalive ended every stream without `ready`."""
    demo, daemon, _ = stack
    token = demo.token(demo.login("mo"), "mo")
    url = build_url(demo, daemon, repo="long")
    with requests.get(url, headers={"Authorization": f"token {token}"}, stream=True) as r:
        seen = []
        for event in parse_sse(r.iter_lines()):
            seen.append(event)
            if "RUN sleep 4" in event.message:
                break  # the long step has started: leave
    build_id = seen[0].extra["buildId"]
    events, lines = stream_lines(url, token)
    assert events[0].extra["buildId"] == build_id  # the same build, attached again
    assert [e.message for e in events[: len(seen)]] == [e.message for e in seen]
    assert events[-1].phase == "ready", [e.phase for e in events[-3:]]
    assert events[-1].message == "Done! Image built\n"
    assert lines.count(":keepalive") >= 4
    # the keepalives came during the silent step, several in a row between two events
    run = longest = 0
    for line in lines:
        if line == ":keepalive":
            run += 1
            longest = max(longest, run)
        elif line:
            run = 0
    assert longest >= 4, lines
