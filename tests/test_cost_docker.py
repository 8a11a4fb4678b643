"""Cost of a DockerSpawner server whose limits a profile option sets: the container gets the
chosen limits, and the ledger bills exactly those (HubExtensionsCost.basis = "limits") for the time it ran.

A real hub with DockerSpawner (the demo's loopback spawner), capture on with 1 s heartbeats; the
ledger is read from its SQLite file as the service reads it, and `api/cost/me` as the user sees
it. Not covered: KubeSpawner pods (their requests and limits are read from the pod spec:
test_usage_capture.py), GPUs (none here), and sessions across midnight (test_cost_ledger.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from hub_extensions.cost import spend
from hub_extensions.demo.runner import RUN_LABEL
from hub_extensions.usage import Ledger

from .infra.common import wait_until

pytestmark = pytest.mark.docker

CPU_HOUR = 0.9
MEMORY_GIB_HOUR = 0.45
PRICES = [{"effective": "2026-01-01", "cpu_hour": CPU_HOUR, "memory_gib_hour": MEMORY_GIB_HOUR}]
PROFILES = [
    {
        "display_name": "Python",
        "slug": "python",
        "default": True,
        "profile_options": {
            "size": {
                "display_name": "Size",
                "choices": {
                    "small": {
                        "display_name": "Small: 1 CPU, 1 GiB",
                        "default": True,
                        "kubespawner_override": {"cpu_limit": 1.0, "mem_limit": "1G"},
                    },
                    "large": {
                        "display_name": "Large: 2 CPUs, 2 GiB",
                        "kubespawner_override": {"cpu_limit": 2.0, "mem_limit": "2G"},
                    },
                },
            }
        },
    }
]
CONFIG = f"""
c.HubExtensionsUsage.heartbeat_interval = 1
c.Spawner.poll_interval = 1
c.JupyterHub.authenticate_prometheus = False
c.HubExtensionsCost.prices = {json.dumps(PRICES)}
c.HubExtensionsCost.currency = "EUR"
c.HubExtensionsCost.basis = "limits"
c.ProfilesLoopbackDockerSpawner.profile_list = {PROFILES!r}
"""


def test_the_large_choice_gets_its_limits_and_is_billed_for_them(
    docker_engine, base_image, make_hub
):
    client = docker_engine.client
    demo = make_hub(spawner="docker", image=base_image, config=CONFIG)
    ledger = Ledger(f"sqlite:///{demo.state / 'hub-extensions-usage.sqlite'}")
    try:
        api = demo.api(demo.token(demo.login("grace"), "grace"))
        demo.spawn(api, "grace", profile="python", size="large")
        [container] = client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"})
        host = container.attrs["HostConfig"]
        assert host["Memory"] == 2 * 2**30  # the choice's mem_limit "2G"
        assert host["CpuQuota"] == 2 * host["CpuPeriod"]  # the choice's cpu_limit 2.0

        def accrued(seconds: float):
            def enough() -> bool:
                rows = ledger.sessions(user="grace")
                return bool(rows) and rows[0]["active_seconds"] + rows[0]["idle_seconds"] >= seconds

            return enough

        wait_until(accrued(3), 30, "three heartbeats of grace's server")
        demo.stop_server(api, "grace")
        assert client.containers.list(filters={"label": f"{RUN_LABEL}={demo.run_id}"}) == []

        [row] = ledger.sessions(user="grace")
        assert row["ended_at"] is not None
        assert (row["profile_slug"], row["cpu_limit"], row["mem_limit_bytes"]) == (
            "python",
            2.0,
            2 * 2**30,
        )
        seconds = row["active_seconds"] + row["idle_seconds"]
        assert seconds >= 3
        expected = seconds / 3600 * (2 * CPU_HOUR + 2 * MEMORY_GIB_HOUR)
        assert row["cost"] == pytest.approx(expected, rel=1e-9)

        # the day roll-up (what budgets and reports read) and the user's own API agree
        today = datetime.now(timezone.utc).date()
        daily = spend.user_daily_costs(ledger.engine, "grace", today - timedelta(days=1), today)
        assert sum(daily.values()) == pytest.approx(row["cost"], rel=1e-9)
        mine = api.get(demo.service_url("api/cost/me"), timeout=10)
        assert mine.status_code == 200, mine.text
        body = mine.json()
        assert (body["user"], body["currency"]) == ("grace", "EUR")
        assert body["spent"] == pytest.approx(row["cost"], rel=1e-9)
        assert sum(cost for _, cost in body["daily"]) == pytest.approx(row["cost"], rel=1e-9)
    finally:
        ledger.close()
        demo.stop()
