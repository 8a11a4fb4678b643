"""Callables that deployments wrap their `profile_list` in, named by the corpus files' `callable:`.

Each takes the spawner (KubeSpawner passes the spawner; the user's JupyterHub groups are
`spawner.user.groups`, objects with a `.name`), the list and the file's `callable_args`, and
returns a list of profiles, as KubeSpawner 7.1 requires of a callable (a dict is not accepted
there). Written in the way Z2JH `hub.extraConfig` snippets usually filter.
"""

from __future__ import annotations

import asyncio
import copy


def _groups(spawner) -> set[str]:
    return {g.name for g in spawner.user.groups}


def group_filter(spawner, profiles: list, restricted: dict[str, list[str]]) -> list:
    """Keep the profiles whose slug is unrestricted or restricted to one of the user's groups."""
    groups = _groups(spawner)
    return [
        p for p in profiles if p["slug"] not in restricted or groups & set(restricted[p["slug"]])
    ]


async def async_per_user(spawner, profiles: list) -> list:
    """Per-user overrides: the user's name in the environment and a volume mount's subPath."""
    await asyncio.sleep(0)  # as if a directory service had been asked
    name = spawner.user.name
    result = copy.deepcopy(profiles)
    for profile in result:
        override = profile.setdefault("kubespawner_override", {})
        override.setdefault("environment", {})["PROJECT_USER"] = name
        if override.get("volumes"):
            override["volume_mounts"] = [
                {"name": "projects", "mountPath": "/home/jovyan/projects", "subPath": name}
            ]
    return result


def choice_filter(spawner, profiles: list, restricted: dict[str, list[str]]) -> list:
    """Drop choices `"slug/option/choice"` restricted to groups the user is not in."""
    groups = _groups(spawner)
    result = copy.deepcopy(profiles)
    for profile in result:
        for key, option in profile.get("profile_options", {}).items():
            choices = option.get("choices", {})
            for choice in list(choices):
                allowed = restricted.get(f"{profile['slug']}/{key}/{choice}")
                if allowed is not None and not groups & set(allowed):
                    del choices[choice]
    return result


CALLABLES = {f.__name__: f for f in (group_filter, async_per_user, choice_filter)}
