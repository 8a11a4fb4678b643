"""Real JupyterHub objects without a running hub: spawners over an in-memory hub database.

For code that reads spawners as the hub's loop does (the usage heartbeat), in unit tests and
benchmarks, where starting thousands of servers is not the point.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from jupyterhub import orm
from jupyterhub.spawner import Spawner


def jupyterhub_spawners(names: list[str], server_name: str, last_activity: datetime) -> list:
    """Real JupyterHub Spawner objects, each with its orm spawner and a running server's row
    (in an in-memory hub database), as the hub's heartbeat reads them."""
    db = orm.new_session_factory("sqlite://")()
    orm_spawners = []
    for i, name in enumerate(names):
        user = orm.User(name=name)
        db.add(user)
        spawner = orm.Spawner(name=server_name, user=user)
        db.add(spawner)
        spawner.server = orm.Server(proto="http", ip="127.0.0.1", port=20000 + i,
                                    base_url=f"/user/{name}/{server_name}/",
                                    cookie_name="jupyterhub-user")  # fmt: skip
        spawner.last_activity = last_activity.replace(tzinfo=None)
        orm_spawners.append(spawner)
    db.commit()
    return [
        Spawner(orm_spawner=s, user=SimpleNamespace(name=n, groups=[]))
        for n, s in zip(names, orm_spawners, strict=True)
    ]
