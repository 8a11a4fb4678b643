"""Build benchmarks: cache hits, sharing, a failed build, broker overhead (benchmarks/README.md)."""

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub_extensions.builds.config import HubExtensionsBuilds
from hub_extensions.builds.events import parse_sse
from hub_extensions.builds.executors import local_repo2docker as r2d
from hub_extensions.builds.naming import image_name
from hub_extensions.demo.runner import marked_pids
from hub_extensions.images.base_image import build_base_image
from tests.infra.buildx_adapter import install_buildx_adapter
from tests.infra.docker_engine import ensure_docker_engine
from tests.infra.git_repos import GitDaemon, make_repo
from tests.infra.hub import DemoHub
from tests.infra.registry import MANIFEST_TYPES, LocalRegistry

FULL = dict(n=100, warmup=5, clients=20, rounds=5, pairs=3, probes=20)
QUICK = dict(n=20, warmup=3, clients=20, rounds=2, pairs=1, probes=5)
PREFIX = HubExtensionsBuilds().image_prefix


def pct(samples: list[float], p: float) -> float:  # nearest rank, seconds -> ms
    s = sorted(samples)
    return round(s[max(0, math.ceil(p / 100 * len(s)) - 1)] * 1000, 2)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def stream(session: requests.Session, url: str, deadline: float = 600) -> dict:
    """One build request: perf_counter times of the start, the last event and the stream end."""
    out = {"t0": time.perf_counter(), "events": [], "t_term": None, "closed": False}
    limit = out["t0"] + deadline
    with session.get(url, stream=True, timeout=(10, 60)) as r:
        if r.status_code != 200:
            raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:300]}")

        def lines():
            for line in r.iter_lines():
                yield line
                if time.perf_counter() > limit:
                    return
            out["closed"] = True

        with contextlib.suppress(requests.RequestException):  # a read timeout: open, silent
            for event in parse_sse(lines()):
                out["events"].append(event)
                if event.terminal and out["t_term"] is None:
                    out["t_term"] = time.perf_counter()
                    limit = min(limit, out["t_term"] + 30)  # > one keep-alive interval
    out["t_end"] = time.perf_counter()
    return out


def ready_s(res: dict) -> float:
    if not res["events"] or res["events"][-1].phase != "ready":
        raise RuntimeError(f"not ready: {[(e.phase, e.message) for e in res['events']]}")
    return res["t_term"] - res["t0"]


def scan_repo2docker(pids: set, halt: threading.Event) -> None:
    """Add the PIDs of `python -m repo2docker` processes to `pids`, every 100 ms until `halt`."""
    while not halt.is_set():
        for entry in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                if b"-m\0repo2docker\0" in Path(f"/proc/{entry}/cmdline").read_bytes():
                    pids.add(int(entry))
        halt.wait(0.1)


def concurrent(sessions: list, url: str, pids: set | None = None) -> tuple[float, list[dict]]:
    """Every session requests `url` at once; seconds from then until all are ready (+ PIDs)."""
    gate, halt = threading.Barrier(len(sessions) + 1), threading.Event()
    if pids is not None:
        threading.Thread(target=scan_repo2docker, args=(pids, halt), daemon=True).start()

    def one(s):
        gate.wait(timeout=30)
        return stream(s, url)

    with ThreadPoolExecutor(len(sessions)) as pool:
        futures = [pool.submit(one, s) for s in sessions]
        gate.wait(timeout=30)
        t0 = time.perf_counter()
        try:
            results = [f.result() for f in futures]
        finally:
            halt.set()
    return max(ready_s(r) + r["t0"] for r in results) - t0, results


def service_port(run_id: str) -> int:
    """The managed service's own port, from the environment of the demo's processes."""
    for pid in marked_pids(run_id):
        with contextlib.suppress(OSError):
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            for item in (i for i in env if i.startswith(b"HUB_EXTENSIONS_DEMO_SERVICE_PORT=")):
                return int(item.split(b"=", 1)[1])
    raise RuntimeError("the service port was not found")


def stamp_commit(path: Path, base: str) -> str:
    """A new commit whose layers cannot come from Docker's build cache; returns its SHA."""
    dockerfile = f"FROM {base}\nCOPY stamp.txt /tmp/stamp.txt\nRUN sleep 2\n"
    return make_repo(path, {"Dockerfile": dockerfile, "stamp.txt": uuid.uuid4().hex})[1]


def manual_build(repo_url: str, sha: str, image: str, env: dict, tmp: Path) -> float:
    """Seconds of `python -m repo2docker` by hand, with the executor's own flags and config."""
    executor = r2d.LocalRepo2DockerExecutor(env=env)
    labels = {"hub-extensions.build-user": "bench"}
    job = r2d.BuildJob(f"manual-{sha[:8]}", repo_url, sha, image, push=True, labels=labels)
    workdir = Path(tempfile.mkdtemp(prefix="manual-", dir=tmp))
    config = workdir / "repo2docker_config.py"
    config.write_text(executor.config_text(job))
    run_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(workdir)}
    t0 = time.perf_counter()
    res = subprocess.run(
        executor.command(job, config), env=run_env, cwd=workdir, stdin=subprocess.DEVNULL,
        capture_output=True, timeout=600, check=False,
    )  # fmt: skip
    took = time.perf_counter() - t0
    if res.returncode:
        raise RuntimeError(f"repo2docker by hand: {res.returncode}\n{res.stdout[-2000:]}")
    return took


def remove_images(client, host: str) -> None:
    for tag in [t for img in client.images.list() for t in img.tags if t.startswith(host + "/")]:
        client.images.remove(tag, force=True)


def run(cfg: dict, tmp: Path, rows: list) -> dict:
    res: dict = {"config": cfg}
    with contextlib.ExitStack() as stop:  # clean-ups run in reverse order, each one
        engine = ensure_docker_engine(tmp / "dockerd")
        stop.callback(engine.stop)
        base = build_base_image()
        registry = LocalRegistry(tmp / "registry").start()
        stop.callback(remove_images, engine.client, registry.host)
        stop.callback(registry.stop)
        env = install_buildx_adapter(tmp / "docker-config")
        repos = tmp / "repos"
        make_repo(repos / "hello", {"Dockerfile": f"FROM {base}\nRUN echo hello\n"})
        make_repo(repos / "broken", {"Dockerfile": f"FROM {base}\nRUN echo BROKEN && exit 3\n"})
        stamp_commit(repos / "shared", base)
        stamp_commit(repos / "cold", base)
        daemon = GitDaemon(repos, log_dir=tmp).start()
        stop.callback(daemon.stop)
        extra = tmp / "builds.py"
        extra.write_text(
            f"c.HubExtensions.service_environment.update({json.dumps(env)})\n"
            f"c.HubExtensionsBuilds.registry = {registry.host!r}\n"
        )
        demo = DemoHub(tmp, spawner="docker", image=base, extra_config=str(extra)).start()
        stop.callback(demo.stop)
        port = service_port(demo.run_id)

        def url(repo: str, ref: str = "HEAD", direct: bool = False) -> str:
            # direct: to the service itself, not through the proxy
            base = f"http://127.0.0.1:{port}{demo.service_prefix}" if direct else demo.service_url()
            return f"{base}build/git/{quote(daemon.repo_url(repo), safe='')}/{ref}"

        admin = demo.api(demo.token(demo.login("demo"), "demo"))
        users = (f"bench{i}" for i in range(cfg["clients"]))
        sessions = [demo.api(demo.token(demo.login(u), u)) for u in users]
        api = sessions[0]

        def report(key: str, label: str, value, unit: str, target: str = "", ok=None) -> None:
            res[key] = value
            verdict = "" if ok is None else (": met" if ok else ": MISSED")
            rows.append((label, f"{value} {unit}".strip(), target + verdict))

        first = stream(api, url("hello"))
        report("first_build_s", "first build of the run (warm-up)", round(ready_s(first), 2), "s")
        sha, hello_image = first["events"][0].extra["sha"], first["events"][-1].image_name
        for key, ref, p50, p99 in (("head", "HEAD", 30, 60), ("sha", sha, 8, None)):
            hit, skip = url("hello", ref), cfg["warmup"]
            samples = [ready_s(stream(api, hit)) for _ in range(skip + cfg["n"])][skip:]
            v50, v99, label = pct(samples, 50), pct(samples, 99), f"cache hit {key.upper()}"
            report(f"hit_{key}_p50_ms", f"{label} p50 (N={len(samples)})", v50, "ms",
                   f"≤ {p50} ms", v50 <= p50)  # fmt: skip
            report(f"hit_{key}_p99_ms", f"{label} p99", v99, "ms", *(
                (f"≤ {p99} ms", v99 <= p99) if p99 else ()))  # fmt: skip

        first_round = ms(concurrent(sessions, url("hello"))[0])  # the first use of most tokens
        rounds = [concurrent(sessions, url("hello"))[0] for _ in range(cfg["rounds"])]
        n, mid = len(sessions), ms(statistics.median(rounds))
        report("concurrent_hits_median_ms", f"{n} concurrent hits, all ready, median of "
               f"{len(rounds)} rounds", mid, "ms", "≤ 100 ms", mid <= 100)  # fmt: skip
        report("concurrent_hits_max_ms", "  same, slowest round", ms(max(rounds)), "ms")
        report("concurrent_hits_first_ms", "  same, first round, new tokens", first_round, "ms")
        by_sha = ms(statistics.median(concurrent(sessions, url("hello", sha))[0] for _ in rounds))
        report("concurrent_sha_median_ms", "  same for a full SHA, median", by_sha, "ms")

        new_sha = stamp_commit(repos / "shared", base)
        pids: set[int] = set()
        took, results = concurrent(sessions, url("shared"), pids)
        builds = admin.get(demo.service_url("api/builds?all=1"), timeout=10).json()["builds"]
        report("new_commit_repo2docker_runs", f"{n} concurrent, new commit: repo2docker runs",
               len(pids), "", "= 1", len(pids) == 1)  # fmt: skip
        report("new_commit_build_ids", "  build ids in api/builds?all=1",
               len({b["id"] for b in builds if b["sha"] == new_sha}), "")  # fmt: skip
        ids = {r["events"][0].extra.get("buildId") for r in results}
        report("new_commit_stream_build_ids", "  build ids in the streams", len(ids), "")
        report("new_commit_all_ready_s", "  all ready", round(took, 2), "s")

        broken = stream(api, url("broken"), deadline=300)
        end = round(broken["t_end"] - broken["t0"], 2)
        last = broken["events"][-1].phase if broken["events"] else None
        report("failed_closed", f"failed build: stream closes (last phase {last})",
               broken["closed"], "", "closes", broken["closed"])  # fmt: skip
        report("failed_stream_end_s", "  request → stream end", end, "s")

        cold = daemon.repo_url("cold")
        ready_s(stream(api, url("cold")))  # warm-up: the first push to this repository
        pairs = res["cold_pairs"] = []
        for i in range(cfg["pairs"]):
            took = {}
            for kind in ("broker", "manual") if i % 2 == 0 else ("manual", "broker"):
                commit = stamp_commit(repos / "cold", base)
                if kind == "broker":
                    took[kind] = ready_s(stream(api, url("cold")))
                else:
                    image = image_name(PREFIX, cold, commit, registry.host)
                    took[kind] = manual_build(cold, commit, image, env, tmp)
            pairs.append({k: round(v, 2) for k, v in took.items()})
        for kind in ("broker", "manual"):
            value = statistics.median(p[kind] for p in pairs)
            report(f"cold_{kind}_median_s", f"cold build, {kind}, median", value, "s")
        over = round(100 * statistics.median(p["broker"] / p["manual"] - 1 for p in pairs), 1)
        report("cold_overhead_pct", "  broker overhead, median of the pairs", over, "%",
               "≤ 10 %", over <= 10)  # fmt: skip

        accept = {"Accept": MANIFEST_TYPES}
        manifest = f"{registry.url}/v2/{hello_image.split('/', 1)[1].replace(':', '/manifests/')}"
        ls_remote = ["git", "ls-remote", "--", daemon.repo_url("hello"), "HEAD"]
        v0 = ["-c", "protocol.version=0", *ls_remote[1:]]
        direct = f"http://127.0.0.1:{port}{demo.service_prefix}api/health"
        probes = {
            "git ls-remote HEAD": lambda: subprocess.run(ls_remote, capture_output=True),
            "same, protocol v0": lambda: subprocess.run(ls_remote[:1] + v0, capture_output=True),
            "registry manifest HEAD": lambda: requests.head(manifest, headers=accept, timeout=10),
            "api/health via proxy": lambda: api.get(demo.service_url("api/health"), timeout=10),
            "api/health direct": lambda: api.get(direct, timeout=10),
            "cache hit HEAD via proxy": lambda: ready_s(stream(api, url("hello"))),
            "cache hit HEAD direct": lambda: ready_s(stream(api, url("hello", direct=True))),
            "cache hit SHA direct": lambda: ready_s(stream(api, url("hello", sha, direct=True))),
        }
        rows.append(("cache-hit breakdown, medians", "", ""))
        for name, fn in probes.items():
            value = ms(statistics.median(timeit.repeat(fn, number=1, repeat=cfg["probes"])))
            report(f"breakdown_{name}_ms", f"  {name}", value, "ms")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations, for a smoke run")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    tmp, rows = Path(tempfile.mkdtemp(prefix="bench-builds-")), [("figure", "value", "target")]
    try:
        res = run(QUICK if args.quick else FULL, tmp, rows)
    finally:  # the figures so far, even when a step failed
        shutil.rmtree(tmp, ignore_errors=True)
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for i, row in enumerate(rows):
            print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if i == 0:
                print("-+-".join("-" * w for w in widths))
    print("cold build pairs (s):", json.dumps(res["cold_pairs"]))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
