"""Foundation benchmarks: the demo hub + proxy + managed service on loopback; prints figures.

Run from the repo root: .venv/bin/python benchmarks/bench_foundation.py [--quick] [--json PATH]
Measures only; never asserts timing. Everything it starts is stopped in finally blocks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub_extensions.demo.runner import marked_pids  # noqa: E402
from tests.infra.common import wait_until  # noqa: E402
from tests.infra.hub import DemoHub  # noqa: E402

DIST = ROOT / "src" / "hub_extensions" / "static" / "dist"
FULL = dict(starts=3, n=300, warmup=20, total=1000, clients=8, page_n=100, spawns=3)
QUICK = dict(starts=1, n=50, warmup=5, total=200, clients=8, page_n=20, spawns=1)
USER = "bench"


def pct(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ms_stats(samples: list[float], ps=(50, 95, 99)) -> dict:
    out = {f"p{p}_ms": round(pct(samples, p) * 1000, 2) for p in ps}
    return {**out, "max_ms": round(max(samples) * 1000, 2), "n": len(samples)}


def timed_get(session: requests.Session, url: str, expect: int = 200) -> float:
    t0 = time.perf_counter()
    r = session.get(url, timeout=10, allow_redirects=False)
    elapsed = time.perf_counter() - t0
    if r.status_code != expect:
        raise RuntimeError(f"GET {url}: {r.status_code} (expected {expect}) {r.text[:300]}")
    return elapsed


def cold_start(tmp: Path) -> tuple[float, float]:
    """Seconds from launching `hub-extensions demo` to hub + service answering; and to stop."""
    hub = DemoHub(tmp)
    t0 = time.perf_counter()
    try:
        hub.start(wait=False)

        def ready() -> bool:
            if not hub.proc.alive():
                raise RuntimeError(f"demo exited early:\n{hub.log()[-3000:]}")
            h = requests.get(hub.hub_url("health"), timeout=2)
            s = requests.get(hub.service_url("api/health"), timeout=2)
            return h.status_code == 200 and s.status_code == 403

        wait_until(ready, 60, "the demo hub", interval=0.05)
        started = time.perf_counter() - t0
    finally:
        t1 = time.perf_counter()
        hub.stop()
    return started, time.perf_counter() - t1


def interleaved(api: requests.Session, urls: dict[str, str], n: int, warmup: int) -> dict:
    """Alternate the URLs request by request so drift affects every one alike."""
    for _ in range(warmup):
        for url in urls.values():
            timed_get(api, url)
    samples: dict[str, list[float]] = {k: [] for k in urls}
    for _ in range(n):
        for key, url in urls.items():
            samples[key].append(timed_get(api, url))
    return {k: ms_stats(v) for k, v in samples.items()}


def throughput(token: str, url: str, total: int, clients: int) -> dict:
    local = threading.local()

    def one(_: int) -> bool:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"token {token}"
        return local.s.get(url, timeout=10).status_code == 200

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        errors = sum(not ok for ok in pool.map(one, range(total)))
    wall = time.perf_counter() - t0
    return {"rps": round(total / wall, 1), "requests": total, "clients": clients, "errors": errors}


def rss_by_role(run_id: str) -> dict[str, int]:
    """VmRSS in kB of the service, the hub and the proxy of a demo run."""
    roles: dict[str, int] = {}
    for pid in marked_pids(run_id):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmd]
        if "hub_extensions.service" in args and "-m" in args:
            role = "service"
        elif "jupyterhub" in args and "-f" in args:
            role = "hub"
        elif any("configurable-http-proxy" in a for a in args):
            role = "proxy"
        else:
            continue
        kb = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
        roles[role] = roles.get(role, 0) + kb
    return roles


def spawn_once(hub: DemoHub, api: requests.Session) -> float:
    t0 = time.perf_counter()
    r = api.post(hub.hub_url(f"api/users/{USER}/server"), json={}, timeout=30)
    if r.status_code not in (201, 202):
        raise RuntimeError(f"spawn: {r.status_code} {r.text[:300]}")

    def ready() -> bool:
        server = api.get(hub.hub_url(f"api/users/{USER}"), timeout=5).json()["servers"].get("")
        return bool(server and server["ready"])

    wait_until(ready, 90, f"{USER}'s server", interval=0.05)
    elapsed = time.perf_counter() - t0
    hub.stop_server(api, USER)
    return elapsed


def assets() -> dict:
    out = {}
    for f in sorted(p for p in DIST.iterdir() if p.is_file()):
        data = f.read_bytes()
        out[f.name] = {"raw": len(data), "gzip9": len(gzip.compress(data, compresslevel=9))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    res: dict = {"config": {"quick": args.quick, **cfg}, "assets": assets()}
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        starts = [cold_start(Path(tmp) / f"cold{i}") for i in range(cfg["starts"])]
        up = [s for s, _ in starts]
        res["cold_start_s"] = {"median": statistics.median(up), "max": max(up), "runs": up}
        res["stop_s"] = {"median": statistics.median(s for _, s in starts)}
        hub = DemoHub(Path(tmp) / "load")
        try:
            hub.start()
            res["rss_idle_kb"] = rss_by_role(hub.run_id)
            session = hub.login(USER)
            token = hub.token(session, USER)
            api = hub.api(token)
            urls = {
                "service_api_health": hub.service_url("api/health"),
                "hub_api": hub.hub_url("api/"),
            }
            res["latency"] = interleaved(api, urls, cfg["n"], cfg["warmup"])
            res["throughput"] = {
                k: throughput(token, url, cfg["total"], cfg["clients"]) for k, url in urls.items()
            }
            session.get(hub.service_url(), timeout=30).raise_for_status()  # OAuth dance once
            page = [timed_get(session, hub.service_url()) for _ in range(cfg["page_n"])]
            res["service_page"] = ms_stats(page, ps=(50, 99))
            res["rss_after_load_kb"] = rss_by_role(hub.run_id)
            spawns = [spawn_once(hub, api) for _ in range(cfg["spawns"])]
            res["spawn_s"] = {"median": statistics.median(spawns), "runs": spawns}
        finally:
            hub.stop()
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


def report(r: dict) -> None:
    rows = []
    cs = r["cold_start_s"]
    rows.append(("demo cold start (s)", f"median {cs['median']:.2f}, max {cs['max']:.2f}"))
    rows.append(("demo stop on Ctrl-C (s)", f"median {r['stop_s']['median']:.2f}"))
    for key, label in (("service_api_health", "service api/health"), ("hub_api", "hub hub/api/")):
        lat = r["latency"][key]
        figs = ", ".join(f"{k[:-3]} {v:.2f}" for k, v in lat.items() if k.endswith("_ms"))
        rows.append((f"{label} latency (ms, n={lat['n']})", figs))
        tp = r["throughput"][key]
        rows.append(
            (
                f"{label} throughput ({tp['clients']} clients)",
                f"{tp['rps']:.0f} req/s, {tp['requests']} requests, {tp['errors']} errors",
            )
        )
    pg = r["service_page"]
    rows.append(
        (
            f"service page latency (ms, n={pg['n']})",
            f"p50 {pg['p50_ms']:.2f}, p99 {pg['p99_ms']:.2f}",
        )
    )
    for name, a in r["assets"].items():
        rows.append((f"asset {name} (bytes)", f"raw {a['raw']}, gzip-9 {a['gzip9']}"))
    rows.append(("local server spawn (s)", f"median {r['spawn_s']['median']:.2f}"))
    for role in ("service", "hub", "proxy"):
        idle, after = r["rss_idle_kb"].get(role), r["rss_after_load_kb"].get(role)
        rows.append((f"RSS {role} (MiB)", f"idle {_mib(idle)}, after load {_mib(after)}"))
    width = max(len(k) for k, _ in rows)
    print(f"\nhub-extensions foundation benchmarks{' (--quick)' if r['config']['quick'] else ''}")
    print("-" * (width + 40))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _mib(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


if __name__ == "__main__":
    sys.exit(main())
