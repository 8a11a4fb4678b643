"""Spawner classes whose backend (KubeSpawner, DockerSpawner) is imported at first use.

JupyterHub loads every `jupyterhub.spawners` entry point when it starts, before
`jupyterhub_config.py` runs. Importing kubespawner then would make kubernetes_asyncio read
`$KUBECONFIG` once, at import, so a hub that sets `os.environ["KUBECONFIG"]` in its config
(and uses KubeSpawner's own class, not ours) fails at login with "Invalid kube-config file".
So the entry points name light stand-ins: subclasses of JupyterHub's `Spawner` that import the
backend only when the first instance is made (or `hx_real_class()` is asked, as the start
check does). That instance is of a real subclass of the stand-in *and* of the backend class,
with the same name and module, so `c.ProfilesKubeSpawner.*`, `c.KubeSpawner.*`,
`isinstance(spawner, KubeSpawner)` and `super()` calls all work as with a plain subclass.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

_lock = threading.Lock()
_SPAWNER_METHODS = ("start", "stop", "poll")


class LazyBackend:
    """Mixin, first in the bases of a stand-in; `_hx_backend` is "module:Class" of the backend.

    Subclass the stand-in as usual (in a config file, say): the subclass is a stand-in too.
    """

    _hx_backend: str = ""
    _hx_extra: str = ""  # the package's extra that installs the backend

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        backend = cls.__dict__.get("_hx_backend")
        # a missing backend stops the hub at start, when it loads the configured class, as an
        # ImportError of the backend would have (JupyterHub skips it in its class list)
        if not backend:
            return
        module, _, name = backend.partition(":")
        if importlib.util.find_spec(module.partition(".")[0]) is None:
            raise ModuleNotFoundError(
                f"{cls.__name__} needs {name}, which is not installed. "
                f"Install it with: pip install 'hub-extensions[{cls._hx_extra}]'"
            )

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        real = cls.hx_real_class()
        # the next __new__ after this mixin in the real class's MRO (traitlets' HasTraits):
        # type.__call__ then runs __init__ once, as `real` is a subclass of `cls`
        return super(LazyBackend, real).__new__(real, *args, **kwargs)  # type: ignore[misc]

    # JupyterHub refuses a Spawner subclass without these; the real class never uses them
    # (`_combine` binds the backend's own, as a plain subclass would have)
    def start(self, *args: Any, **kwargs: Any) -> Any:
        return super().start(*args, **kwargs)  # type: ignore[misc]

    def stop(self, *args: Any, **kwargs: Any) -> Any:
        return super().stop(*args, **kwargs)  # type: ignore[misc]

    def poll(self, *args: Any, **kwargs: Any) -> Any:
        return super().poll(*args, **kwargs)  # type: ignore[misc]

    @classmethod
    def hx_real_class(cls) -> type:
        """The stand-in combined with its backend class, made once (imports the backend)."""
        if cls.__dict__.get("_hx_is_real"):
            return cls
        real = cls.__dict__.get("_hx_real")
        if real is None:
            with _lock:
                real = cls.__dict__.get("_hx_real")
                if real is None:
                    real = _combine(cls)
                    cls._hx_real = real  # type: ignore[attr-defined]
        return real


def _combine(stand_in: type) -> type:
    module_name, _, name = stand_in._hx_backend.partition(":")  # type: ignore[attr-defined]
    backend = getattr(importlib.import_module(module_name), name)
    namespace = {
        "__module__": stand_in.__module__,
        "__qualname__": stand_in.__qualname__,
        "__doc__": stand_in.__doc__,
        "_hx_is_real": True,
    }
    real = type(stand_in)(stand_in.__name__, (stand_in, backend), namespace)
    for method in _SPAWNER_METHODS:
        owner = next(k for k in real.__mro__ if k is not LazyBackend and method in k.__dict__)
        setattr(real, method, owner.__dict__[method])
    return real


def real_class(cls: type) -> type:
    """`cls`, or the real class behind it when it is a stand-in (for class-level checks)."""
    if isinstance(cls, type) and issubclass(cls, LazyBackend):
        return cls.hx_real_class()
    return cls
