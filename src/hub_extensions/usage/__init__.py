"""Activity ledger: who ran which server, for how long, with what resources.

`Ledger` is the storage, query and roll-up layer; `FailOpenLedger` wraps it so that a ledger
database outage never blocks a spawn. Capture (hooks, heartbeat loop) lives elsewhere and calls
these classes.
"""

from ..store.models import EndReason
from .config import HubExtensionsUsage, check_usage, default_db_url
from .fail_open import FailOpenLedger
from .ledger import Ledger, ReconcileResult

__all__ = [
    "EndReason",
    "FailOpenLedger",
    "HubExtensionsUsage",
    "Ledger",
    "ReconcileResult",
    "check_usage",
    "default_db_url",
]
