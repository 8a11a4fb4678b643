"""BinderHub's own JavaScript client, `@jupyterhub/binderhub-client` (the root package.json),
run with Node against the broker of a real demo hub, through configurable-http-proxy, with a
user's token scoped to the service (`access:services!service=hub-extensions`, as the spawn
form's token is). The builds are real repo2docker builds into the local Docker engine (no
registry, as BinderHub's `use_registry = False`), from a git daemon on loopback.

`tests/js/binderhub_client_build.mjs` consumes the client's events the way BinderHub's UI does
(close on `ready` or `failed`) and prints every event the client yields; the tests assert on
that, i.e. on what a BinderHub front end would show. The expected texts are BinderHub's own,
as recorded in shared/binderhub/streams (build.txt, cache-hit.txt, build-failure.txt,
bad-ref.txt).

Not covered: the client's launch mode (without `build_only`; the broker only builds), build
tokens (`build_token`), and the browser's XSRF-cookie path of the client (Node has no cookies;
the token path is the one the profiles form uses).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import docker
import pytest

from hub_extensions.builds.providers import protocol_options

from .infra.buildx_adapter import install_buildx_adapter
from .infra.git_repos import LOOPBACK_BUILDS_CONFIG, GitDaemon, make_repo

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "js" / "binderhub_client_build.mjs"
CLIENT = ROOT / "node_modules" / "@jupyterhub" / "binderhub-client" / "lib" / "client.js"
SCOPE = "access:services!service=hub-extensions"


@pytest.fixture(scope="module")
def stack(docker_engine, base_image, hub_factory, request, tmp_path_factory):
    if not CLIENT.exists():
        pytest.fail(f"{CLIENT} is missing: run `npm ci` in {ROOT} (scripts/bootstrap does)")
    tmp = tmp_path_factory.mktemp("binderhub-client")
    env = install_buildx_adapter(tmp / "docker-config")
    repos = tmp / "repos"
    make_repo(
        repos / "hello",
        {
            "Dockerfile": f"FROM {base_image}\nCOPY stamp.txt /tmp/stamp.txt\n",
            "stamp.txt": str(tmp),
        },
    )
    make_repo(
        repos / "broken", {"Dockerfile": f"FROM {base_image}\nRUN echo BROKEN-STEP && exit 3\n"}
    )
    daemon = GitDaemon(repos, log_dir=tmp).start()
    config = f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
    try:
        demo = hub_factory.shared(
            request, spawner="docker", image=base_image, config=config + LOOPBACK_BUILDS_CONFIG
        )
        session = demo.login("nora")
        r = session.post(
            demo.hub_url("api/users/nora/tokens"),
            json={"note": "binderhub-client test", "scopes": [SCOPE]},
            headers=demo.xsrf_headers(session),
            timeout=10,
        )
        r.raise_for_status()
        assert SCOPE in r.json()["scopes"]  # (with the identity scopes the hub adds to it)
        yield demo, daemon, r.json()["token"]
    finally:
        daemon.stop()
        client = docker.from_env()
        for repo in ("hello", "broken"):
            label = f"repo2docker.repo={daemon.repo_url(repo)}"
            for image in client.images.list(filters={"label": label}):
                client.images.remove(image.id, force=True)


def run_client(stack, repo: str, ref: str = "HEAD") -> list[dict]:
    """Every event BinderHub's client yields for `git/<repo url>/<ref>`, in order."""
    demo, daemon, token = stack
    spec = f"git/{quote(daemon.repo_url(repo), safe='')}/{ref}"
    endpoint = demo.service_url("build/")
    res = subprocess.run(
        [shutil.which("node") or "node", "--experimental-detect-module", SCRIPT, endpoint, spec],
        env={**os.environ, "BINDERHUB_API_TOKEN": token, "BINDERHUB_CLIENT_TIMEOUT_MS": "240000"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    events = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert events, res.stderr[-3000:]
    return events


def terminal(events: list[dict]) -> tuple[dict, list[dict]]:
    """The first `ready` or `failed` the client reported, and everything after it."""
    i = next(i for i, e in enumerate(events) if e.get("phase") in ("ready", "failed"))
    return events[i], events[i + 1 :]


@pytest.mark.docker
def test_the_client_builds_then_reports_the_cache_hit(stack):
    events = run_client(stack, "hello")
    end, after = terminal(events)
    assert end["phase"] == "ready", events[-5:]
    assert after == [], after  # e.g. no "Event stream closed unexpectedly" after ready
    assert end["message"] == "Done! Image built\n"
    image = end["imageName"]
    docker.from_env().images.get(image)  # the image the client was told of exists
    phases = [e.get("phase") for e in events]
    assert events[0] == {**events[0], "phase": "waiting"}
    assert events[0]["message"] == "Waiting for build to start...\n"
    assert "building" in phases
    assert "built" not in phases  # BinderHub's build_only streams have none
    assert all(e.get("phase") != "failed" for e in events)

    hit = run_client(stack, "hello")
    assert [e.get("phase") for e in hit] == ["ready"], hit
    assert hit[0]["message"] == "Done! Found built image\n"
    assert hit[0]["imageName"] == image


@pytest.mark.docker
def test_the_client_reports_repo2dockers_failure(stack):
    events = run_client(stack, "broken")
    end, _ = terminal(events)
    assert end["phase"] == "failed", events[-5:]
    # repo2docker's own error, as BinderHub passes it on (build-failure.txt)
    assert end["message"].startswith("Error during build:"), end
    assert any("BROKEN-STEP" in e.get("message", "") for e in events[: events.index(end)])


@pytest.mark.docker
def test_the_client_reports_a_bad_ref_with_its_message(stack):
    events = run_client(stack, "hello", "no-such-branch")
    assert [e.get("phase") for e in events] == ["failed"], events
    message = events[0]["message"]
    # BinderHub answers HTTP 200 + a `failed` event; an HTTP error would reach the client's
    # user only as "Failed to connect to event stream: 400 - function text() ...".
    assert "Failed to connect" not in message, message
    assert "no-such-branch" in message, message
    assert events[0].get("field", "ref") == "ref"  # our addition, if sent, names the field


@pytest.mark.unit
def test_git_protocol_v0_over_git_unless_the_environment_sets_a_version():
    """The broker's `git ls-remote` speaks v0 over git:// (v2 stalls ~40 ms on git daemon), but
    a `protocol.version` set through git's environment config (as bench_build_latency.py sets
    it for both servers) is left to git: a `-c` option would override it."""
    v0 = ["-c", "protocol.version=0"]
    assert protocol_options("git://127.0.0.1:9418/repo", {}) == v0
    assert protocol_options("https://github.com/org/repo", {}) == []
    forced = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.version",
              "GIT_CONFIG_VALUE_0": "2"}  # fmt: skip
    assert protocol_options("git://127.0.0.1:9418/repo", forced) == []
    other = {**forced, "GIT_CONFIG_KEY_0": "core.askPass"}
    assert protocol_options("git://127.0.0.1:9418/repo", other) == v0
    assert protocol_options("git://h/r", {"GIT_CONFIG_PARAMETERS": "'protocol.version'='1'"}) == []
    assert protocol_options("git://h/r", {"GIT_CONFIG_COUNT": "x"}) == v0
