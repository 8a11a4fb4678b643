"""Read the hub's configured classes and their options from a Config, as JupyterHub would."""

from __future__ import annotations

from importlib.metadata import entry_points

from traitlets.config import Config
from traitlets.utils.importstring import import_item

from .config_values import option_value
from .lazy_backend import real_class


def configured_class(config: Config, trait: str, group: str) -> type | None:
    """`JupyterHub.<trait>` as a class: an entry point name of `group`, a dotted path or a class.

    None when unset or not loadable (JupyterHub itself reports a class it cannot load). A
    spawner whose backend is imported at first use is returned as the real (backend) class.
    """
    hub = config.JupyterHub if "JupyterHub" in config else Config()
    value = hub.get(trait)
    if value is None or isinstance(value, type):
        return value and real_class(value)
    if not isinstance(value, str):
        return None
    try:
        for ep in entry_points(group=group, name=value):
            return real_class(ep.load())
        return real_class(import_item(value))
    except (ImportError, ValueError, AttributeError):
        return None


def configured_value(config: Config, cls: type, name: str):
    """The value `name` gets from config on an instance of `cls`, None when unset."""
    return option_value(config, cls, name, default=None)
