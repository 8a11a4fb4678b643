"""helm-snippets/grafana-dashboard-hub-extensions.json is an importable Grafana dashboard whose
queries use only series the suite really exports.

The real names come from the metric classes themselves (UsageMetrics, CostMetrics on a fresh
registry, fed one observation each), so renaming a metric fails here. Not covered: running the
queries in Prometheus or rendering the dashboard in Grafana (neither runs on these machines).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from hub_extensions.cost.hub import CostMetrics
from hub_extensions.usage.ledger import TickTally
from hub_extensions.usage.metrics import UsageMetrics

pytestmark = pytest.mark.unit

DASHBOARD = (
    Path(__file__).resolve().parents[1] / "helm-snippets" / "grafana-dashboard-hub-extensions.json"
)
DS_UID = "${DS_PROMETHEUS}"
# names in an expression: identifiers that are not functions, keywords, labels or values
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
                "and", "or", "unless", "le"}  # fmt: skip


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Every sample name the suite's metrics produce once each has seen one observation."""
    registry = CollectorRegistry()
    usage = UsageMetrics(registry)
    cost = CostMetrics(registry, "EUR", per_user=True)
    usage.set_active({"daily": 1, "weekly": 1, "monthly": 1}, {("weekly", "class"): 1})
    usage.set_running([("ada", "python")])
    usage.observe_end("python", "cull", 600)
    tally = TickTally()
    tally.add("ada", "python", ("class",), 0.5, 3600.0)
    cost.tick(tally)
    return {s.name for family in registry.collect() for s in family.samples}


def panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return [p for p in out if p["type"] != "row"]


def metric_names(expr: str) -> set[str]:
    bare = re.sub(r'"[^"]*"', '""', expr)  # label values
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range selectors ([$__rate_interval])
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)  # grouping labels
    words = {
        m[0] for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", bare)
        if not bare[m.end():].lstrip().startswith("(")  # a function
    }  # fmt: skip
    return {w for w in words if w not in PROMQL_WORDS and not w.startswith("__")}


def test_it_is_an_importable_dashboard_with_a_prometheus_input(dashboard):
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"]
    assert dashboard["title"]
    [ds_input] = dashboard["__inputs"]
    assert ds_input["name"] == "DS_PROMETHEUS"
    assert (ds_input["type"], ds_input["pluginId"]) == ("datasource", "prometheus")
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        where = f"panel {panel['title']!r}"
        assert panel["datasource"] == {"type": "prometheus", "uid": DS_UID}, where
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}, where
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, where
        assert panel["targets"], f"{where} has no query"
        for target in panel["targets"]:
            assert target["expr"].strip(), where
            assert target["datasource"]["uid"] == DS_UID, where
            assert re.fullmatch(r"[A-Z]", target["refId"]), where


def test_it_shows_what_an_admin_asks_of_usage_and_cost(dashboard):
    titles = [p["title"] for p in panels(dashboard)]
    assert titles == [
        "Active users (daily, weekly, monthly)",
        "Active users by group",
        "Running sessions by profile",
        "Session duration by profile (p50, p90)",
        "Session ends by reason",
        "Ledger write failures",
        "Cost rate per hour by profile",
        "Cost accrued by profile (dashboard range)",
        "Cost accrued by group (dashboard range)",
        "Budget refusals and check failures",
    ]
    exprs = {p["title"]: [t["expr"] for t in p["targets"]] for p in panels(dashboard)}
    quantiles = exprs["Session duration by profile (p50, p90)"]
    assert [q.split(",")[0] for q in quantiles] == [
        "histogram_quantile(0.5",
        "histogram_quantile(0.9",
    ]
    assert all("hub_extensions_session_duration_seconds_bucket" in q for q in quantiles)
    assert "by (end_reason)" in exprs["Session ends by reason"][0]
    for title in (
        "Cost accrued by profile (dashboard range)",
        "Cost accrued by group (dashboard range)",
    ):
        assert "increase(hub_extensions_cost_total" in exprs[title][0]
        assert "[$__range]" in exprs[title][0]


def test_every_series_queried_is_one_the_suite_exports(dashboard, exported):
    used = set()
    for panel in panels(dashboard):
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, f"no metric found in {target['expr']!r}"
            used |= names
    assert used - exported == set(), f"queried but not exported: {sorted(used - exported)}"
    # and the dashboard covers every series an admin needs (all but the per-user ones)
    wanted = {
        n for n in exported
        if not n.endswith(("_created", "_sum")) and "_user_" not in n
    }  # fmt: skip
    assert wanted - used == set(), f"exported but not on the dashboard: {sorted(wanted - used)}"


def test_the_name_check_sees_a_renamed_metric():
    assert metric_names('sum by (profile) (rate(hub_extensions_cost_totl{group=""}[5m]))') == {
        "hub_extensions_cost_totl"
    }
    assert metric_names(
        "histogram_quantile(0.9, sum by (profile, le) (rate(x_bucket[$__rate_interval])))"
    ) == {"x_bucket"}
