"""The service's read access to the ledger waits for the hub's migrations instead of racing it."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from hub_extensions.service.usage_context import LedgerNotReady, UsageStore
from hub_extensions.usage import HubExtensionsUsage, Ledger

pytestmark = pytest.mark.unit


async def test_the_service_waits_for_the_hub_to_create_the_ledger_then_reads_it(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    store = UsageStore(HubExtensionsUsage(), url)
    with pytest.raises(LedgerNotReady, match="the hub creates or upgrades it"):
        await store.run(lambda ledger: ledger.sessions())
    assert not (tmp_path / "ledger.sqlite").exists()  # no empty file left for the hub to trip on
    hub_side = Ledger(url)
    hub_side.start()
    assert await store.run(lambda ledger: ledger.sessions()) == []
    hub_side.close()
    store.close()


async def test_an_empty_database_is_not_migrated_by_the_service(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    (tmp_path / "ledger.sqlite").touch()
    store = UsageStore(
        HubExtensionsUsage(config=Config({"HubExtensionsUsage": {"enabled": False}})), url
    )
    with pytest.raises(
        LedgerNotReady, match=r"recording is off \(HubExtensionsUsage.enabled = False\)"
    ):
        await store.run(lambda ledger: ledger.sessions())
    store.close()
