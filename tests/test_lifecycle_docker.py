"""The demo's clean-up removes every container of its run, whatever state it is in.

The containers are real ones on the real engine, labelled as the demo's DockerSpawner labels
them; some are being removed by the engine itself when the clean-up runs (auto-remove after
they stop, as DockerSpawner's `remove = True` does), which answers 409 "removal already in
progress" to a second removal. Not covered: the hub stopping its servers (test_docker.py).
"""

from __future__ import annotations

import contextlib
import threading
import uuid

import pytest

from hub_extensions.demo.runner import RUN_LABEL, sweep

pytestmark = pytest.mark.docker


def test_sweep_removes_containers_in_every_state_also_while_the_engine_removes_them(
    base_image, tmp_path
):
    import docker

    client = docker.from_env(timeout=60)
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    labels = {RUN_LABEL: run_id, "org.hub-extensions.test": "lifecycle"}

    def container(name: str, **kw):
        return client.containers.create(
            base_image, ["sleep", "600"], entrypoint=[], labels=labels,
            name=f"hubext-{run_id}-{name}", **kw,
        )  # fmt: skip

    try:
        container("created")
        running = container("running")
        running.start()
        paused = container("paused")
        paused.start()
        paused.pause()
        exited = container("exited")
        exited.start()
        exited.kill()
        racing = []
        for i in range(4):
            c = container(f"auto-remove-{i}", auto_remove=True)
            c.start()
            racing.append(c)
        # the engine starts removing these as they die: the sweep runs into its removals
        killers = [threading.Thread(target=c.kill) for c in racing]
        for t in killers:
            t.start()
        left = sweep(run_id, tmp_path, "docker")
        for t in killers:
            t.join()
        assert (
            client.containers.list(
                all=True, filters={"label": f"{RUN_LABEL}={run_id}"}, ignore_removed=True
            )
            == []
        )
        assert {
            f"container hubext-{run_id}-{n}" for n in ("created", "running", "paused", "exited")
        } <= set(left)
    finally:
        for c in client.containers.list(
            all=True, filters={"label": f"{RUN_LABEL}={run_id}"}, ignore_removed=True
        ):
            with contextlib.suppress(docker.errors.APIError):
                c.remove(force=True)
