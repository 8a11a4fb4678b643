"""Helpers of bench_profiles_form.py: the peers venv, one real hub per form, the in-page probes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.infra.common import GiveUp, ManagedProcess, free_port  # noqa: E402

PEERS_VENV = HERE / ".peers-venv"
PEERS_REQUIREMENTS = HERE / "requirements-peers.txt"
MARKER = "HUB_EXTENSIONS_BENCH_RUN"  # in the environment of every process a hub here starts
USER = "bench"
SERVICE = "hub-extensions"

# The same list for the three forms: 3 profiles, an image option with 3 choices and a validated
# unlisted choice, a memory option. Plain values only (fancy-profiles puts overrides in the page).
PROFILE_LIST = [
    {
        "display_name": "Small",
        "slug": "small",
        "description": "1 CPU and 2 GB of memory, for notebooks and teaching.",
        "default": True,
        "kubespawner_override": {
            "cpu_limit": 1,
            "mem_limit": "2G",
            "image": "quay.io/jupyter/minimal-notebook:2025-11-24",
        },
    },
    {
        "display_name": "Data science",
        "slug": "data-science",
        "description": "2 CPUs and 8 GB of memory, with a choice of images.",
        "kubespawner_override": {"cpu_limit": 2, "mem_limit": "8G"},
        "profile_options": {
            "image": {
                "display_name": "Image",
                "choices": {
                    "scipy": {
                        "display_name": "SciPy",
                        "description": "Python with the SciPy stack.",
                        "default": True,
                        "kubespawner_override": {
                            "image": "quay.io/jupyter/scipy-notebook:2025-11-24"
                        },
                    },
                    "pytorch": {
                        "display_name": "PyTorch",
                        "description": "PyTorch, CPU build.",
                        "kubespawner_override": {
                            "image": "quay.io/jupyter/pytorch-notebook:2025-11-24"
                        },
                    },
                    "r": {
                        "display_name": "R",
                        "description": "R with the tidyverse.",
                        "kubespawner_override": {"image": "quay.io/jupyter/r-notebook:2025-11-24"},
                    },
                },
                "unlisted_choice": {
                    "enabled": True,
                    "display_name": "Custom image",
                    "display_name_in_choices": "Other image...",
                    "validation_regex": r"^quay\.io/jupyter/[a-z-]+:[A-Za-z0-9._-]+$",
                    "validation_message": "An image from quay.io/jupyter/, with a tag.",
                    "kubespawner_override": {"image": "{value}"},
                },
            }
        },
    },
    {
        "display_name": "Large memory",
        "slug": "large-memory",
        "description": "4 CPUs and up to 64 GB of memory.",
        "kubespawner_override": {
            "cpu_limit": 4,
            "image": "quay.io/jupyter/datascience-notebook:2025-11-24",
        },
        "profile_options": {
            "memory": {
                "display_name": "Memory",
                "choices": {
                    "16": {
                        "display_name": "16 GB",
                        "default": True,
                        "kubespawner_override": {"mem_limit": "16G"},
                    },
                    "32": {"display_name": "32 GB", "kubespawner_override": {"mem_limit": "32G"}},
                    "64": {"display_name": "64 GB", "kubespawner_override": {"mem_limit": "64G"}},
                },
            }
        },
    },
]

KUBECONFIG = (  # a cluster where nothing listens: KubeSpawner loads it, nothing contacts it
    "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
    "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
    "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody, namespace: hub}}]\n"
    "users: [{name: nobody, user: {token: not-a-token}}]\n"
)

#: the references' form: the least a form can be, two bare radios for the probe (the second and
#: third profiles' slugs)
REFERENCE_FORM = "".join(
    f'<label><input type="radio" name="profile" value="{p["slug"]}"{" checked" * (k == 2)}> '
    f"{p['display_name']}</label>"
    for k, p in enumerate(PROFILE_LIST)
    if k
)

FORM_CONFIG = {
    "builtin": 'c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"\n',
    "fancy": (
        'c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"\n'
        "from jupyterhub_fancy_profiles import setup_ui\nsetup_ui(c)\n"
    ),
    "ours": (
        'c.JupyterHub.spawner_class = "profiles-kubernetes"\n'
        "c.HubExtensions.service_url = {service_url!r}\n"
        "c.HubExtensions.service_environment = {{{marker!r}: {run_id!r}}}\n"
        # what issue #14 measures: builds offered on the image option, and prices shown
        "c.KubeSpawner.profile_list[1]['profile_options']['image']['dynamic_image_building'] = "
        "{{'enabled': True}}\n"
        "c.HubExtensionsCost.currency = 'EUR'\n"
        "c.HubExtensionsCost.prices = [{{'effective': '2026-01-01', 'cpu_hour': 0.04, "
        "'memory_gib_hour': 0.005}}]\n"
        "import hub_extensions\nhub_extensions.setup(c)\n"
    ),
    # the references: no profile list, no form script, no prices; a Spawner.options_form of two
    # radios in JupyterHub's own spawn page ...
    "jupyterhub-page": (
        'c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"\n'
        f"c.Spawner.options_form = {REFERENCE_FORM!r}\n".replace("{", "{{").replace("}", "}}")
    ),
    # ... and in the suite's (its spawn.html takes any form marked with the profiles form's id)
    "suite-page": (
        'c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"\n'
        "c.Spawner.options_form = "
        + repr(f'<div id="hub-extensions-profiles">{REFERENCE_FORM}</div>')
        .replace("{", "{{")
        .replace("}", "}}")
        + "\nc.HubExtensions.service_url = {service_url!r}\n"
        "c.HubExtensions.service_environment = {{{marker!r}: {run_id!r}}}\n"
        "import hub_extensions\nhub_extensions.setup(c)\n"
    ),
}


def _run(cmd: list, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, timeout=900, **kw)


def peers_python() -> Path:
    """benchmarks/.peers-venv/bin/python, made on first use and again when the pins change."""
    py = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".installed"
    want = hashlib.sha256(
        PEERS_REQUIREMENTS.read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text() == want:
        return py
    print(f"installing the peers into {PEERS_VENV} (first run only) ...", flush=True)
    if not py.exists():
        _run([sys.executable, "-m", "venv", PEERS_VENV])
    _run(
        [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", PEERS_REQUIREMENTS]
    )
    # ours, from this checkout, with what its pyproject.toml asks for (the pins above already
    # satisfy JupyterHub's); the built JS is served from src/, so no frontend build here
    env = {**os.environ, "HUB_EXTENSIONS_SKIP_FRONTEND_BUILD": "1"}
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", ROOT], env=env)
    stamp.write_text(want)
    return py


def peer_versions(py: Path) -> dict:
    code = (
        "import json, importlib.metadata as m; print(json.dumps({d: m.version(d) for d in "
        "('jupyterhub', 'jupyterhub-kubespawner', 'jupyterhub-fancy-profiles', 'hub-extensions')}))"
    )
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


def marked_pids(run_id: str) -> list[int]:
    marker, pids = f"{MARKER}={run_id}".encode(), []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return [p for p in pids if p != os.getpid()]


class Hub:
    """A real JupyterHub + configurable-http-proxy (+ our service) on 127.0.0.1 for one form."""

    def __init__(self, form: str, py: Path, tmp: Path, run_id: str):
        self.form, self.py, self.dir, self.run_id = form, py, tmp / form, run_id
        self.dir.mkdir(parents=True)
        self.port, api, hub, svc = (free_port() for _ in range(4))
        self.url = f"http://127.0.0.1:{self.port}/"
        chp = shutil.which(
            "configurable-http-proxy", path=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"
        )
        if not chp:
            raise RuntimeError(
                "configurable-http-proxy not found (npm install configurable-http-proxy)"
            )
        (self.dir / "kubeconfig").write_text(KUBECONFIG)
        d = self.dir
        config = (
            f"import json\nc.JupyterHub.ip = '127.0.0.1'\nc.JupyterHub.port = {self.port}\n"
            f"c.JupyterHub.hub_ip = '127.0.0.1'\nc.JupyterHub.hub_port = {hub}\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{api}'\n"
            f"c.ConfigurableHTTPProxy.command = [{chp!r}]\n"
            f"c.ConfigurableHTTPProxy.pid_file = {str(d / 'proxy.pid')!r}\n"
            f"c.JupyterHub.db_url = {'sqlite:///' + str(d / 'hub.sqlite')!r}\n"
            f"c.JupyterHub.cookie_secret_file = {str(d / 'cookie_secret')!r}\n"
            "c.JupyterHub.authenticator_class = 'dummy'\nc.Authenticator.allow_all = True\n"
            "c.KubeSpawner.namespace = 'hub'\n"
            f"c.KubeSpawner.profile_list = json.loads({json.dumps(PROFILE_LIST)!r})\n"
        ) + FORM_CONFIG[form].format(
            service_url=f"http://127.0.0.1:{svc}", marker=MARKER, run_id=run_id
        )
        (d / "jupyterhub_config.py").write_text(config)
        self.proc: ManagedProcess | None = None

    def start(self) -> Hub:
        env = {**os.environ, MARKER: self.run_id, "KUBECONFIG": str(self.dir / "kubeconfig")}
        cmd = [str(self.py), "-m", "jupyterhub", "-f", "jupyterhub_config.py"]
        self.proc = ManagedProcess(f"hub-{self.form}", cmd, self.dir, env=env, cwd=self.dir)
        return self

    def ready(self) -> bool:
        if not self.proc.alive():
            raise GiveUp(f"the {self.form} hub exited:\n{self.proc.log_text()[-3000:]}")
        urls = [self.url + "hub/health"]
        if self.form == "ours":
            urls.append(self.url + f"services/{SERVICE}/static/dist/profiles-form.js")
        try:
            return all(requests.get(u, timeout=2).status_code == 200 for u in urls)
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.proc:  # SIGTERM: the hub stops its proxy and service, then the group goes
            self.proc.stop(signal.SIGTERM, timeout=20)


def sweep(run_id: str) -> None:
    """Stop whatever a hub of this run left behind (proxy and service run in their own sessions)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in marked_pids(run_id):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while marked_pids(run_id) and time.monotonic() < deadline:
            time.sleep(0.1)


# -- server render: GET /hub/spawn, timed by the hub itself ----------------------------------
SPAWN_LOG = re.compile(r"\] 200 GET /hub/spawn \(" + USER + r"@[^)]*\) ([0-9.]+)ms")


def login_session(hub: Hub) -> requests.Session:
    """A requests session logged in as USER (DummyAuthenticator takes any password)."""
    s = requests.Session()
    s.get(hub.url + "hub/login", timeout=30).raise_for_status()
    data = {"username": USER, "password": "bench", "_xsrf": s.cookies.get("_xsrf")}
    r = s.post(hub.url + "hub/login", data=data, timeout=30, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"login at the {hub.form} hub: {r.status_code} {r.text[:300]}")
    return s


def server_render(hubs: dict, forms: tuple, n: int, warmup: int = 5) -> dict:
    """`n` GETs of /hub/spawn per form, interleaved with a rotating order; the hub's own log
    line (`200 GET /hub/spawn (...) 9.12ms`, the time JupyterHub spent on the request) is the
    server figure, the client's wall time (through the proxy) the other."""
    sessions = {f: login_session(hubs[f]) for f in forms}
    seen = {f: len(SPAWN_LOG.findall(hubs[f].proc.log_text())) for f in forms}
    client: dict[str, list[float]] = {f: [] for f in forms}
    for i in range(warmup + n):
        for f in forms[i % len(forms) :] + forms[: i % len(forms)]:
            t0 = time.perf_counter()
            r = sessions[f].get(hubs[f].url + "hub/spawn", timeout=30)
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status_code != 200 or "spawn_form" not in r.text:
                raise RuntimeError(f"{f}: /hub/spawn answered {r.status_code}")
            if i >= warmup:
                client[f].append(elapsed)
    out = {}
    for f in forms:
        server = [float(m) for m in SPAWN_LOG.findall(hubs[f].proc.log_text())[seen[f] :]]
        server = server[warmup:]  # the log's lines come in request order
        out[f] = {"server_ms": server, "client_ms": client[f]}
    return out


# Runs from navigation start (an init script). Each animation frame, until the target profile
# is chosen: click its element, then note performance.now() as soon as FormData shows it (at
# once, after microtasks, or after one task). A selection lost to a later re-render is taken
# again. Done once the page has loaded and the selection held for `settle` frames after that;
# it then says so on the console (PROBE_DONE), which the harness waits for: any script the
# harness ran in the page while it loads (Playwright's wait_for_function injects and compiles
# its ~300 KB utility script in the new document) would take the main thread from the page.
PROBE_DONE = "hx-bench-probe-done"
PROBE_JS = """(() => {
  const cfg = %s;
  const p = (window.__probe = {t: null, clicks: 0, lost: 0, frames: 0, loadFrame: -1, held: -1,
                               done: false});
  addEventListener("load", () => { p.loadFrame = p.frames; });
  const selected = () => {
    const f = document.getElementById("spawn_form");
    return !!f && new FormData(f).get(cfg.field) === cfg.value;
  };
  const note = () => {
    if (p.t === null && selected()) { p.t = performance.now(); p.held = p.frames; }
  };
  const tick = () => {
    p.frames++;
    if (!selected()) {
      if (p.t !== null) { p.t = null; p.lost++; }
      const el = document.querySelector(cfg.click);
      if (el) {
        p.clicks++;
        el.click();
        note();
        queueMicrotask(note);
        const ch = new MessageChannel();
        ch.port1.onmessage = note;
        ch.port2.postMessage(0);
      }
    }
    const since = p.frames - Math.max(p.loadFrame, p.held);
    if ((p.t !== null && p.loadFrame >= 0 && since >= cfg.settle) || p.frames >= cfg.maxFrames) {
      p.done = true;
      console.debug("%s");
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""

NAV_TIMING_JS = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const p = window.__probe;
  const resources = performance.getEntriesByType("resource").map((r) => ({
    url: new URL(r.name).pathname, type: r.initiatorType, start: r.startTime, end: r.responseEnd,
    transfer: r.transferSize, body: r.encodedBodySize, blocking: r.renderBlockingStatus}));
  return {interactive: p.t, clicks: p.clicks, lost: p.lost, frames: p.frames,
          ttfb: n.responseStart, response_end: n.responseEnd, dom_interactive: n.domInteractive,
          dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd,
          fcp: fcp ? fcp.startTime : null, html_transfer: n.transferSize, resources};
}"""

# One interaction per step, alternating between two steps. The time runs from just before the
# first event is dispatched until FormData shows the new value, one more task has run (work the
# change queued, e.g. framework effects) and style and layout were forced (offsetHeight). A frame
# is let through, untimed, between interactions.
INTERACT_JS = """async (cfg) => {
  const form = document.getElementById("spawn_form");
  const tick = () => new Promise((r) => {
    const c = new MessageChannel();
    c.port1.onmessage = () => r();
    c.port2.postMessage(0);
  });
  const get = () => new FormData(form).get(cfg.field);
  const act = async (s) => {
    if (cfg.kind === "click") return form.querySelector(s.click).click();
    if (cfg.kind === "select") {
      const el = form.querySelector(`select[name="${cfg.field}"]`);
      el.value = s.value;
      el.dispatchEvent(new Event("input", {bubbles: true}));
      return el.dispatchEvent(new Event("change", {bubbles: true}));
    }
    // react-select (fancy-profiles): a mousedown on the control opens the menu, a click picks
    const box = form.querySelector(`input[name="${cfg.field}"]`).parentElement;
    const down = new MouseEvent("mousedown", {bubbles: true, cancelable: true, button: 0});
    box.querySelector(".select__control").dispatchEvent(down);
    for (let k = 0; k < 200; k++) {
      const opt = [...box.querySelectorAll(".select__option")].find(
        (o) => o.querySelector(".react-select-item-title")?.textContent === s.label);
      if (opt) return opt.click();
      await tick();
    }
  };
  const times = [];
  let failed = 0;
  for (let i = 0; i < cfg.n; i++) {
    const s = cfg.steps[i % 2];
    const t0 = performance.now();
    await act(s);
    for (let k = 0; k < 200 && get() !== s.value; k++) await tick();
    await tick();
    void document.body.offsetHeight;
    const t = performance.now() - t0;
    if (get() === s.value) times.push(t); else failed++;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
  return {times, failed, event_timing: PerformanceObserver.supportedEntryTypes.includes("event")};
}"""

# The executable inline scripts on the page, split into the form's and the page's own.
INLINE_JS = """() => [...document.querySelectorAll("script:not([src])")]
  .filter((s) => ["", "text/javascript", "module"].includes(s.type))
  .map((s) => ({in_form: !!s.closest("#spawn_form"), text: s.textContent}))"""
