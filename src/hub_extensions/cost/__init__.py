"""Per-user cost: the price table, hourly rates, costs of ledger time, budgets."""

from .config import HubExtensionsCost, check_cost
from .prices import Footprint, PriceError, PriceVersion, hourly_rate, parse_prices, version_on

__all__ = [
    "Footprint",
    "HubExtensionsCost",
    "PriceError",
    "PriceVersion",
    "check_cost",
    "hourly_rate",
    "parse_prices",
    "version_on",
]
