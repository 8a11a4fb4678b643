"""The cost widget's HTML is rendered once with its data and cached (issue #14, item 1).

A real SQLite ledger and the real templates: the widget a page gets within the cache time
costs no query and no template work; what it writes is what the `cost_widget` macro writes,
escaped. Not covered here: JupyterHub's own page around it (tests/test_cost_browser.py).
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, PrefixLoader
from markupsafe import Markup
from sqlalchemy import event

from hub_extensions.cost import widget as widget_module
from hub_extensions.cost.pricing import Pricing
from hub_extensions.cost.widget import TEMPLATES, CostWidget, WidgetVar
from hub_extensions.usage import Ledger

from .test_cost_ledger import GIB, at, cost_config, run

pytestmark = pytest.mark.unit


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", timezone="UTC")
    led.start()
    led.pricing = Pricing.from_config(cost_config())
    yield led
    led.close()


def hub_env() -> Environment:
    """Like JupyterHub's page environment: autoescape on, async, the suite's template path."""
    page = {
        "page.html": "<main>{{ hub_extensions_cost }}</main>",
        "admin.html": (
            '{% from "hub_extensions/cost_widget.html" import cost_widget %}'
            "<main>{{ cost_widget(hub_extensions_cost) }}</main>"
        ),
    }
    loader = ChoiceLoader([DictLoader(page), FileSystemLoader(str(TEMPLATES))])
    return Environment(loader=loader, autoescape=True, enable_async=True)


def test_a_page_within_the_cache_time_costs_no_query_and_no_template_work(ledger, monkeypatch):
    name = "<b>gpu</b>"  # a profile slug is the admin's text: it must be escaped
    run(ledger, "ann", at(2026, 11, 3, 9), 2, profile=name, mem=2 * GIB)
    cost = cost_config()
    var = WidgetVar(lambda: ledger.engine, cost, ZoneInfo("UTC"))
    monkeypatch.setattr(widget_module, "datetime", _Frozen)
    queries: list[str] = []
    event.listen(ledger.engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    renders = []
    real = widget_module._macro()
    monkeypatch.setattr(widget_module, "_macro", lambda: lambda d: renders.append(d) or real(d))
    user = SimpleNamespace(name="ann", groups=[])

    first = var(user)
    assert isinstance(first, CostWidget)
    assert queries
    assert len(renders) == 1
    read = len(queries)
    again = [var(user) for _ in range(20)]
    assert all(w is first for w in again)
    assert len(queries) == read  # nothing read
    assert len(renders) == 1  # nothing rendered

    html = str(first.html)
    assert "&lt;b&gt;gpu&lt;/b&gt;" in html
    assert "<b>gpu" not in html
    assert "This month (2026-11)" in html
    assert 'class="card my-3 hx-cost"' in html
    env = hub_env()
    page = env.get_template("page.html").render(hub_extensions_cost=first)
    assert page == f"<main>{html}</main>"  # written as it is, not escaped a second time
    # an admin's template that calls the macro gets the same HTML, without re-rendering it
    admin = env.get_template("admin.html").render(hub_extensions_cost=first)
    assert admin == page
    # the macro on plain data (what the cache renders from) writes that HTML too
    plain = env.get_template("admin.html").render(hub_extensions_cost=dict(first))
    assert plain.replace("\n", "").replace(" ", "") == page.replace("\n", "").replace(" ", "")

    # past the cache time the ledger is read and the HTML rendered again
    stamp, cached = var._cache["ann"]
    var._cache["ann"] = (stamp - widget_module.CACHE_SECONDS - 1, cached)
    assert var(user) is not first
    assert len(queries) > read
    assert len(renders) == 2


class _Frozen:
    """The widget reads the clock itself: inside the ledger's month."""

    @staticmethod
    def now(tz=None):
        return at(2026, 11, 20, 12) + timedelta(0)


@pytest.mark.parametrize(
    ("extra", "above"),
    [
        ({}, False),
        ({"budget": {"over": False, "warning": None}}, False),
        ({"budget": {"over": False, "warning": 0.8}}, True),
        ({"budget": {"over": True, "warning": None}}, True),
        ({"stop_in_minutes": 12}, True),
    ],
)
def test_the_spawn_page_shows_a_warning_widget_above_the_form_and_others_below(extra, above):
    widget = CostWidget({"month": "2026-11", **extra})
    widget.html = Markup('<section class="hx-cost">cost</section>')
    # JupyterHub's spawn.html, reduced to its blocks: the heading, then the form
    parent = (
        "{% block main %}{% block heading %}<h1>Server Options</h1>{% endblock %}"
        "<form id=spawn_form></form>{% endblock %}"
    )
    loader = ChoiceLoader(
        [
            PrefixLoader({"templates": DictLoader({"spawn.html": parent})}),
            FileSystemLoader(str(TEMPLATES)),
        ]
    )
    page = Environment(loader=loader, autoescape=True).get_template("spawn.html")
    html = page.render(hub_extensions_cost=widget)
    assert html.count('<section class="hx-cost">cost</section>') == 1
    assert (html.index("hx-cost") < html.index("spawn_form")) is above
    assert "hx-cost" not in page.render(hub_extensions_cost=None)
