"""KubeSpawner with the profiles form (entry point `profiles-kubernetes`).

KubeSpawner keeps its own machinery: it reads `profile_list` and applies the chosen profile
in `load_user_options()` at start, as it always does. This class replaces the form, parses
the same field names, and validates the choice first (full-match regex, groups), so a bad
choice is a 400 before anything reaches Kubernetes. Validation also replaces `user_options`
with the normalised selection, so what KubeSpawner applies is what was validated: a listed
choice beside a leftover "Other..." value launches the listed choice.

kubespawner is imported when the first spawner is made, not when JupyterHub loads the entry
point (see `lazy_backend`): by then `jupyterhub_config.py` has set `KUBECONFIG` if it does.
"""

from jupyterhub.spawner import Spawner

from ..lazy_backend import LazyBackend
from ..profiles.spawner_mixin import ProfilesMixin, _apply_user_options


class ProfilesKubeSpawner(LazyBackend, ProfilesMixin, Spawner):
    """KubeSpawner with the hub-extensions profiles form and validation."""

    _hx_backend = "kubespawner:KubeSpawner"
    _hx_extra = "kubernetes"

    def hx_apply(self, selection) -> None:
        """Nothing to apply here: KubeSpawner's load_user_options() does it at start."""

    async def load_user_options(self):
        # JupyterHub's apply_user_options hook has normalised user_options already; anything
        # that set them since (or skipped the hook) goes through the same validation first.
        if self.user_options != self.hx_normalised:
            await _apply_user_options(self, self.user_options)
        await super().load_user_options()
