"""Cache-hit latency, broker against the genuine BinderHub, interleaved (benchmarks/README.md).

BinderHub is not on PyPI (only a 2018 0.1.0, Kubernetes-only, whose metadata current pip
refuses), so it runs from a source checkout given with --binderhub-src, on the peers venv
(requirements-peers.txt), API-only, with local repo2docker builds and no authentication.
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_builds import pct, service_port  # noqa: E402
from profiles_form_support import peers_python  # noqa: E402

from hub_extensions.images.base_image import build_base_image  # noqa: E402
from tests.infra.buildx_adapter import install_buildx_adapter  # noqa: E402
from tests.infra.common import ManagedProcess, free_port, wait_for_http  # noqa: E402
from tests.infra.docker_engine import ensure_docker_engine  # noqa: E402
from tests.infra.git_repos import GitDaemon, make_repo  # noqa: E402
from tests.infra.hub import DemoHub  # noqa: E402

FULL = dict(n=200, warmup=10)
QUICK = dict(n=30, warmup=3)
PROTOCOLS = ("0", "2")
IMAGE_PREFIX = "bench-binderhub/"
SCOPE = "access:services!service=hub-extensions"
BINDERHUB_CONFIG = """\
from binderhub.build_local import LocalRepo2dockerBuild
from binderhub.repoproviders import GitRepoProvider
c.BinderHub.port = {port}
c.BinderHub.enable_api_only_mode = True  # /build, /versions, /health; no UI pages
c.BinderHub.use_registry = False         # the image is looked up in the local engine
c.BinderHub.builder_required = False     # no Kubernetes
c.BinderHub.build_class = LocalRepo2dockerBuild
c.BinderHub.auth_enabled = False
c.BinderHub.hub_url = "http://127.0.0.1:1/"  # never called: build_only requests launch nothing
c.BinderHub.image_prefix = {prefix!r}
c.BinderHub.repo_providers = {{"git": GitRepoProvider}}
c.RateLimiter.limit = 0  # no per-IP limit: every request of the benchmark comes from 127.0.0.1
c.BuildExecutor.repo2docker_extra_args = ["--config", {r2d_config!r}]
"""
# repo2docker as the broker runs it: only the Local and Git content providers (the others
# fetch lists from the internet when they load), and --load for the buildx adapter
REPO2DOCKER_CONFIG = """\
from repo2docker import contentproviders
c.Repo2Docker.content_providers = [contentproviders.Local, contentproviders.Git]
c.DockerEngine.extra_buildx_build_args = ["--load"]
"""


def git_protocol_env(version: str) -> dict:
    """git's environment config: every git the server starts speaks this protocol version."""
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.version",
            "GIT_CONFIG_VALUE_0": version}  # fmt: skip


def time_to_ready(session: requests.Session, url: str) -> float:
    """Seconds from sending the request to the `ready` event; the rest of the stream is read
    (both servers close it right after), so the connection is reused by the next request."""
    t0 = time.perf_counter()
    with session.get(url, stream=True, timeout=(10, 60)) as r:
        if r.status_code != 200:
            raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:300]}")
        took = None
        for line in r.iter_lines():
            if took is None and line.startswith(b"data:"):
                event = json.loads(line[5:])
                if event.get("phase") != "ready":
                    raise RuntimeError(f"{url}: {event}")
                took = time.perf_counter() - t0
    if took is None:
        raise RuntimeError(f"{url}: no ready event")
    return took


def start_binderhub(
    py: Path, src: Path, tmp: Path, env: dict, protocol: str
) -> tuple[ManagedProcess, str]:
    """BinderHub from `src` on a free port; the process and its build URL prefix."""
    port = free_port()
    config, r2d_config = tmp / f"binderhub_config_v{protocol}.py", tmp / "repo2docker_config.py"
    r2d_config.write_text(REPO2DOCKER_CONFIG)
    config.write_text(
        BINDERHUB_CONFIG.format(port=port, prefix=IMAGE_PREFIX, r2d_config=str(r2d_config))
    )
    path = f"{env['PATH']}:{py.parent}"  # Debian's docker first, then jupyter-repo2docker
    run_env = {**os.environ, **env, **git_protocol_env(protocol), "PATH": path,
               "PYTHONPATH": str(src)}  # fmt: skip
    proc = ManagedProcess(f"binderhub-v{protocol}", [py, "-m", "binderhub", "-f", config], tmp,
                          env=run_env, cwd=tmp)  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/versions", timeout=60)
    except Exception:
        proc.stop()
        raise RuntimeError(f"BinderHub did not start:\n{proc.log_text()[-3000:]}") from None
    return proc, f"http://127.0.0.1:{port}/build/"


def first_terminal(session: requests.Session, url: str) -> dict:
    """The first `ready` or `failed` event (BinderHub keeps a failed stream open)."""
    with session.get(url, stream=True, timeout=(10, 600)) as r:
        for line in r.iter_lines():
            if line.startswith(b"data:"):
                event = json.loads(line[5:])
                if event.get("phase") in ("ready", "failed"):
                    return event
    raise RuntimeError(f"{url}: the stream ended without ready or failed")


def start_broker(tmp: Path, base: str, env: dict, protocol: str) -> DemoHub:
    """A demo hub (started, not yet ready) whose service's git speaks `protocol`."""
    extra = tmp / f"builds_v{protocol}.py"
    if os.environ.get("PYTHONPATH"):  # a source tree to measure; the hub passes it on too
        env = {**env, "PYTHONPATH": os.environ["PYTHONPATH"]}
    extra.write_text(
        f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
        f"c.HubExtensions.service_environment.update({json.dumps(git_protocol_env(protocol))})\n"
    )
    demo = DemoHub(tmp / f"hub-v{protocol}", spawner="docker", image=base,
                   extra_config=str(extra)).start(wait=False)  # fmt: skip
    return demo


def remove_images(client, repo_url: str) -> None:
    """The images built from `repo_url` (repo2docker labels each with its repository)."""
    for image in client.images.list(filters={"label": f"repo2docker.repo={repo_url}"}):
        client.images.remove(image.id, force=True)


def run(cfg: dict, tmp: Path, src: Path, rows: list) -> dict:
    res: dict = {"config": cfg, "samples": {}}
    with contextlib.ExitStack() as stop:
        py = peers_python()
        engine = ensure_docker_engine(tmp / "dockerd")
        stop.callback(engine.stop)
        base = build_base_image()
        env = install_buildx_adapter(tmp / "docker-config")
        dockerfile = f"FROM {base}\nCOPY stamp.txt /tmp/stamp.txt\n"
        _, sha = make_repo(
            tmp / "repos" / "hello", {"Dockerfile": dockerfile, "stamp.txt": str(tmp)}
        )
        daemon = GitDaemon(tmp / "repos", log_dir=tmp).start("hello")
        stop.callback(daemon.stop)
        stop.callback(remove_images, engine.client, daemon.repo_url("hello"))
        spec = f"git/{quote(daemon.repo_url('hello'), safe='')}"

        servers: dict[tuple[str, str], tuple[requests.Session, str]] = {}
        hubs = {}
        for protocol in PROTOCOLS:
            hubs[protocol] = start_broker(tmp, base, env, protocol)
            stop.callback(hubs[protocol].stop)
        for protocol in PROTOCOLS:
            proc, url = start_binderhub(py, src, tmp, env, protocol)
            stop.callback(proc.stop)
            servers[("BinderHub", protocol)] = (requests.Session(), url)
        for protocol, demo in hubs.items():
            demo.wait_ready()
            session = demo.login("bench")
            r = session.post(demo.hub_url("api/users/bench/tokens"), timeout=10,
                             json={"note": "bench", "scopes": [SCOPE]},
                             headers=demo.xsrf_headers(session))  # fmt: skip
            r.raise_for_status()
            api = demo.api(r.json()["token"])
            direct = f"http://127.0.0.1:{service_port(demo.run_id)}{demo.service_prefix}build/"
            servers[("broker, direct", protocol)] = (api, direct)
            servers[("broker, via proxy", protocol)] = (api, demo.service_url("build/"))

        for session, _ in servers.values():
            session.headers["Accept"] = "text/event-stream"  # BinderHub requires it
        # the first request of each builds the image (BinderHub's name differs from ours)
        for (kind, protocol), (session, url) in servers.items():
            if protocol == PROTOCOLS[0] and kind != "broker, via proxy":
                event = first_terminal(session, f"{url}{spec}/HEAD?build_only=true")
                if event["phase"] != "ready":
                    raise RuntimeError(f"{kind}: the first build failed: {event}")

        cases = [(kind, protocol, ref) for (kind, protocol) in servers for ref in ("HEAD", sha)]
        samples: dict[tuple, list[float]] = {c: [] for c in cases}
        t0 = time.perf_counter()
        for i in range(cfg["warmup"] + cfg["n"]):
            # every case once per round; the order rotates so no case always follows another
            for case in cases[i % len(cases) :] + cases[: i % len(cases)]:
                session, url = servers[case[:2]]
                took = time_to_ready(session, f"{url}{spec}/{case[2]}?build_only=true")
                if i >= cfg["warmup"]:
                    samples[case].append(took)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        header = ("ref", "git protocol", *(k for k in dict.fromkeys(k for k, _ in servers)))
        rows.append(header)
        for ref, label in (("HEAD", "HEAD"), (sha, "full SHA")):
            for protocol in PROTOCOLS:
                row = [label, f"v{protocol}"]
                for kind in header[2:]:
                    s = samples[(kind, protocol, ref)]
                    res["samples"][f"{kind} v{protocol} {label}"] = [round(x * 1000, 3) for x in s]
                    row.append(f"{pct(s, 50)} / {pct(s, 99)} ms")
                rows.append(tuple(row))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binderhub-src", type=Path, required=True, help="a checkout of "
                    "jupyterhub/binderhub (the folder holding binderhub/)")  # fmt: skip
    ap.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the samples as JSON")
    args = ap.parse_args()
    if not (args.binderhub_src / "binderhub" / "app.py").exists():
        ap.error(f"{args.binderhub_src} holds no binderhub/app.py (a BinderHub checkout)")
    tmp, rows = Path(tempfile.mkdtemp(prefix="bench-latency-")), []
    try:
        res = run(QUICK if args.quick else FULL, tmp, args.binderhub_src.resolve(), rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    n = res["config"]["n"]
    print(f"p50 / p99 (nearest rank) of {n} cache hits per cell, interleaved; {res['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
