"""DockerSpawner with the profiles form (`profiles-docker`, `profiles-loopback-docker`).

dockerspawner is imported when the first spawner is made (see `lazy_backend`).
"""

from jupyterhub.spawner import Spawner

from ..lazy_backend import LazyBackend
from ..profiles.spawner_mixin import ProfilesMixin
from .loopback_docker import LoopbackDockerSpawner


class _ImageFromProfile:
    """DockerSpawner.start() treats user_options["image"] as an image to launch; with profiles,
    "image" is an option key (its value a choice key), and the profile's override has already
    set `self.image` after validation. So the image launched is the one the profile set."""

    async def check_allowed(self, image):
        return self.image


class ProfilesDockerSpawner(LazyBackend, _ImageFromProfile, ProfilesMixin, Spawner):
    """DockerSpawner whose image, limits and environment come from `profile_list`."""

    _hx_backend = "dockerspawner:DockerSpawner"
    _hx_extra = "docker"


class ProfilesLoopbackDockerSpawner(_ImageFromProfile, ProfilesMixin, LoopbackDockerSpawner):
    """LoopbackDockerSpawner (host network, loopback only) with profiles."""
