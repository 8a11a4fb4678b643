"""The suite on the oldest JupyterHub it supports (pyproject's floor), as a real hub.

The rest of the hub tier runs .venv's JupyterHub, the newest release. Here the demo runs in an
environment where JupyterHub is the floor's release and everything else is .venv's
(tests/infra/jupyterhub_overlay.py): JupyterHub, its single-user server and the suite's service
all run on it, behind .venv's configurable-http-proxy, with the profiles local-process spawner
and sqlite. Not covered on the oldest release: DockerSpawner, KubeSpawner and PostgreSQL (their
tiers run on the newest), and the older releases of JupyterHub's own dependencies (.venv's
newer ones are used: JupyterHub 5.3 pins none that .venv does not satisfy).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests

from hub_extensions.requirements_check import MIN_JUPYTERHUB

from .conftest import need
from .infra.common import wait_until
from .infra.hub import NO_TRACEBACK, DemoHub
from .infra.jupyterhub_overlay import jupyterhub_overlay

pytestmark = pytest.mark.hub

#: The floor's first release: pyproject.toml's `jupyterhub>=5.3` (test_z2jh_versions checks that
#: MIN_JUPYTERHUB repeats it).
OLDEST = ".".join(map(str, MIN_JUPYTERHUB)) + ".0"
#: A warning of hub_extensions.jupyterhub_internals.check_internals()
MISSING_INTERNAL = re.compile(r"JupyterHub \S+ has no ")
CHECK_INTERNALS = (
    "import json; from hub_extensions.jupyterhub_internals import check_internals; "
    "print(json.dumps(check_internals()))"
)


@pytest.fixture(scope="module")
def oldest(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oldest-jupyterhub")
    python = need(lambda: jupyterhub_overlay(tmp / "venv", OLDEST))
    # the check of the installed JupyterHub's classes runs beside the hub's start
    check = subprocess.Popen(
        [str(python), "-c", CHECK_INTERNALS], stdout=subprocess.PIPE, text=True
    )
    demo = DemoHub(tmp, spawner="local", python=str(python)).start()
    demo.internals_warnings = json.loads(check.communicate(timeout=60)[0])
    yield demo
    demo.stop()


def ledger_sessions(demo: DemoHub, user: str) -> list[dict]:
    from hub_extensions.usage import Ledger  # SQLAlchemy: imported when used, not at collection

    ledger = Ledger(f"sqlite:///{demo.state / 'hub-extensions-usage.sqlite'}")
    try:
        return ledger.sessions(user=user)
    finally:
        ledger.close()


def test_a_user_starts_and_stops_a_server_from_the_profiles_form_on_the_oldest_jupyterhub(oldest):
    assert requests.get(oldest.hub_url("api/"), timeout=10).json()["version"] == OLDEST
    assert oldest.internals_warnings == []
    session = oldest.login("ann")
    form = session.get(oldest.hub_url("spawn"), timeout=30)
    assert form.status_code == 200
    assert 'name="profile" value="teaching"' in form.text
    r = session.post(
        oldest.hub_url("spawn"),
        data={"profile": "teaching", "_xsrf": DemoHub.xsrf_headers(session)["X-XSRFToken"]},
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text[:2000]
    api = oldest.api(oldest.token(session, "ann"))
    oldest.spawn_wait(api, "ann")
    # the server answers through the proxy, as the user's browser reaches it
    server = api.get(f"{oldest.url}user/ann/api/status", timeout=10)
    assert server.status_code == 200, server.text[:500]
    oldest.stop_server(api, "ann")

    def closed() -> bool:
        rows = ledger_sessions(oldest, "ann")
        return bool(rows) and rows[0]["ended_at"] is not None

    wait_until(closed, 30, "ann's session closed in the ledger", interval=0.3)
    (row,) = ledger_sessions(oldest, "ann")
    assert row["end_reason"] == "user_stop"
    assert row["end_inferred"] is False
    assert row["profile_slug"] == "teaching"
    assert row["ready_at"] is not None
    assert row["spawner_class"] == "ProfilesSimpleLocalProcessSpawner"
    log = oldest.log()
    assert "Running JupyterHub version " + OLDEST in log
    assert not MISSING_INTERNAL.search(log), log[-4000:]
    assert not NO_TRACEBACK.search(log), log[-4000:]
