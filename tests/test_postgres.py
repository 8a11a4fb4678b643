"""The demo hub on a real PostgreSQL server: its state lives there and survives a restart."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.postgres


def test_hub_state_lives_in_postgres_and_survives_a_restart(postgres, make_hub):
    config = f"c.JupyterHub.db_url = {postgres.create_database('jupyterhub')!r}\n"
    first = make_hub(config=config)
    try:
        token = first.token(first.login("alice"), "alice")
        api = first.api(token)
        first.spawn(api, "alice")
        first.stop_server(api, "alice")
    finally:
        first.stop()

    with postgres.connect("jupyterhub") as conn, conn.cursor() as cur:
        cur.execute("select name from users order by name")
        assert [row[0] for row in cur.fetchall()] == ["alice", "demo"]
        cur.execute("select name from services")
        assert [row[0] for row in cur.fetchall()] == ["hub-extensions"]

    second = make_hub(config=config)
    try:
        r = requests.get(
            second.hub_url("api/user"), headers={"Authorization": f"token {token}"}, timeout=10
        )
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "alice"
        assert r.json()["servers"] == {}
        # the managed service works against the restarted hub as well
        r = requests.get(
            second.service_url("api/health"),
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        assert r.json()["user"]["name"] == "alice"
    finally:
        second.stop()
