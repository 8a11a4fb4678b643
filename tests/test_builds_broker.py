"""The broker's rules: one build per image, full logs for everyone, limits, queue, cancel.

The executor here is an in-process double driven by the test, so each rule is checked
deterministically; the real repo2docker executor is exercised in test_builds_executor.py.
"""

from __future__ import annotations

import asyncio

import pytest

from hub_extensions.builds.broker import BuildBroker

pytestmark = pytest.mark.unit


class Executor:
    """Builds finish when the test says so; records what it was asked to build."""

    def __init__(self):
        self.started: list[str] = []
        self.release: dict[str, asyncio.Future] = {}

    async def __call__(self, build, emit):
        self.started.append(build.image)
        emit({"phase": "building", "message": f"Step 1 for {build.image}\n"})
        outcome = self.release.setdefault(build.image, asyncio.get_running_loop().create_future())
        result = await outcome
        if result == "boom":
            raise RuntimeError("executor crashed")
        emit({"phase": "building", "message": "Step 2\n"})
        return result

    def finish(self, image, status="built"):
        self.release.setdefault(image, asyncio.get_running_loop().create_future()).set_result(
            status
        )


def broker(executor, existing=(), **limits):
    async def image_exists(image):
        return image in existing

    return BuildBroker(executor, image_exists, **limits)


async def collect(build):
    return [event async for event in build.follow()]


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_cache_hit_is_ready_at_once_without_a_build():
    ex = Executor()
    b = broker(ex, existing={"img:1"})
    build = await b.request("ann", "img:1", "git://r", "HEAD", "1" * 40)
    events = await asyncio.wait_for(collect(build), 1)
    assert events == [
        {"phase": "ready", "message": "Done! Found built image\n", "imageName": "img:1"}
    ]
    assert build.cache_hit
    assert ex.started == []


async def test_two_requests_for_one_image_share_one_build_and_the_whole_log():
    ex = Executor()
    b = broker(ex)
    first = await b.request("ann", "img:2", "git://r", "main", "2" * 40)
    await settle()
    second = await b.request("bob", "img:2", "git://r", "main", "2" * 40)
    assert second is first
    ex.finish("img:2")
    ann, bob = await asyncio.wait_for(asyncio.gather(collect(first), collect(second)), 2)
    assert ann == bob  # the late subscriber replays everything
    assert [e["phase"] for e in ann] == ["waiting", "building", "building", "ready"]
    assert ann[0]["message"] == "Waiting for build to start...\n"  # BinderHub's texts
    assert ann[-1]["message"] == "Done! Image built\n"
    assert ex.started == ["img:2"]
    assert first.requesters == {"ann", "bob"}


async def test_builds_beyond_the_limits_wait_with_their_position():
    ex = Executor()
    b = broker(ex, max_builds=1, max_builds_per_user=1)
    one = await b.request("ann", "img:a", "git://a", "HEAD", "a" * 40)
    two = await b.request("bob", "img:b", "git://b", "HEAD", "b" * 40)
    three = await b.request("cat", "img:c", "git://c", "HEAD", "c" * 40)
    await settle()
    assert ex.started == ["img:a"]
    assert two.events[-1]["position"] == 1
    assert three.events[-1]["position"] == 2
    assert "1 in the queue" in two.events[-1]["message"]
    ex.finish("img:a")
    await asyncio.wait_for(collect(one), 1)
    await settle()
    assert ex.started == ["img:a", "img:b"]
    assert three.events[-1]["position"] == 1  # moved up
    ex.finish("img:b")
    ex.finish("img:c")
    await asyncio.wait_for(asyncio.gather(collect(two), collect(three)), 2)


async def test_one_user_cannot_take_every_slot():
    ex = Executor()
    b = broker(ex, max_builds=2, max_builds_per_user=1)
    await b.request("ann", "img:1", "git://1", "HEAD", "1" * 40)
    ann2 = await b.request("ann", "img:2", "git://2", "HEAD", "2" * 40)
    await b.request("bob", "img:3", "git://3", "HEAD", "3" * 40)
    await settle()
    assert ex.started == ["img:1", "img:3"]  # bob overtakes ann's second build
    assert ann2.status == "waiting"
    for image in ("img:1", "img:2", "img:3"):
        ex.finish(image)


async def test_cancel_ends_the_stream_as_failed_and_frees_the_slot():
    ex = Executor()
    b = broker(ex, max_builds=1)
    running = await b.request("ann", "img:r", "git://r", "HEAD", "r" * 40)
    queued = await b.request("bob", "img:q", "git://q", "HEAD", "q" * 40)
    await settle()
    assert not await b.cancel(running, "bob")  # not bob's build
    assert await b.cancel(queued, "bob")
    assert await b.cancel(running, "ann")
    events = await asyncio.wait_for(collect(running), 1)
    assert events[-1] == {"phase": "failed", "message": "Build cancelled\n", "cancelled": True}
    assert (await collect(queued))[-1]["cancelled"] is True
    assert running.status == queued.status == "cancelled"
    assert b.active == {}
    assert not await b.cancel(running, "ann")  # already over


async def test_a_failed_or_crashed_build_closes_its_stream():
    ex = Executor()
    b = broker(ex, max_builds=2, max_builds_per_user=2)
    failed = await b.request("ann", "img:f", "git://f", "HEAD", "f" * 40)
    crashed = await b.request("ann", "img:x", "git://x", "HEAD", "x" * 40)
    ex.finish("img:f", "failed")
    ex.finish("img:x", "boom")
    f_events, x_events = await asyncio.wait_for(
        asyncio.gather(collect(failed), collect(crashed)), 2
    )
    assert f_events[-1]["phase"] == "failed"
    assert x_events[-1] == {"phase": "failed", "message": "Build error: executor crashed\n"}
    assert b.find(failed.id) is failed


async def test_requests_arriving_during_the_cache_check_attach_to_the_same_build():
    ex = Executor()
    checking = asyncio.Event()

    async def slow_exists(image):
        await checking.wait()  # the registry is slow to answer
        return False

    b = BuildBroker(ex, slow_exists, max_builds=2, max_builds_per_user=2)
    first = asyncio.create_task(b.request("ann", "img:n", "git://n", "HEAD", "n" * 40))
    await settle()
    others = [
        asyncio.create_task(b.request(u, "img:n", "git://n", "HEAD", "n" * 40)) for u in "bcd"
    ]
    await settle()
    checking.set()
    builds = await asyncio.gather(first, *others)
    assert all(build is builds[0] for build in builds)
    await settle()
    assert ex.started == ["img:n"]  # one repo2docker run
    ex.finish("img:n")
    await asyncio.wait_for(collect(builds[0]), 1)


async def test_a_cancel_during_the_cache_check_is_not_lost():
    ex = Executor()
    checking = asyncio.Event()

    async def slow_exists(image):
        await checking.wait()
        return False

    b = BuildBroker(ex, slow_exists)
    pending = asyncio.create_task(b.request("ann", "img:c", "git://c", "HEAD", "c" * 40))
    await settle()
    build = b.active["img:c"]
    assert await b.cancel(build, "ann")
    checking.set()
    assert await pending is build
    events = await asyncio.wait_for(collect(build), 1)
    assert events[-1]["cancelled"] is True
    await settle()
    assert ex.started == []  # nothing was built after all
    assert b.active == {}


async def test_an_executors_built_event_is_not_sent_and_every_last_event_has_a_message():
    async def execute(build, emit):
        emit({"message": "Picked Git content provider.\n"})  # phase-less: passed on as is
        emit({"phase": "built", "message": "Built\n", "imageName": build.image})
        return "failed" if build.image == "img:f" else "built"

    b = broker(execute, max_builds=2, max_builds_per_user=2)
    built = await b.request("ann", "img:b", "git://b", "HEAD", "b" * 40)
    failed = await b.request("ann", "img:f", "git://f", "HEAD", "f" * 40)
    b_events, f_events = await asyncio.wait_for(asyncio.gather(collect(built), collect(failed)), 2)
    assert b_events == [
        {"phase": "waiting", "message": "Waiting for build to start...\n"},
        {"message": "Picked Git content provider.\n"},
        {"phase": "ready", "message": "Done! Image built\n", "imageName": "img:b"},
    ]
    assert f_events[-1] == {"phase": "failed", "message": "Build failed\n"}
