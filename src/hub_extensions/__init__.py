"""hub-extensions: a JupyterHub plugin suite: profiles, builds, CILogon presets, usage, cost."""

from ._version import __version__
from .wiring import setup

__all__ = ["__version__", "setup"]
