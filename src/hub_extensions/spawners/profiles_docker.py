"""DockerSpawner with the profiles form (`profiles-docker`, `profiles-loopback-docker`)."""

from dockerspawner import DockerSpawner

from ..profiles.spawner_mixin import ProfilesMixin
from .loopback_docker import LoopbackDockerSpawner


class ProfilesDockerSpawner(ProfilesMixin, DockerSpawner):
    """DockerSpawner whose image, limits and environment come from `profile_list`."""


class ProfilesLoopbackDockerSpawner(ProfilesMixin, LoopbackDockerSpawner):
    """LoopbackDockerSpawner (host network, loopback only) with profiles."""
