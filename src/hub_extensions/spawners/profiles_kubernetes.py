"""KubeSpawner with the profiles form (entry point `profiles-kubernetes`).

KubeSpawner keeps its own machinery: it reads `profile_list` and applies the chosen profile
in `load_user_options()` at start, as it always does. This class replaces the form, parses
the same field names, and validates the choice first (full-match regex, groups), so a bad
choice is a 400 before anything reaches Kubernetes.
"""

from kubespawner import KubeSpawner

from ..profiles.spawner_mixin import ProfilesMixin


class ProfilesKubeSpawner(ProfilesMixin, KubeSpawner):
    """KubeSpawner with the hub-extensions profiles form and validation."""

    def hx_apply(self, selection) -> None:
        """Nothing to apply here: KubeSpawner's load_user_options() does it at start."""
