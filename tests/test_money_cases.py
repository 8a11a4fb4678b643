"""Money text: every Python path that writes an amount for users gives the shared cases' text.

tests/data/money_cases.json is also read by frontend/src/money-cases.test.ts (the spawn form's
and the cost page's copies), so server pages and scripts cannot drift apart. Not covered: the
cost widget's page as a whole (tests/test_cost_widget*.py) and amounts of 1e21 or more, where
the browser's toFixed() switches to an exponent (no price or spend comes near).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub_extensions.cost import prices, widget
from hub_extensions.profiles.form import _env

pytestmark = pytest.mark.unit

CASES = json.loads((Path(__file__).parent / "data" / "money_cases.json").read_text())["cases"]
IDS = [f"{c['amount']!r} {c['currency']}" for c in CASES]


def test_cases_cover_both_precisions_and_rounding() -> None:
    texts = [c["text"].split()[0] for c in CASES]
    assert any(len(t.split(".")[1]) == 2 for t in texts)
    assert any(len(t.split(".")[1]) == 3 for t in texts)
    assert {"0.125", "1.005"} <= {repr(c["amount"]) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cost_money(case: dict) -> None:
    """The function behind the cost widget's amounts and the form's prices."""
    assert prices.money(case["amount"], case["currency"]) == case["text"]
    assert widget.money(case["amount"], case["currency"]) == case["text"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_spawn_form_template_money(case: dict) -> None:
    """The `money()` the spawn form's template calls, rendered as the page shows it."""
    template = _env().from_string("{{ money(amount, currency) }}")
    assert template.render(amount=case["amount"], currency=case["currency"]) == case["text"]
