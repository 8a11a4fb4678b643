"""Check `profile_list` when the hub starts, not at the first spawn."""

from __future__ import annotations

from importlib.metadata import entry_points

from traitlets.config import Config
from traitlets.utils.importstring import import_item

from .model import ProfileListError, normalize
from .overrides import check_override_keys


def spawner_class(config: Config) -> type | None:
    """The configured spawner class (an entry point name, a dotted path or a class)."""
    hub = config.JupyterHub if "JupyterHub" in config else Config()
    value = hub.get("spawner_class")
    if value is None or isinstance(value, type):
        return value
    if not isinstance(value, str):
        return None
    found = entry_points(group="jupyterhub.spawners", name=value)
    for ep in found:
        return ep.load()
    try:
        return import_item(value)
    except (ImportError, ValueError):
        return None  # JupyterHub itself reports a spawner_class it cannot load


def configured_value(config: Config, cls: type, name: str):
    """The value `name` gets from config on an instance of `cls` (most specific section wins)."""
    value = None
    for klass in reversed(cls.__mro__):
        section = klass.__name__
        if section in config and name in config[section]:
            value = config[section][name]
    return value


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
