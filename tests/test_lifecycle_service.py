"""The service's own lifecycle pieces on real sockets and processes (the whole story, with a
real hub killed by `kill -9`, is tests/test_lifecycle_hub.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest
from tornado import web

from hub_extensions.service.app import listen, watch_hub
from hub_extensions.service.context import ServiceEnvironmentError

pytestmark = pytest.mark.unit


async def test_a_port_held_by_another_process_is_named_with_what_to_do():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        stopping = asyncio.get_running_loop().create_future()
        with pytest.raises(ServiceEnvironmentError) as err:
            await listen(web.Application(), port, "127.0.0.1", stopping, wait=0.6)
    assert str(err.value) == (
        f"127.0.0.1:{port} (HubExtensions.service_url) is still in use after 1s. Another "
        "process holds it, e.g. a hub-extensions service of an older version left running by a "
        "hub that crashed: stop that process, or set HubExtensions.service_url to a free port."
    )


async def test_the_port_is_taken_over_once_its_holder_lets_go():
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    port = held.getsockname()[1]
    asyncio.get_running_loop().call_later(0.3, held.close)
    stopping = asyncio.get_running_loop().create_future()
    server = await listen(web.Application(), port, "127.0.0.1", stopping, wait=5)
    assert server is not None
    server.stop()


async def test_the_watch_stops_the_service_when_the_hub_is_gone():
    stopping = asyncio.get_running_loop().create_future()
    # the parent this process started with is another one now (re-parented)
    await asyncio.wait_for(watch_hub(os.getppid() + 100_000, None, stopping, 0.05), 2)
    assert stopping.result().endswith("exited")
    # the hub's pid names a process that is gone (it died before the service got going)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stopping = asyncio.get_running_loop().create_future()
    await asyncio.wait_for(watch_hub(os.getppid(), gone.pid, stopping, 0.05), 2)
    assert stopping.result() == f"the hub (pid {gone.pid}) is gone"


async def test_the_watch_keeps_the_service_while_the_hub_lives():
    stopping = asyncio.get_running_loop().create_future()
    watch = asyncio.ensure_future(watch_hub(os.getppid(), os.getppid(), stopping, 0.05))
    await asyncio.sleep(0.3)
    assert not stopping.done()
    watch.cancel()
