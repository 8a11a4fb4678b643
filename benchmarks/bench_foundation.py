"""Foundation benchmarks of the demo hub, proxy and managed service (see benchmarks/README.md)."""

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
ROLES = {"service": "-m hub_extensions.service", "hub": "-m jupyterhub -f ", "proxy": "http-proxy"}


def ms_stats(samples: list[float], ps=(50, 95, 99)) -> dict:  # nearest rank, in ms
    s = sorted(samples)
    out = {f"p{p}_ms": round(s[max(0, math.ceil(p / 100 * len(s)) - 1)] * 1000, 2) for p in ps}
    return {**out, "max_ms": round(s[-1] * 1000, 2), "n": len(s)}


def timed_get(session: requests.Session, url: str) -> float:
    t0 = time.perf_counter()
    r = session.get(url, timeout=10, allow_redirects=False)
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:300]}")
    return elapsed


def status(url: str) -> int:
    try:
        return requests.get(url, timeout=2, allow_redirects=False).status_code
    except requests.RequestException:
        return 0


def cold_start(tmp: Path) -> tuple[float, float]:
    """Seconds from launching the demo to hub/health 200 + service 403; then seconds to stop."""
    hub = DemoHub(tmp)
    t0 = time.perf_counter()
    try:
        hub.start(wait=False)
        while status(hub.hub_url("health")) != 200 or status(hub.service_url("api/health")) != 403:
            if not hub.proc.alive() or time.perf_counter() - t0 > 60:
                raise RuntimeError(f"demo not ready:\n{hub.log()[-3000:]}")
            time.sleep(0.05)
        started = time.perf_counter() - t0
    finally:
        t1 = time.perf_counter()
        hub.stop()
    return round(started, 3), round(time.perf_counter() - t1, 3)


def interleaved(api: requests.Session, urls: dict[str, str], n: int, warmup: int) -> dict:
    """Alternate the URLs request by request, so drift and noise hit each of them alike."""
    samples: dict[str, list[float]] = {k: [] for k in urls}
    for _ in range(warmup + n):
        for key, url in urls.items():
            samples[key].append(timed_get(api, url))
    return {k: ms_stats(v[warmup:]) for k, v in samples.items()}


def throughput(token: str, url: str, cfg: dict) -> dict:
    total, clients, local = cfg["total"], cfg["clients"], threading.local()

    def one(_: int) -> bool:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"token {token}"
        return local.s.get(url, timeout=10).status_code == 200

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        errors = sum(not ok for ok in pool.map(one, range(total)))
    rps = round(total / (time.perf_counter() - t0), 1)
    return {"rps": rps, "requests": total, "clients": clients, "errors": errors}


def rss_by_role(run_id: str) -> dict[str, int]:
    """VmRSS (kB) of the service, hub and proxy processes carrying the demo run's marker."""
    roles: dict[str, int] = {}
    for pid in marked_pids(run_id):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            kb = next(int(ln.split()[1]) for ln in lines if ln.startswith("VmRSS:"))
        except (OSError, StopIteration):  # gone, or a zombie without memory
            continue
        for role in (role for role, needle in ROLES.items() if needle in cmd):
            roles[role] = roles.get(role, 0) + kb
    return roles


def spawn_once(hub: DemoHub, api: requests.Session) -> float:
    """Seconds from POST /hub/api/users/USER/server to the server reported ready; then stop it."""
    t0 = time.perf_counter()
    api.post(hub.hub_url(f"api/users/{USER}/server"), json={}, timeout=30).raise_for_status()

    def ready() -> bool:
        server = api.get(hub.hub_url(f"api/users/{USER}"), timeout=5).json()["servers"].get("")
        return bool(server and server["ready"])

    wait_until(ready, 90, f"{USER}'s server", interval=0.05)
    elapsed = round(time.perf_counter() - t0, 3)
    hub.stop_server(api, USER)
    return elapsed


def assets() -> dict:
    out = {}
    for f in sorted(p for p in DIST.iterdir() if p.is_file()):
        b = f.read_bytes()
        out[f.name] = {"raw": len(b), "gzip9": len(gzip.compress(b, compresslevel=9))}
    return out


def run(cfg: dict, tmp: Path) -> dict:
    res: dict = {"assets": assets()}
    up, down = zip(*(cold_start(tmp / f"cold{i}") for i in range(cfg["starts"])), strict=True)
    res["cold_start_s"] = {"median": statistics.median(up), "max": max(up), "runs": up}
    res["stop_s"] = {"median": statistics.median(down), "runs": down}
    hub = DemoHub(tmp / "load")
    try:
        hub.start()
        res["rss_idle_kb"] = rss_by_role(hub.run_id)
        token = hub.token(session := hub.login(USER), USER)
        api = hub.api(token)
        urls = {"service_api_health": hub.service_url("api/health"), "hub_api": hub.hub_url("api/")}
        res["latency"] = interleaved(api, urls, cfg["n"], cfg["warmup"])
        res["throughput"] = {k: throughput(token, url, cfg) for k, url in urls.items()}
        session.get(hub.service_url(), timeout=30).raise_for_status()  # the OAuth dance, once
        page = [timed_get(session, hub.service_url()) for _ in range(cfg["page_n"])]
        res["latency"]["service_page"] = ms_stats(page, ps=(50, 99))
        res["rss_after_load_kb"] = rss_by_role(hub.run_id)
        spawns = [spawn_once(hub, api) for _ in range(cfg["spawns"])]
        res["spawn_s"] = {"median": statistics.median(spawns), "runs": spawns}
    finally:
        if sys.exc_info()[0]:
            print(f"demo log, last lines:\n{hub.log()[-3000:]}", file=sys.stderr)
        hub.stop()
    return res


def report(r: dict) -> None:
    cs, sp, lat, tp = r["cold_start_s"], r["spawn_s"], r["latency"], r["throughput"]
    figs = f"median {cs['median']:.2f}, max {cs['max']:.2f}"
    rows = [(f"demo cold start (s, {len(cs['runs'])} runs)", figs)]
    rows.append(("demo stop on Ctrl-C (s)", f"median {r['stop_s']['median']:.2f}"))
    labels = {"service_api_health": "service api/health", "hub_api": "hub hub/api/"}
    for key, label in {**labels, "service_page": "service page (HTML)"}.items():
        figs = ", ".join(f"{k[:-3]} {v:.2f}" for k, v in lat[key].items() if k.endswith("_ms"))
        rows.append((f"{label} latency (ms, n={lat[key]['n']})", figs))
        if t := tp.get(key):
            figs = f"{t['rps']:.0f} req/s ({t['requests']} requests, {t['errors']} errors)"
            rows.append((f"{label} throughput ({t['clients']} clients)", figs))
    extra = lat["service_api_health"]["p50_ms"] - lat["hub_api"]["p50_ms"]
    rows.append(("service minus hub, p50 latency (ms)", f"{extra:+.2f}"))
    for name, a in r["assets"].items():
        rows.append((f"asset {name} (bytes)", f"raw {a['raw']}, gzip-9 {a['gzip9']}"))
    rows.append((f"local server spawn (s, {len(sp['runs'])} runs)", f"median {sp['median']:.2f}"))
    for role in ROLES:
        idle, after = (r[k].get(role, 0) / 1024 for k in ("rss_idle_kb", "rss_after_load_kb"))
        rows.append((f"RSS {role} (MiB)", f"idle {idle:.1f}, after load {after:.1f}"))
    w = max(len(k) for k, _ in rows)
    title = f"\nhub-extensions foundation benchmarks{' (--quick)' if r['config']['quick'] else ''}"
    print("\n".join([title, "-" * (w + 50)] + [f"{k:<{w}}  {v}" for k, v in rows]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:  # demo state and logs
        res = {"config": {"quick": args.quick, **cfg}, **run(cfg, Path(tmp))}
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
