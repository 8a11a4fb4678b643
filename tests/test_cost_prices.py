"""The price table (issue #7): validation at start, hourly rates, versions, prices in the form.

tests/data/price-cases.json holds rates computed here; the spawn form's script computes the
same cases (frontend/src/profiles/price.test.ts), so the page and the hub cannot drift apart.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from traitlets.config import Config

from hub_extensions.checks import check_config
from hub_extensions.cost import Footprint, hourly_rate, parse_prices, version_on
from hub_extensions.cost.config import HubExtensionsCost
from hub_extensions.cost.prices import money
from hub_extensions.profiles import normalize, page_data
from hub_extensions.profiles.form import render_form
from hub_extensions.profiles.prices import add_prices, partial_footprint

pytestmark = pytest.mark.unit

CASES = Path(__file__).parent / "data" / "price-cases.json"
GIB = 2**30

TABLE = [
    {
        "effective": "2026-01-01",
        "cpu_hour": 0.03,
        "memory_gib_hour": 0.004,
        "gpu_hour": {"T4": 0.35, "default": 0.5},
        "node_types": {"n4": {"hour": 0.2, "cpu": 4, "memory": "16G"},
                       "g1": {"hour": 0.9, "cpu": 8, "memory": "32G", "gpu": 1}},
        "default_node_type": "n4",
        "profiles": {"workshop": {"hour": 0.01}, "gpu": {"node_type": "g1"}},
    },
    {"effective": "2026-11-15", "cpu_hour": 0.05, "memory_gib_hour": 0.005,
     "node_types": {"n4": {"hour": 0.25, "cpu": 4, "memory": "16G"}}, "default_node_type": "n4"},
]  # fmt: skip


def problems(**cost) -> list[str]:
    c = Config()
    for key, value in cost.items():
        setattr(c.HubExtensionsCost, key, value)
    return check_config(c)


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ("0.03", "HubExtensionsCost.prices[0]: is str, not a dict (a price version)."),
        ([{"cpu_hour": 1}], "HubExtensionsCost.prices[0].effective: None is not a date. Use 'YYYY-MM-DD'."),
        ([{"effective": "2026-13-01"}], "HubExtensionsCost.prices[0].effective: '2026-13-01' is not a date."),
        ([{"effective": "2026-01-01", "cpu_hours": 1}], "HubExtensionsCost.prices[0].cpu_hours: unknown key."
         " Did you mean 'cpu_hour'?"),
        ([{"effective": "2026-01-01", "cpu_hour": -1}], "HubExtensionsCost.prices[0].cpu_hour: -1 is negative."),
        ([{"effective": "2026-01-01", "cpu_hour": "cheap"}],
         "HubExtensionsCost.prices[0].cpu_hour: 'cheap' is not a price."),
        ([{"effective": "2026-01-01", "gpu_hour": {"T4": float("nan")}}],
         "HubExtensionsCost.prices[0].gpu_hour.T4: nan is not a price."),
        ([{"effective": "2026-01-01", "node_types": {"n": {"hour": 1, "cpu": 4}}}],
         "HubExtensionsCost.prices[0].node_types.n.memory: missing."),
        ([{"effective": "2026-01-01", "node_types": {"n": {"hour": 1, "cpu": 4, "memory": "lots"}}}],
         "HubExtensionsCost.prices[0].node_types.n.memory: 'lots' is not a memory size."),
        ([{"effective": "2026-01-01", "default_node_type": "big"}],
         "HubExtensionsCost.prices[0].default_node_type: 'big' is not one of node_types."),
        ([{"effective": "2026-01-01", "profiles": {"a": {"hour": 1, "node_type": "n"}}}],
         "HubExtensionsCost.prices[0].profiles.a: needs exactly one of hour, node_type."),
        ([{"effective": "2026-01-01", "profiles": {"a": {"node_type": "n"}}}],
         "HubExtensionsCost.prices[0].profiles.a.node_type: 'n' is not one of node_types."),
        ([{"effective": "2026-01-01"}, {"effective": "2026-01-01"}],
         "HubExtensionsCost.prices[1].effective: 2026-01-01 is also the date of HubExtensionsCost.prices[0]."),
    ],
)  # fmt: skip
def test_a_bad_price_table_stops_the_hub_naming_the_entry(prices, expected):
    found = problems(prices=prices)
    assert len(found) == 1, found
    assert found[0].startswith(expected)


def test_share_of_node_needs_node_types_and_options_are_checked():
    table = [{"effective": "2026-01-01", "cpu_hour": 0.03}]
    assert problems(mode="share_of_node", prices=table) == [
        "HubExtensionsCost.prices[0].node_types: empty, but HubExtensionsCost.mode is 'share_of_node'. "
        "Define the node types and their hourly prices."
    ]
    assert problems(currency="euro") == [
        "HubExtensionsCost.currency: 'euro' is not an ISO 4217 code. Use e.g. 'EUR'."
    ]
    assert problems(overhead_factor=0) == [
        "HubExtensionsCost.overhead_factor: 0.0 must be above 0 (1.0 is none), e.g. 1.15."
    ]
    assert problems(basis="peak")[0].startswith("HubExtensionsCost.basis: ")
    assert problems(prices=TABLE, mode="share_of_node") == []
    c = Config()
    c.HubExtensionsCost.timezone = "Europe/Paris"  # removed: one time zone, the ledger's
    assert check_config(c) == [
        "HubExtensionsCost.timezone: removed in 0.1.0: prices and budgets follow the ledger's "
        "days. Set HubExtensionsUsage.timezone instead (and remove this line)."
    ]


def test_rates_per_resource_with_overhead_flat_profiles_and_gpus():
    v = version_on(parse_prices(TABLE), date(2026, 6, 1))
    two_cpu_4g = Footprint(cpu=2, memory_bytes=4 * GIB)
    assert hourly_rate(v, two_cpu_4g) == pytest.approx(2 * 0.03 + 4 * 0.004)
    assert hourly_rate(v, two_cpu_4g, overhead=1.5) == pytest.approx(1.5 * (0.06 + 0.016))
    assert hourly_rate(v, two_cpu_4g, "workshop", overhead=1.5) == 0.01  # flat, as given
    gpu = Footprint(cpu=1, gpu=2, gpu_type="T4")
    assert hourly_rate(v, gpu) == pytest.approx(0.03 + 2 * 0.35)
    other = Footprint(gpu=1, gpu_type="H100")
    assert hourly_rate(v, other) == pytest.approx(0.5)  # the "default" GPU price
    assert hourly_rate(None, two_cpu_4g) == 0.0


def test_share_of_node_charges_the_largest_share_capped_at_a_node():
    v = version_on(parse_prices(TABLE, "share_of_node"), date(2026, 6, 1))
    mem_heavy = Footprint(cpu=1, memory_bytes=8 * GIB)  # 1/4 of the CPUs, 1/2 of the memory
    assert hourly_rate(v, mem_heavy, mode="share_of_node") == pytest.approx(0.2 * 0.5)
    huge = Footprint(cpu=16, memory_bytes=GIB)
    assert hourly_rate(v, huge, mode="share_of_node") == pytest.approx(0.2)
    gpu = Footprint(cpu=1, memory_bytes=GIB, gpu=1)
    assert hourly_rate(v, gpu, "gpu", mode="share_of_node") == pytest.approx(0.9)


def test_the_version_in_force_is_the_latest_effective_on_or_before_the_day():
    versions = parse_prices(list(reversed(TABLE)))
    assert [v.effective for v in versions] == [date(2026, 1, 1), date(2026, 11, 15)]
    assert version_on(versions, date(2025, 12, 31)) is None
    assert version_on(versions, date(2026, 11, 14)).cpu_hour == 0.03
    assert version_on(versions, date(2026, 11, 15)).cpu_hour == 0.05


def test_footprints_follow_the_billing_basis_and_fall_back():
    override = {"cpu_limit": 2, "cpu_guarantee": 0.5, "mem_limit": "4G"}
    assert partial_footprint(override, None, "requests") == {"cpu": 0.5, "memory_bytes": 4 * GIB}
    assert partial_footprint(override, None, "limits") == {"cpu": 2.0, "memory_bytes": 4 * GIB}
    gpus = {"extra_resource_limits": {"nvidia.com/gpu": 1}}
    assert partial_footprint(gpus, None, "requests") == {"gpu": 1, "gpu_type": "nvidia.com/gpu"}


PROFILES = [
    {
        "display_name": "Small",
        "default": True,
        "kubespawner_override": {"cpu_limit": 1, "mem_limit": "2G"},
        "profile_options": {
            "size": {
                "display_name": "Size",
                "choices": {
                    "normal": {"display_name": "Normal", "default": True},
                    "large": {"display_name": "Large",
                              "kubespawner_override": {"cpu_limit": 4, "mem_limit": "8G"}},
                },
            },
        },
    },
    {"display_name": "Workshop", "kubespawner_override": {"cpu_limit": 2}},
]  # fmt: skip


class FakeSpawner:
    cpu_limit = None
    mem_limit = None
    cpu_guarantee = None
    mem_guarantee = None


def test_the_form_shows_each_profile_and_choice_rate_and_the_total():
    profiles = normalize(PROFILES)
    data = page_data(profiles, None)
    cost = HubExtensionsCost(
        config=Config(
            {"HubExtensionsCost": {"prices": TABLE, "basis": "limits", "currency": "EUR"}}
        )
    )
    add_prices(
        data, profiles, FakeSpawner(), cost, "UTC", datetime(2026, 6, 1, tzinfo=timezone.utc)
    )
    small, workshop = data["profiles"]
    assert small["price"]["hour"] == pytest.approx(0.03 + 2 * 0.004)
    normal, large = small["options"][0]["choices"]
    assert normal["price"]["hour"] == pytest.approx(0.038)
    assert large["price"]["hour"] == pytest.approx(4 * 0.03 + 8 * 0.004)
    assert workshop["price"]["hour"] == 0.01
    assert data["pricing"]["version"]["cpu_hour"] == 0.03  # June: the first version
    html = render_form(data, service_prefix="/services/x/", spawn_url="/hub/spawn")
    assert "0.038 EUR per hour" in html
    assert "Large · 0.15 EUR/h" in html
    assert "Estimated cost:" in html
    assert "not an invoice" in html
    assert "kubespawner_override" not in html
    assert "mem_limit" not in html


def test_money_rounds_halves_up_like_the_browser():
    assert money(0.125, "USD") == "0.13 USD"
    assert money(0.0125, "USD") == "0.013 USD"
    assert money(0, "EUR") == "0.00 EUR"


def price_cases() -> dict:
    """Cases for the browser's formula: (pricing, footprint, profile) -> rate and its text."""
    cases = []
    for mode in ("resources", "share_of_node"):
        version = version_on(parse_prices(TABLE, mode), date(2026, 6, 1))
        from hub_extensions.profiles.prices import version_payload

        pricing = {"currency": "USD", "mode": mode, "overhead": 1.15,
                   "version": version_payload(version)}  # fmt: skip
        for fp, slug in [
            ({"cpu": 2, "memory_bytes": 4 * GIB}, "small"),
            ({"cpu": 1, "memory_bytes": 8 * GIB}, "small"),
            ({"cpu": 1, "gpu": 2, "gpu_type": "T4"}, "gpu"),
            ({"gpu": 1, "gpu_type": "H100"}, "x"),
            ({"cpu": 16}, "big"),
            ({"cpu": 2}, "workshop"),
            ({}, "empty"),
        ]:
            rate = hourly_rate(version, Footprint(**fp), slug, mode=mode, overhead=1.15)
            cases.append({"pricing": pricing, "footprint": fp, "profile": slug,
                          "rate": rate, "text": money(rate, "USD")})  # fmt: skip
    return {"generated_by": "tests/test_cost_prices.py (HUB_EXTENSIONS_WRITE_PRICE_CASES=1 rewrites it)",
            "cases": cases}  # fmt: skip


def test_the_browser_price_cases_are_current():
    expected = json.dumps(price_cases(), indent=1, sort_keys=True) + "\n"
    if os.environ.get("HUB_EXTENSIONS_WRITE_PRICE_CASES") == "1":
        CASES.write_text(expected)
    assert CASES.read_text() == expected, "rerun with HUB_EXTENSIONS_WRITE_PRICE_CASES=1"
