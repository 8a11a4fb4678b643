"""The service's ledger reader on PostgreSQL: it waits for the hub's migrations, then reads the
charts' series, without ever creating a table itself."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import create_engine, inspect

from hub_extensions.service.usage_context import LedgerNotReady, UsageStore
from hub_extensions.usage import HubExtensionsUsage, Ledger
from hub_extensions.usage.charts import daily_by_profile

pytestmark = pytest.mark.postgres


async def test_the_service_waits_for_the_hubs_migrations_then_reads(postgres):
    url = postgres.create_database("usage_store")
    store = UsageStore(HubExtensionsUsage(), url)
    with pytest.raises(LedgerNotReady, match="the hub creates or upgrades it"):
        await store.run(lambda ledger: ledger.sessions())
    engine = create_engine(url)
    assert inspect(engine).get_table_names() == []  # the service created nothing
    engine.dispose()

    hub_side = Ledger(url)
    hub_side.start()
    t0 = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    sid = hub_side.open_session(user="ada", requested_at=t0, profile_slug="gpu")
    hub_side.mark_ready(sid, t0)
    hub_side.close_session(sid, t0.replace(hour=10), "user_stop", last_activity=t0)
    try:
        [session] = await store.run(lambda ledger: ledger.sessions(user="ada"))
        assert session["end_reason"] == "user_stop"
        series = await store.run(
            lambda ledger: daily_by_profile(ledger.engine, date(2026, 2, 28), date(2026, 3, 1))
        )
        assert series == {
            "days": ["2026-02-28", "2026-03-01"],
            "sessions": [0, 1],
            "hours": {"gpu": [0.0, 1.0]},
        }
    finally:
        hub_side.close()
        store.close()
