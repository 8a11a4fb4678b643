"""Options of the per-user cost: the price table, how it applies, checked at hub start."""

from __future__ import annotations

import re
import warnings
from typing import Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, validate
from traitlets.config import Config, Configurable

from .prices import PriceError, PriceVersion, parse_prices

CURRENCY_RE = re.compile(r"\A[A-Z]{3}\Z")

PRICES_HELP = """
Price versions, each with the date it takes effect (in `HubExtensionsUsage.timezone`; a version
prices every day from its date until the next version's), so a price change never alters past
costs::

    c.HubExtensionsCost.prices = [
        {
            "effective": "2026-01-01",
            "cpu_hour": 0.031,          # per CPU and hour
            "memory_gib_hour": 0.004,   # per GiB of memory and hour
            "gpu_hour": {"nvidia.com/gpu": 0.35, "default": 0.5},
            "node_types": {"n2-highmem-4": {"hour": 0.24, "cpu": 4, "memory": "32G"}},
            "default_node_type": "n2-highmem-4",
            "profiles": {"workshop": {"hour": 0.0}, "gpu": {"node_type": "g4dn-xlarge"}},
        },
    ]

`gpu_hour` is keyed by the GPU's extended-resource name as the server requests it (e.g.
`nvidia.com/gpu` in `extra_resource_limits`), with `default` for any other; to price GPU models
apart, give their profiles a flat rate or a node type. `profiles` maps a profile slug to a flat
hourly rate (`hour`, used as is, without overhead) or, in share-of-node mode, to the node type
it runs on. Empty (the default): no prices, and no cost
is shown or enforced. A bad entry stops the hub at start with a message naming it.
"""


class HubExtensionsCost(Configurable):
    """Per-user cost: prices per resource, node type or profile, in one currency."""

    prices: List[Any] = List(help=PRICES_HELP).tag(config=True)

    currency = Unicode(
        "USD",
        help="ISO 4217 code of the prices' currency, e.g. `EUR` (default: `USD`).",
    ).tag(config=True)

    mode = Enum(
        ["resources", "share_of_node"],
        "resources",
        help="""
        How a server's hourly rate is computed: `resources` (default) adds CPU, memory and GPU
        prices; `share_of_node` charges a node type's price times the largest share of the node
        (CPU, memory or GPU) the server takes, for clusters billed per node.
        """,
    ).tag(config=True)

    basis = Enum(
        ["requests", "limits"],
        "requests",
        help="""
        Which resources are billed: `requests` (default: the guarantee, what a cluster
        reserves; the limit when a server has no guarantee) or `limits` (the limit; the
        guarantee when there is no limit).
        """,
    ).tag(config=True)

    overhead_factor = Float(
        1.0,
        help="""
        Multiplier on computed rates for costs that are not per server (storage, network,
        control plane), e.g. 1.15 for 15 %. Default: 1.0. Flat profile rates are not multiplied.
        """,
    ).tag(config=True)

    user_budgets = Dict(
        value_trait=Float(),
        key_trait=Unicode(),
        help="""
        Budget per user name, in `currency` per budget period, e.g. `{"ada": 50}`; overrides
        `default_user_budget` for that user. Default: none.
        """,
    ).tag(config=True)

    default_user_budget = Float(
        None,
        allow_none=True,
        help="""
        Budget of every user without an entry in `user_budgets`, in `currency` per period,
        e.g. 20. Default: None (no per-user budget).
        """,
    ).tag(config=True)

    group_budgets = Dict(
        value_trait=Float(),
        key_trait=Unicode(),
        help="""
        Pooled budget per JupyterHub group, e.g. `{"class-2026": 500}`: what all of the
        group's members spend together (as members when each session started). A member may
        not start a server once the pool is spent. Default: none.
        """,
    ).tag(config=True)

    budget_period = Enum(
        ["monthly", "rolling"],
        "monthly",
        help="""
        What a budget covers: `monthly` (the calendar month in `HubExtensionsUsage.timezone`, reset
        on the 1st; the default) or `rolling` (the last `budget_rolling_days` days).
        """,
    ).tag(config=True)

    budget_rolling_days = Int(
        30,
        help="Days a rolling budget covers, today included (default: 30), e.g. 7.",
    ).tag(config=True)

    budget_warning_thresholds = List(
        Float(),
        [0.8, 0.95],
        help="""
        Fractions of a budget at which the user is warned on the hub's pages, e.g.
        `[0.5, 0.9]`. Default: `[0.8, 0.95]`.
        """,
    ).tag(config=True)

    stop_over_budget = Bool(
        False,
        help="""
        Stop running servers whose user (or group pool) is over budget, after a warning and
        `over_budget_grace_period`. Default: False (over budget only refuses new starts).
        """,
    ).tag(config=True)

    over_budget_grace_period = Float(
        900.0,
        help="""
        Seconds between the warning that a running server is over budget and its stop, when
        `stop_over_budget` is on (default: 900).
        """,
    ).tag(config=True)

    budget_fail_closed = Bool(
        False,
        help="""
        Refuse starts while budgets cannot be checked (the usage ledger's database is down or
        not ready). The default, False, lets such starts go ahead and counts them in
        `hub_extensions_budget_check_failures_total` (fail open): an outage of the ledger never
        stops a class. Set it to True where a budget is a hard limit; users then get a 503
        that says budgets cannot be checked right now.
        """,
    ).tag(config=True)

    @validate("user_budgets", "group_budgets")
    def _check_budgets(self, proposal):
        for key, value in proposal.value.items():
            if not value >= 0:
                raise TraitError(
                    f"HubExtensionsCost.{proposal.trait.name}[{key!r}]: {value!r} is negative. Use "
                    "0 or more."
                )
        return proposal.value

    @validate("default_user_budget")
    def _check_default_budget(self, proposal):
        if proposal.value is not None and not proposal.value >= 0:
            raise TraitError(
                f"HubExtensionsCost.default_user_budget: {proposal.value!r} is negative. Use 0 or "
                "more."
            )
        return proposal.value

    @validate("budget_rolling_days")
    def _check_rolling_days(self, proposal):
        if not 1 <= proposal.value <= 366:
            raise TraitError(
                f"HubExtensionsCost.budget_rolling_days: {proposal.value!r} must be 1 to 366, e.g. "
                "30."
            )
        return proposal.value

    @validate("budget_warning_thresholds")
    def _check_thresholds(self, proposal):
        for value in proposal.value:
            if not 0 < value < 1:
                raise TraitError(
                    f"HubExtensionsCost.budget_warning_thresholds: {value!r} is not a fraction "
                    "between 0 "
                    "and 1, e.g. 0.8."
                )
        return sorted(proposal.value)

    @validate("over_budget_grace_period")
    def _check_grace(self, proposal):
        if not proposal.value >= 0:
            raise TraitError(
                f"HubExtensionsCost.over_budget_grace_period: {proposal.value!r} must be 0 or more "
                "seconds."
            )
        return proposal.value

    @property
    def has_budgets(self) -> bool:
        return bool(self.user_budgets or self.group_budgets or self.default_user_budget is not None)

    @validate("currency")
    def _check_currency(self, proposal):
        if not CURRENCY_RE.match(proposal.value):
            raise TraitError(
                f"HubExtensionsCost.currency: {proposal.value!r} is not an ISO 4217 code. Use e.g. "
                "'EUR'."
            )
        return proposal.value

    @validate("overhead_factor")
    def _check_overhead(self, proposal):
        value = proposal.value
        if not (value > 0 and value < 100):
            raise TraitError(
                f"HubExtensionsCost.overhead_factor: {value!r} must be above 0 (1.0 is none), e.g. "
                "1.15."
            )
        return value

    @validate("prices")
    def _check_prices(self, proposal):
        try:
            parse_prices(proposal.value)  # the mode's own needs: check_cost, once all is read
        except PriceError as err:
            raise TraitError(str(err)) from None
        return proposal.value

    @property
    def enabled(self) -> bool:
        return bool(self.prices)

    def versions(self) -> list[PriceVersion]:
        return parse_prices(self.prices, self.mode)

    def model(self) -> dict[str, Any]:
        """Display data for the browser: the rules, never anything secret."""
        return {"currency": self.currency, "mode": self.mode, "basis": self.basis}


def check_cost(config: Config) -> list[str]:
    """What one option alone does not show: the table's needs under the configured mode."""
    if "HubExtensionsCost" not in config:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cost = HubExtensionsCost(config=config)
    except TraitError:
        return []  # reported option by option by check_config
    problems = []
    try:
        parse_prices(cost.prices, cost.mode)
    except PriceError as err:
        problems.append(str(err))
    return problems
