"""The activity ledger on a real PostgreSQL server: the behaviours of test_usage_ledger.py."""

from __future__ import annotations

import itertools

import pytest

from hub_extensions.usage import FailOpenLedger, Ledger

from .conftest import need
from .infra.common import wait_until
from .infra.postgres import PostgresServer
from .test_usage_ledger import BEHAVIOURS, at, one, replay_after_an_outage

pytestmark = pytest.mark.postgres

_numbers = itertools.count()


@pytest.fixture
def make_postgres(postgres):
    made: list[Ledger] = []

    def make(tz: str = "UTC") -> Ledger:
        url = postgres.create_database(f"ledger_{next(_numbers)}")
        ledger = Ledger(url, timezone=tz)
        ledger.start()
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda f: f.__name__)
def test_ledger_on_postgres(behaviour, make_postgres):
    behaviour(make_postgres)


def test_a_bare_postgresql_url_uses_psycopg2(postgres):
    url = postgres.create_database("ledger_bare").replace("postgresql+psycopg2://", "postgresql://")
    ledger = Ledger(url)
    ledger.start()
    try:
        assert ledger.engine.dialect.driver == "psycopg2"
        sid = ledger.open_session(user="oli", requested_at=at(2026, 1, 1))
        assert one(ledger, sid)["requested_at"] == at(2026, 1, 1)
    finally:
        ledger.close()


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    # the same data directory and port, unlike PostgresServer.stop/start (which make a new one)
    server._run(str(server.bin / "pg_ctl"), *args, "-D", str(server.datadir), timeout=60)


def test_fail_open_while_the_server_is_stopped_then_replays(tmp_path):
    server = PostgresServer(tmp_path / "pg")
    need(server.start)
    options = (
        f"-k {server._base / 'sock'} -p {server.port} -c listen_addresses=127.0.0.1"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        ledger = FailOpenLedger(Ledger(server.create_database("ledger")), retry_interval=0)
        assert ledger.start() is True
        replay_after_an_outage(
            ledger,
            outage=lambda: _pg_ctl(server, "stop", "-w", "-m", "fast"),
            recover=lambda: _pg_ctl(
                server, "start", "-w", "-t", "60", "-l", str(server.logfile), "-o", options
            ),
        )
        ledger.ledger.close()
    finally:
        server.stop()


def test_a_database_outage_answers_503_with_retry_after_then_recovers(make_hub, tmp_path):
    """The usage and cost APIs through a real hub and service while PostgreSQL is stopped:
    503 with Retry-After and a message (was: 500), and answers again once it is back."""
    server = PostgresServer(tmp_path / "pg")
    need(server.start)
    options = (
        f"-k {server._base / 'sock'} -p {server.port} -c listen_addresses=127.0.0.1"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    config = f"c.HubExtensionsUsage.db_url = {server.create_database('ledger')!r}\n"
    paths = ["api/usage/summary", "api/usage/sessions", "api/cost/me", "api/cost/report"]
    demo = None
    try:
        demo = make_hub(config=config)
        admin = demo.api(demo.token(demo.login("demo"), "demo"))

        def statuses() -> list[int]:
            return [admin.get(demo.service_url(p), timeout=30).status_code for p in paths]

        wait_until(lambda: statuses() == [200] * 4, 30, "the ledger to answer")
        _pg_ctl(server, "stop", "-w", "-m", "fast")
        for path in paths:
            r = admin.get(demo.service_url(path), timeout=30)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["Retry-After"] == "30"
            assert r.json()["message"].startswith(
                "The usage ledger's database cannot be reached right now. Try again in 30 seconds"
            )
        _pg_ctl(server, "start", "-w", "-t", "60", "-l", str(server.logfile), "-o", options)
        wait_until(lambda: statuses() == [200] * 4, 30, "the ledger to answer again")
    finally:
        if demo is not None:  # before its database goes
            demo.stop()
        server.stop()
