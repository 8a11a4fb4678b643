"""hub-extensions: a JupyterHub plugin suite: profiles, builds, CILogon presets, usage, cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .wiring import setup

__all__ = ["__version__", "setup"]


def __getattr__(name: str) -> Any:
    # `setup` imports the whole suite: only a jupyterhub_config.py that calls it pays for that,
    # not JupyterHub loading one of our entry points (which imports this package first)
    if name == "setup":
        from .wiring import setup

        return setup
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
