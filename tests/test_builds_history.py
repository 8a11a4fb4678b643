"""Build history in the suite's database: what the builds API shows after a service restart."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from hub_extensions.builds import history
from hub_extensions.builds.broker import BuildBroker
from hub_extensions.usage import Ledger

pytestmark = pytest.mark.unit


@pytest.fixture
def engine(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.start()  # the migrations create the builds table
    yield ledger.engine
    ledger.close()


async def test_finished_builds_are_recorded_with_their_log_and_requesters(engine):
    async def execute(build, emit):
        emit({"phase": "building", "message": "Step 1/1 : RUN true\n"})
        return "built"

    async def missing(image):
        return False

    broker = BuildBroker(execute, missing, on_finish=lambda b: history.record(engine, b))
    build = await broker.request("ada", "img:abc", "https://git.example/r.git", "HEAD", "a" * 40)
    build.requesters.add("zoë")  # someone attached to the same build
    async for _ in build.follow():
        pass
    for _ in range(50):
        if history.one(engine, build.id) is not None:
            break
        time.sleep(0.01)
    row = history.one(engine, build.id)
    assert row.status == "ready"
    assert "Step 1/1 : RUN true" in row.log
    assert [b["id"] for b in history.recent(engine, "ada")] == [build.id]
    assert [b["id"] for b in history.recent(engine, "zoë")] == [build.id]  # non-ASCII name
    assert history.recent(engine, "zo") == []  # no partial matches
    assert history.recent(engine, "%") == []  # LIKE wildcards are escaped
    assert [b["id"] for b in history.recent(engine, None)] == [build.id]
    shown = history.summary(row, with_log=True)
    assert shown["image"] == "img:abc"
    assert "Step 1/1 : RUN true\n" in shown["log"]


def test_a_long_log_keeps_its_end():
    events = [{"message": "x" * 1000 + "\n"} for _ in range(1500)] + [{"message": "THE END\n"}]
    text = history.log_text(events)
    assert len(text) == history.MAX_LOG_CHARS
    assert text.endswith("THE END\n")


def test_a_record_replaces_the_previous_one(engine):
    build = SimpleNamespace(
        id="b1", user="ada", requesters={"ada"}, repo_url="u", ref="r", sha="s", image="i",
        built_image=None, status="failed", cache_hit=False, created=time.time(), started=None,
        finished=None, events=[{"message": "first\n"}],
    )  # fmt: skip
    history.record(engine, build)
    build.events.append({"message": "second\n"})
    history.record(engine, build)
    assert history.one(engine, "b1").log == "first\nsecond\n"


async def test_a_running_build_is_recorded_and_a_restart_marks_it_failed(engine):
    """The finding: a service crash mid-build lost the build's record. Now a build is written
    when it starts; the next service process (here: a later PROCESS_START) marks it failed
    with the reason, and leaves this process's own running builds alone."""
    import asyncio

    gate = asyncio.Event()

    async def execute(build, emit):
        await gate.wait()
        return "built"

    async def missing(image):
        return False

    broker = BuildBroker(execute, missing, on_finish=lambda b: history.record(engine, b))
    build = await broker.request("ada", "img:run", "https://git.example/r.git", "HEAD", "b" * 40)
    for _ in range(100):
        if history.one(engine, build.id) is not None:
            break
        await asyncio.sleep(0.01)
    assert history.one(engine, build.id).status == "building"
    # the service dies here; this process's own start time protects its running build
    assert history.fail_interrupted(engine) == []
    restarted = time.time() + 1
    from datetime import datetime, timezone

    later = datetime.fromtimestamp(restarted, timezone.utc)
    assert history.fail_interrupted(engine, before=later) == [build.id]
    row = history.one(engine, build.id)
    assert row.status == "failed"
    assert row.log.endswith(history.INTERRUPTED)
    assert "restarted" in history.summary(row, with_log=True)["log"][-1]
    assert [b["status"] for b in history.recent(engine, "ada")] == ["failed"]
    gate.set()


async def test_a_queued_build_is_recorded_and_a_restart_marks_it_failed(engine):
    """The finding: a build waiting for a slot lived only in the service's memory, so a crash
    lost it without a trace. Now it is written when it is queued, before its requester hears
    of it; the next service process marks it failed with its own reason, and the list entry
    says so (`message`). A queued build that is cancelled ends `cancelled` in the history."""
    import asyncio
    from datetime import datetime, timezone

    gate = asyncio.Event()

    async def execute(build, emit):
        await gate.wait()
        return "built"

    async def missing(image):
        return False

    broker = BuildBroker(
        execute, missing, max_builds=1, on_finish=lambda b: history.record(engine, b)
    )
    url = "https://git.example/r.git"
    running = await broker.request("ada", "img:one", url, "HEAD", "c" * 40)
    queued = await broker.request("bob", "img:two", url, "HEAD", "d" * 40)
    dropped = await broker.request("bob", "img:three", url, "HEAD", "e" * 40)
    assert (queued.status, queued.position) == ("waiting", 1)
    assert history.one(engine, queued.id).status == "waiting"  # written before request() ended
    assert await broker.cancel(dropped, "bob")
    assert history.one(engine, dropped.id).status == "cancelled"
    for _ in range(100):
        if history.one(engine, running.id) is not None:
            break
        await asyncio.sleep(0.01)
    listed = {b["id"]: b for b in history.recent(engine, "bob")}
    assert listed[queued.id]["message"] == "Waiting for a build slot: 1 in the queue"

    # the service dies here; the next one sweeps both
    later = datetime.fromtimestamp(time.time() + 1, timezone.utc)
    assert sorted(history.fail_interrupted(engine, before=later)) == sorted([running.id, queued.id])
    listed = {b["id"]: b for b in history.recent(engine, "bob")}
    assert listed[queued.id]["status"] == "failed"
    assert listed[queued.id]["message"] == history.INTERRUPTED_WAITING.strip()
    assert listed[dropped.id]["status"] == "cancelled"
    assert history.one(engine, running.id).log.endswith(history.INTERRUPTED)
    gate.set()
