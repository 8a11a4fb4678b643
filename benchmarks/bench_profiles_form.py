"""Profiles form: size and speed against KubeSpawner's built-in form and fancy-profiles.

Five real hubs (JupyterHub + configurable-http-proxy on 127.0.0.1, all from one peers venv,
benchmarks/.peers-venv/), the same profile_list, logged in, measured at /hub/spawn with
headless Chromium. See benchmarks/README.md. Prints figures; asserts nothing.
"""

import argparse
import gzip
import http.server
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profiles_form_report as figures
import profiles_form_support as support  # also puts the repository root on sys.path

from tests.infra.browser import launch_chromium
from tests.infra.common import wait_until

FORMS = ("builtin", "fancy", "ours")
#: two bare radios (profiles_form_support.REFERENCE_FORM) in JupyterHub's own spawn page, and in
#: the suite's: what a form on either page starts from. Each is loaded in turn with fancy-profiles'
REFERENCE_RATIOS = ("over_fancy", "over_ours", "ours_over_fancy")  # per triple: see reference()
REFERENCES = {
    "jupyterhub-page": "JupyterHub's own spawn page (its template, stylesheet and scripts)",
    "suite-page": "the suite's spawn page (the same template; page_style.py's links, JupyterHub's"
    " bundles after the first frame)",
}
TITLES = {"builtin": "KubeSpawner 7.1.0", "fancy": "fancy-profiles 0.7.0", "ours": "hub-extensions"}
RADIO = 'input[name="profile"][value="{}"]'  # fancy-profiles names its radios select-profile
PROFILE_CONTROL = {"builtin": RADIO, "fancy": RADIO.replace('"profile"', '"select-profile"')}
PROFILE_CONTROL["ours"] = RADIO
PROFILE_CONTROL.update(dict.fromkeys(REFERENCES, RADIO))
OPTION_KIND = {"builtin": "select", "fancy": "react-select", "ours": "select"}
TARGET, OTHER = "data-science", "large-memory"  # neither is the default profile
OPTION_FIELD = "profile-option-data-science--image"
CHOICES = [{"value": "pytorch", "label": "PyTorch"}, {"value": "scipy", "label": "SciPy"}]
COMMON_PREFIX = "/hub/static/"  # JupyterHub's own page scripts, the same on the three pages
OUR_JS = support.ROOT / "src" / "hub_extensions" / "static" / "dist" / "profiles-form.js"
TIMEOUT_MS = 40_000
#: the order of loads, repeated: a de Bruijn sequence, in which every form comes right after
#: every form (itself included) exactly once, so whatever a load leaves behind (fancy-profiles'
#: 2.8 MB page most of all) falls on the three forms alike; each form comes 3 times in it
SEQUENCE = ("builtin", "builtin", "fancy", "builtin", "ours", "fancy", "fancy", "ours", "ours")
pct, med = figures.pct, figures.med
FLOOR_KEYS = ("interactive", "dom_interactive", "ttfb")
RENDER_BATCHES = 10


#: the floor: a page with nothing but the two radios the probe clicks (no stylesheet, no script,
#: no hub): how soon any page is interactive in this browser on this machine
FLOOR_HTML = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>floor</title></head>
<body><form id="spawn_form">
<label><input type="radio" name="profile" value="{OTHER}" checked> Other</label>
<label><input type="radio" name="profile" value="{TARGET}"> Target</label>
</form></body></html>""".encode()


class _FloorPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")  # as JupyterHub's pages
        self.send_header("Content-Length", str(len(FLOOR_HTML)))
        self.end_headers()
        self.wfile.write(FLOOR_HTML)

    def log_message(self, *args) -> None:
        pass


def probe_script(control: str) -> str:
    """The probe (profiles_form_support.PROBE_JS) that clicks `control` for the target profile."""
    probe = {"click": control.format(TARGET), "field": "profile", "value": TARGET}
    config = json.dumps({**probe, "settle": 15, "maxFrames": 1500})
    return support.PROBE_JS % (config, support.PROBE_DONE)


def load_probed(page, url: str) -> None:
    """Load `url` and wait, running nothing in the page, for the probe to say it is done (on the
    console: wait_for_function's injected script would compile in the page as it loads, 12-18 ms
    of its main thread here)."""
    done = lambda m: m.text == support.PROBE_DONE  # noqa: E731
    with page.expect_console_message(done, timeout=TIMEOUT_MS):
        page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


class Session:
    """One Chromium; a fresh context (cold cache) per page, logged in with copied cookies."""

    def __init__(self, browser, hubs: dict, network: dict | None = None):
        self.browser, self.hubs, self.state, self.network = browser, hubs, {}, network
        self.errors: dict[str, list[str]] = {f: [] for f in hubs}
        for form, hub in hubs.items():
            ctx = browser.new_context()
            page = ctx.new_page()
            page.goto(hub.url + "hub/login", timeout=TIMEOUT_MS)
            page.fill("#username_input", support.USER)
            page.fill("#password_input", "bench")  # DummyAuthenticator takes any password
            page.click("#login_submit")
            page.wait_for_url("**/hub/**", timeout=TIMEOUT_MS)
            page.goto(hub.url + "hub/spawn", timeout=TIMEOUT_MS)
            page.wait_for_selector("#spawn_form", state="attached", timeout=TIMEOUT_MS)
            self.state[form] = ctx.storage_state()
            ctx.close()

    def open(self, form: str, responses: list | None = None):
        """A new context (cold HTTP cache) at /hub/spawn with the probe, returned once the
        probe is done."""
        ctx = self.browser.new_context(
            storage_state=self.state[form], viewport={"width": 1280, "height": 800}
        )
        ctx.add_init_script(probe_script(PROFILE_CONTROL[form]))
        page = ctx.new_page()
        if self.network:  # a user's network, not loopback: each request waits a round trip
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            rate = self.network["mbps"] * 1e6 / 8  # bytes per second
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": self.network["rtt_ms"],
                    "downloadThroughput": rate,
                    "uploadThroughput": rate,
                },
            )
        errors = self.errors[form]
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        if responses is not None:
            page.on("response", lambda r: responses.append(r))
        try:
            self.visit(form, page)
        except BaseException:
            ctx.close()
            raise
        return ctx, page

    def visit(self, form: str, page) -> None:
        """Load the spawn page; back once the probe is done (load_probed)."""
        load_probed(page, self.hubs[form].url + "hub/spawn")

    def floor(self, n: int) -> dict:
        """Cold and warm loads of FLOOR_HTML from a static server on 127.0.0.1, with the probe."""
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FloorPage)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/floor"
        out: dict = {"cold": [], "warm": []}
        try:
            for _ in range(n):
                ctx = self.browser.new_context(viewport={"width": 1280, "height": 800})
                ctx.add_init_script(probe_script(RADIO))
                page = ctx.new_page()
                try:
                    for kind in ("cold", "warm"):
                        load_probed(page, url)
                        out[kind].append(page.evaluate(support.NAV_TIMING_JS))
                finally:
                    ctx.close()
        finally:
            server.shutdown()
            server.server_close()
        return out

    def reference(self, name: str, n: int) -> dict:
        """`n` triples, each a reference page's cold and warm loads, then ours, then
        fancy-profiles': per kind (cold, warm), the times of the three, and per triple the
        reference's ratio to fancy-profiles and to ours, and ours to fancy-profiles."""
        out: dict = {kind: {"times": [], "ratios": []} for kind in ("cold", "warm")}
        for _ in range(n):
            loads = [self.navigation(form) for form in (name, "ours", "fancy")]
            for k, kind in enumerate(("cold", "warm")):
                ref, ours, fancy = (load[k]["interactive"] for load in loads)
                out[kind]["times"].append((ref, ours, fancy))
                out[kind]["ratios"].append((ref / fancy, ref / ours, ours / fancy))
        return out

    def navigation(self, form: str) -> tuple[dict, dict]:
        """A cold load in a new context, then a warm one: the same address again in the same
        context (what its HTTP cache holds is reused, as on a person's second visit)."""
        ctx, page = self.open(form)
        try:
            cold = page.evaluate(support.NAV_TIMING_JS)
            self.visit(form, page)
            return cold, page.evaluate(support.NAV_TIMING_JS)
        finally:
            ctx.close()

    def inventory(self, form: str) -> dict:
        """What the spawn page loads (browser response events): the form's scripts, the rest."""
        responses: list = []
        ctx, page = self.open(form, responses)
        try:
            inline = page.evaluate(support.INLINE_JS)
            rows, html, loaded = [], None, []
            for r in responses:
                body, sizes, kind = r.body(), r.request.sizes(), r.request.resource_type
                path = urlsplit(r.url).path
                row = {"url": path, "status": r.status, "raw": len(body), "gzip9": gz(body)}
                row["transfer"] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                row["encoding"] = r.headers.get("content-encoding", "identity")
                loaded.append({"type": kind, "url": path, "transfer": row["transfer"]})
                if kind == "document":
                    html = row
                elif r.request.resource_type == "script":
                    rows.append({**row, "form": not path.startswith(COMMON_PREFIX)})
            for i, s in enumerate(inline, 1):
                body, where = s["text"].encode(), "form" if s["in_form"] else "page"
                url = f"(inline script {i}, in the {where})"
                rows.append({"url": url, "raw": len(body), "gzip9": gz(body), "transfer": 0})
                rows[-1]["form"] = s["in_form"]
        finally:
            ctx.close()
        mine = [r for r in rows if r["form"]]
        entry = {k: sum(r[k] for r in mine) for k in ("raw", "gzip9", "transfer")}
        common = [r for r in rows if not r["form"]]
        return {
            "entry": entry,
            "html": html,
            "form_scripts": mine,
            "common_scripts": common,
            "loaded": loaded,
        }

    def interactions(self, form: str, n: int) -> dict:
        ctx, page = self.open(form)
        steps = [{"value": v, "click": PROFILE_CONTROL[form].format(v)} for v in (OTHER, TARGET)]
        clicks = {"kind": "click", "field": "profile", "steps": steps}
        option = {"kind": OPTION_KIND[form], "field": OPTION_FIELD, "steps": CHOICES, "n": n}
        try:
            profile = page.evaluate(support.INTERACT_JS, {**clicks, "n": n})
            # back to the profile with the image option (untimed), then change that option
            page.evaluate(support.INTERACT_JS, {**clicks, "n": 1, "steps": steps[1:] * 2})
            choice = page.evaluate(support.INTERACT_JS, option)
        finally:
            ctx.close()
        out = {}
        for name, r in (("profile_click", profile), ("option_change", choice)):
            t = r["times"]
            out[name] = {
                "median_ms": med(t, 2),
                "p90_ms": pct(t, 90),
                "max_ms": round(max(t), 2) if t else None,
            }
            out[name].update(n=len(t), failed=r["failed"], event_timing=r["event_timing"])
        return out


def measure(args, hubs: dict) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"rounds": args.rounds, "loads": args.loads, "clicks": args.clicks}
    if args.rtt_ms:
        out["network"] = {"rtt_ms": args.rtt_ms, "mbps": args.mbps}
    nav: dict = {f: {"cold": [], "warm": []} for f in FORMS}
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            out["chromium"] = chromium.version
            session = Session(chromium, hubs, out.get("network"))
            out["pages"] = {f: session.inventory(f) for f in FORMS}  # also the first warm-up
            for f in FORMS:
                session.navigation(f)  # second warm-up, not counted
            order = itertools.cycle(SEQUENCE)
            before = None
            for k in range(args.rounds):  # a round: `loads` cold (+ warm) loads of each form
                for f in itertools.islice(order, 3 * args.loads):
                    cold, warm = session.navigation(f)
                    # `after`: the form loaded just before (its after-effects, if any)
                    nav[f]["cold"].append({**cold, "round": k, "after": before})
                    nav[f]["warm"].append({**warm, "round": k, "after": f})
                    before = f
            out["interactions"] = {f: session.interactions(f, args.clicks) for f in FORMS}
            floor = session.floor(max(args.rounds * 2, 6))
            out["floor"] = {
                kind: {key: med([r[key] for r in runs], 1) for key in FLOOR_KEYS}
                for kind, runs in floor.items()
            }
            out["references"] = {}
            for name in REFERENCES:
                ref = session.reference(name, max(args.rounds * 2, 6))
                out["references"][name] = {
                    kind: {
                        **{
                            f"{form}_median_ms": med([t[j] for t in ref[kind]["times"]])
                            for j, form in enumerate(("reference", "ours", "fancy"))
                        },
                        **{
                            ratio: figures.spread([r[j] for r in ref[kind]["ratios"]])
                            for j, ratio in enumerate(REFERENCE_RATIOS)
                        },
                    }
                    for kind in ("cold", "warm")
                }
            out["page_errors"] = {f: sorted(set(e))[:5] for f, e in session.errors.items()}
        finally:
            chromium.close()
    out["navigation"] = nav
    out["nav"] = figures.summarise(nav, FORMS)
    return out


def ensure_our_js() -> None:
    if not OUR_JS.exists():
        print(f"{OUR_JS.name} is missing: `npm run build` in frontend/ ...", flush=True)
        frontend = support.ROOT / "frontend"
        subprocess.run(["npm", "run", "build"], cwd=frontend, check=True, timeout=600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10, help="rounds (a ratio of medians each)")
    ap.add_argument(
        "--loads", type=int, default=6, help="cold (+ warm) loads per form and round (3, 6, 9...)"
    )
    ap.add_argument("--clicks", type=int, default=50, help="timed clicks per kind and form")
    ap.add_argument(
        "--renders",
        type=int,
        default=300,
        help=f"timed GET /hub/spawn per form, in {RENDER_BATCHES} batches (a ratio each)",
    )
    ap.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    ap.add_argument(
        "--rtt-ms",
        type=float,
        default=0,
        help="emulate a network in Chromium: this round-trip time on every request (0: loopback)",
    )
    ap.add_argument(
        "--mbps", type=float, default=20, help="with --rtt-ms: the bandwidth, Mbit/s each way"
    )
    args = ap.parse_args()
    if args.loads % 3:
        ap.error("--loads must be a multiple of 3 (the order of loads repeats every 9)")
    run_id, hubs = uuid.uuid4().hex, {}
    tmp = tempfile.TemporaryDirectory(prefix="bench-profiles-form-")
    try:
        py = support.peers_python()
        ensure_our_js()
        for f in (*FORMS, *REFERENCES):
            hubs[f] = support.Hub(f, py, Path(tmp.name), run_id).start()
        for hub in hubs.values():
            wait_until(hub.ready, 90, f"the {hub.form} hub at {hub.url}", interval=0.2)
        load_before = os.getloadavg()[0]
        render = support.server_render(hubs, FORMS, args.renders)
        res = measure(args, hubs)
        res["server_render"] = {
            f: {
                "server_median_ms": med(r["server_ms"], 2),
                "server_p90_ms": pct(r["server_ms"], 90),
                "client_median_ms": med(r["client_ms"], 2),
                "n": len(r["server_ms"]),
            }
            for f, r in render.items()
        }
        res["server_render"]["ratio"] = figures.per_batch(
            render["ours"]["server_ms"], render["builtin"]["server_ms"], RENDER_BATCHES
        )
        res["versions"] = support.peer_versions(py)
        res["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        res["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
        figures.report(res, FORMS, TITLES)
        figures.report_floor(res)
        figures.report_references(res, REFERENCES)
        figures.report_render(res["server_render"], FORMS, TITLES)
        if args.json:
            args.json.write_text(json.dumps(res, indent=2))
            print(f"\nwrote {args.json}")
    except BaseException:
        for hub in hubs.values():
            if hub.proc:
                log = hub.proc.log_text()[-2500:]
                print(f"--- {hub.form} hub log (tail) ---\n{log}", file=sys.stderr)
        raise
    finally:
        for hub in hubs.values():
            hub.stop()
        support.sweep(run_id)
        tmp.cleanup()


if __name__ == "__main__":
    main()
