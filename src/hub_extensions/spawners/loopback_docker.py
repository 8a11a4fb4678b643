"""DockerSpawner on the host's network, so the hub, proxy and servers all talk over loopback.

dockerspawner is imported when the first spawner is made (see `lazy_backend`).
"""

from __future__ import annotations

from jupyterhub.spawner import Spawner
from jupyterhub.utils import random_port
from traitlets import Unicode, default

from ..lazy_backend import LazyBackend


class LoopbackDockerSpawner(LazyBackend, Spawner):
    """Containers share the host's network namespace and listen on a free 127.0.0.1 port.

    Fits a single machine whose hub listens on 127.0.0.1: no bridge address to configure,
    nothing published beyond loopback. Each server gets its own port at start.
    """

    _hx_backend = "dockerspawner:DockerSpawner"
    _hx_extra = "docker"

    loopback_ip = Unicode(
        "127.0.0.1",
        help="Address the single-user server listens on, in the host's network. Default 127.0.0.1.",
    ).tag(config=True)

    @default("network_name")
    def _default_network_name(self) -> str:
        return "host"

    @default("use_internal_ip")
    def _default_use_internal_ip(self) -> bool:
        return True  # no port publishing: the server already listens on the host's loopback

    async def start(self, *args, **kwargs):
        self.port = random_port()
        self.ip = self.loopback_ip
        return await super().start(*args, **kwargs)

    async def get_ip_and_port(self) -> tuple[str, int]:
        return self.loopback_ip, self.port

    def get_state(self) -> dict:
        state = super().get_state()
        if self.container_id:
            state["port"] = self.port
        return state

    def load_state(self, state: dict) -> None:
        super().load_state(state)
        if state.get("port"):
            self.port = state["port"]
