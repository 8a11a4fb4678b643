"""LocalProcessSpawner with the profiles form (entry point `profiles-local`)."""

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner

from ..profiles.spawner_mixin import ProfilesMixin


class ProfilesLocalProcessSpawner(ProfilesMixin, LocalProcessSpawner):
    """LocalProcessSpawner whose options come from `profile_list`."""


class ProfilesSimpleLocalProcessSpawner(ProfilesMixin, SimpleLocalProcessSpawner):
    """SimpleLocalProcessSpawner (no system users; for demos and tests) with profiles."""
