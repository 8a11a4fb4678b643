"""From a spawn form's POST to a pod manifest, as JupyterHub 6 and KubeSpawner 7.1 do it, without
a cluster.

Spawners are made by a real `jupyterhub.user.User` over an in-memory hub database (real orm
users, groups and spawner rows, a real `Hub`), as the hub makes them: the last start's
`user_options` come from the spawner's database row. `launch` replays `SpawnHandler.post`,
`User.spawn` (user_options stored, `apply_group_overrides`, `apply_user_options`,
`pre_spawn_hook`) and the first steps of `KubeSpawner._start` (`load_user_options`) up to the pod
manifest it would create. Not covered: the Kubernetes API calls that follow (no cluster here;
KUBECONFIG points at an address where nothing listens, see the `kubeconfig` fixture).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from jupyterhub import orm
from jupyterhub.objects import Hub
from jupyterhub.user import User
from jupyterhub.utils import maybe_future
from tornado import web
from traitlets.config import Config

from .html_form import form_data_from_body


@cache
def _database():
    # ":memory:" makes JupyterHub use one connection for every thread (a StaticPool): the
    # browser tier launches from a worker thread, after the unit tier used the main one
    return orm.new_session_factory("sqlite:///:memory:")()


def hub_user(name: str, groups: list[str], spawner_class: type, config: Config) -> User:
    """A JupyterHub User (in a shared in-memory database) in exactly `groups`, whose spawners
    are `spawner_class` with `config`."""
    user = _user(name, spawner_class)
    if {g.name for g in user.orm_user.groups} != set(groups):
        db = user.db
        user.orm_user.groups = [
            orm.Group.find(db, g) or orm.Group(name=g) for g in dict.fromkeys(groups)
        ]
        db.commit()
    user.settings["config"] = config
    return user


@cache
def _user(name: str, spawner_class: type) -> User:
    db = _database()
    orm_user = orm.User.find(db, name) or orm.User(name=name)
    db.add(orm_user)
    db.commit()
    settings = {
        "spawner_class": spawner_class,
        "hub": Hub(ip="127.0.0.1", port=8081, base_url="/hub/"),
        "base_url": "/",
        "domain": "",
    }
    return User(orm_user, settings=settings, db=db)


def new_spawner(user: User, last_user_options: dict | None):
    """The spawner the hub makes for `user`'s default server, its row holding the last start's
    `user_options` (as after a hub restart, or a failed start's replacement)."""
    orm_spawner = user.orm_spawners[""]
    orm_spawner.user_options = copy.deepcopy(last_user_options) if last_user_options else None
    user.db.commit()
    user.spawners.pop("", None)
    return user.get_spawner("")


@dataclass
class Launch:
    """What became of one submission: a pod manifest, a refusal (HTTP 4xx) or a failure."""

    pod: dict | None = None
    refused: web.HTTPError | None = None
    failure: BaseException | None = None
    user_options: dict | None = None  # what the spawner holds after the start

    def describe(self) -> str:
        if self.failure is not None:
            return (
                f"failure (a 500 or a failed spawn): {type(self.failure).__name__}: {self.failure}"
            )
        if self.refused is not None:
            return f"refused: HTTP {self.refused.status_code}: {self.refused.log_message}"
        return "pod"


async def launch(
    spawner, form_data: dict[str, list[str]] | None, rest: dict | None = None
) -> Launch:
    """Submit `form_data` to `spawner` as JupyterHub does (or `rest`, a REST API request's
    user_options) and build KubeSpawner's pod manifest."""
    result = Launch()
    try:
        if form_data is not None:
            options = await maybe_future(spawner.run_options_from_form(form_data))
        else:
            options = copy.deepcopy(rest)
        spawner.orm_spawner.user_options = options  # User.spawn stores them before starting
        spawner.user_options = options
        await spawner.apply_group_overrides()
        await spawner._run_apply_user_options(spawner.user_options)
        await maybe_future(spawner.run_pre_spawn_hook())
        await spawner.load_user_options()  # KubeSpawner._start begins here
        pod = await spawner.get_pod_manifest()
        result.pod = spawner.api.api_client.sanitize_for_serialization(pod)
    except web.HTTPError as err:
        if err.status_code >= 500:
            result.failure = err
        else:
            result.refused = err
    except Exception as err:  # anything else is a 500 or a failed spawn for the user
        result.failure = err
    result.user_options = copy.deepcopy(dict(spawner.user_options or {}))
    return result


async def launch_body(spawner, body: bytes, content_type: str) -> Launch:
    """`launch` for a POST body as a browser sent it."""
    return await launch(spawner, form_data_from_body(body, content_type))


def spawner_config(spawner_class_name: str, profile_list: Any, base: dict) -> Config:
    """A hub config as a Z2JH chart writes it: `c.KubeSpawner.*`, plus the spawner class."""
    config = Config()
    config.JupyterHub.spawner_class = spawner_class_name
    for key, value in base.items():
        config.KubeSpawner[key] = copy.deepcopy(value)
    config.KubeSpawner.profile_list = profile_list
    config.KubeSpawner.namespace = "hub"
    return config
