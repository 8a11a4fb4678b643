"""Loading the package's entry points, as JupyterHub does at start, changes nothing (nor does
importing `hub_extensions.setup` after them, as a jupyterhub_config.py that uses the suite does).

JupyterHub loads every `jupyterhub.spawners` and `jupyterhub.authenticators` entry point
before `jupyterhub_config.py` runs (for its list of configurable classes). A fresh interpreter
loads each one declared in the installed distribution's metadata and reports what that did:
modules of the Kubernetes and Docker clients imported (kubernetes_asyncio reads `$KUBECONFIG`
once, at import), SQLAlchemy engines, threads, `os.environ`, and files opened for writing,
sockets, sqlite connections and processes (seen by an audit hook). The backends come in at the
first spawner made, as the real subclasses they always were: that part is checked here too.
Not covered: C extensions writing without Python's audit events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import distribution

import pytest

pytestmark = pytest.mark.unit

GROUPS = ("jupyterhub.spawners", "jupyterhub.authenticators")

PROBE = r"""
import gc, json, os, sys, threading
from importlib.metadata import distribution

import jupyterhub.app  # loaded (with its own import-time work) before JupyterHub loads ours

events = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def audit(event, args):
    if event == "open":
        path, mode, flags = (list(args) + [None, None])[:3]
        writing = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & WRITE_FLAGS)
        if writing:
            events.append(f"open for writing: {path}")
    elif event == "socket.bind" and tuple(args[1])[:2] == ("::1", 0):
        pass  # urllib3's import-time IPv6 check (requests, via oauthenticator): closed at once
    elif event in ("socket.connect", "socket.bind", "sqlite3.connect", "subprocess.Popen",
                   "os.system", "os.mkdir", "os.rename", "os.remove", "os.putenv"):
        events.append(f"{event}: {args!r}"[:300])

sys.addaudithook(audit)

GROUPS = ("jupyterhub.spawners", "jupyterhub.authenticators")
BACKENDS = ("kubernetes_asyncio", "kubernetes", "kubespawner", "docker", "dockerspawner")

def engines():
    if "sqlalchemy.engine" not in sys.modules:
        return 0
    from sqlalchemy.engine import Engine
    return sum(1 for o in gc.get_objects() if isinstance(o, Engine))

env = dict(os.environ)
threads = {t.ident for t in threading.enumerate()}
eps = [ep for ep in distribution("hub-extensions").entry_points if ep.group in GROUPS]
report = {"entry_points": [], "backends": [], "engines": 0, "threads": [], "env": [], "events": []}
def setup():  # what a jupyterhub_config.py that uses the suite imports, after the entry points
    import hub_extensions
    return hub_extensions.setup

class Setup:
    group, name, load = "config", "hub_extensions.setup", staticmethod(setup)

for ep in [*eps, Setup]:
    cls = ep.load()
    report["entry_points"].append([ep.group, ep.name, f"{cls.__module__}.{cls.__qualname__}"])
    report["backends"] += [f"{ep.name}: {m}" for m in BACKENDS if m in sys.modules
                           and f"{ep.name}: {m}" not in report["backends"]]
    report["engines"] += engines()
    report["threads"] += [f"{ep.name}: {t.name}" for t in threading.enumerate()
                          if t.ident not in threads]
    report["env"] += [f"{ep.name}: {k}" for k in sorted(set(env) | set(os.environ))
                      if env.get(k) != os.environ.get(k)]
    report["events"] += [f"{ep.name}: {e}" for e in events]
    events.clear()
print(json.dumps(report))
"""


def _probe(tmp_path) -> dict:
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",  # the interpreter's own .pyc writes are not ours
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
    }
    env.pop("KUBECONFIG", None)
    env.pop("DOCKER_HOST", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loading_every_entry_point_has_no_side_effects(tmp_path):
    declared = [
        (ep.group, ep.name)
        for ep in distribution("hub-extensions").entry_points
        if ep.group in GROUPS
    ]
    report = _probe(tmp_path)
    loaded = [(group, name) for group, name, _ in report["entry_points"]]
    assert loaded.pop() == ("config", "hub_extensions.setup")
    assert sorted(loaded) == sorted(declared)
    assert ("jupyterhub.spawners", "profiles-kubernetes") in loaded
    assert ("jupyterhub.authenticators", "cilogon-presets") in loaded
    assert report["backends"] == [], "Kubernetes/Docker client modules imported at load"
    assert report["engines"] == 0, "a SQLAlchemy engine was made at load"
    assert report["threads"] == []
    assert report["env"] == [], "os.environ changed"
    assert report["events"] == [], "files written, sockets, databases or processes at load"
    assert list(tmp_path.iterdir()) == [], "files left in the working, home or temp directory"


async def test_spawners_become_their_backend_at_first_use(kubeconfig):
    """The stand-ins JupyterHub loads turn into real KubeSpawner/DockerSpawner subclasses."""
    from dockerspawner import DockerSpawner
    from jupyterhub.spawner import Spawner
    from kubespawner import KubeSpawner
    from traitlets.config import Config

    from hub_extensions.hub_classes import configured_class
    from hub_extensions.profiles.spawner_mixin import ProfilesMixin
    from hub_extensions.spawners.loopback_docker import LoopbackDockerSpawner
    from hub_extensions.spawners.profiles_docker import (
        ProfilesDockerSpawner,
        ProfilesLoopbackDockerSpawner,
    )
    from hub_extensions.spawners.profiles_kubernetes import ProfilesKubeSpawner

    kube = ProfilesKubeSpawner(_mock=True)
    assert isinstance(kube, KubeSpawner)
    assert isinstance(kube, ProfilesKubeSpawner)
    assert isinstance(kube, ProfilesMixin)
    assert type(kube).__name__ == "ProfilesKubeSpawner"
    assert type(kube).poll is KubeSpawner.poll  # the backend's own methods, no wrapper
    assert type(kube) is type(ProfilesKubeSpawner(_mock=True))  # the class is made once

    loopback = ProfilesLoopbackDockerSpawner()
    assert isinstance(loopback, DockerSpawner)
    assert isinstance(loopback, LoopbackDockerSpawner)
    assert loopback.network_name == "host"  # the stand-in's @default beats DockerSpawner's
    assert type(loopback).start is LoopbackDockerSpawner.start
    assert type(loopback).stop is DockerSpawner.stop
    assert ProfilesDockerSpawner().check_allowed.__qualname__ == "_ImageFromProfile.check_allowed"

    # a subclass in a config file is a stand-in too, its own methods first
    class Mine(ProfilesKubeSpawner):
        async def poll(self):
            return await super().poll()

    mine = Mine(_mock=True)
    assert isinstance(mine, KubeSpawner)
    assert type(mine).poll is Mine.poll
    assert issubclass(Mine, Spawner)

    # the start check sees the backend's options (e.g. KubeSpawner.image)
    config = Config({"JupyterHub": {"spawner_class": "profiles-kubernetes"}})
    real = configured_class(config, "spawner_class", "jupyterhub.spawners")
    assert real is type(kube)
    assert "image" in real.class_trait_names(config=True)

    cfg = Config({"ProfilesKubeSpawner": {"cpu_limit": 2.0}, "KubeSpawner": {"image": "x:1"}})
    configured = ProfilesKubeSpawner(_mock=True, config=cfg)
    assert (configured.cpu_limit, configured.image) == (2.0, "x:1")


def test_a_missing_backend_stops_the_hub_at_start_with_the_extra_to_install():
    """JupyterHub loads the configured class at start: a stand-in without its backend fails
    there, as the backend's own ImportError did, with what to install."""
    from jupyterhub.spawner import Spawner

    from hub_extensions.lazy_backend import LazyBackend

    with pytest.raises(ModuleNotFoundError, match=r"pip install 'hub-extensions\[nowhere\]'"):

        class Orphan(LazyBackend, Spawner):
            _hx_backend = "no_such_spawner_package.spawner:NoSuchSpawner"
            _hx_extra = "nowhere"
