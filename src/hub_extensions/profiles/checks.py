"""Check `profile_list` when the hub starts, not at the first spawn."""

from __future__ import annotations

from traitlets.config import Config

from ..hub_classes import configured_class, configured_value
from .model import ProfileListError, normalize
from .overrides import check_override_keys


def spawner_class(config: Config) -> type | None:
    return configured_class(config, "spawner_class", "jupyterhub.spawners")


def check_profiles(config: Config) -> list[str]:
    """One message per problem in the configured spawner's profile_list."""
    from .spawner_mixin import ProfilesMixin

    cls = spawner_class(config)
    if cls is None or not issubclass(cls, ProfilesMixin):
        return []
    problems = []
    if configured_value(config, cls, "apply_user_options") is not None:
        problems.append(
            f"{cls.__name__}.apply_user_options: the profiles form applies user options itself. "
            "Remove this setting; use Spawner.pre_spawn_hook for extra logic."
        )
    value = configured_value(config, cls, "profile_list")
    if value is None or callable(value):
        return problems  # a callable's result is checked at each spawn
    try:
        profiles = normalize(value, root=f"{cls.__name__}.profile_list")
    except ProfileListError as err:
        return [*problems, str(err)]
    return problems + check_override_keys(profiles, cls)
