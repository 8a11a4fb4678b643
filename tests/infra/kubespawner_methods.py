"""KubeSpawner's own methods on the tests' small stand-in classes, looked up when first used.

Importing kubespawner (kubernetes_asyncio, kubernetes_validate, jsonschema's format grammars)
takes over two seconds; a class body that read `KubeSpawner._get_profile` would make every
collection of the suite pay it.
"""

from __future__ import annotations


class KubeSpawnerMethod:
    """`_get_profile = KubeSpawnerMethod()` in a class body is KubeSpawner's `_get_profile`,
    bound to the instance as a method of that class would be."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None):
        if obj is None:  # looked up on the class (traitlets' class set-up does): not yet
            return self
        from kubespawner import KubeSpawner

        return getattr(KubeSpawner, self.name).__get__(obj, owner)
