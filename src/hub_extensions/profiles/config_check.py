"""The start-time check of the configured profiles spawner's `profile_list`."""

from __future__ import annotations

from traitlets.config import Config

from ..config_values import option_is_set, option_value
from ..hub_classes import configured_class
from .checks import read
from .model import ProfileListError
from .spawner_mixin import ProfilesMixin


def check_profiles(config: Config, warnings: list[str] | None = None) -> list[str]:
    """Refusals in the configured spawner's profile_list (warnings go to `warnings`)."""
    cls = configured_class(config, "spawner_class", "jupyterhub.spawners")
    if cls is None or not issubclass(cls, ProfilesMixin):
        return []
    problems = []
    if option_value(config, cls, "apply_user_options", default=None) is not None:
        problems.append(
            f"{cls.__name__}.apply_user_options: the profiles form applies user options itself. "
            "Remove this setting; use Spawner.pre_spawn_hook for extra logic."
        )
    if not option_is_set(config, cls, "profile_list"):
        return problems
    # as the spawner will get it: `c.X.profile_list.append({...})` applies to the default
    value = option_value(config, cls, "profile_list")
    if value is None or callable(value):
        return problems  # a callable is read the first time it is evaluated for a user
    try:
        checked = read(value, root=f"{cls.__name__}.profile_list", spawner_cls=cls)
    except ProfileListError as err:
        return [*problems, str(err)]
    if warnings is not None:
        warnings.extend(str(p) for p in checked.warnings)
    return problems + [str(p) for p in checked.refusals]
