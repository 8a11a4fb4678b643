"""axe-core (npm) run inside a Playwright page: accessibility violations a user would hit."""

from __future__ import annotations

from .common import ROOT, Unavailable

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def violations(page, impacts=SEVERE) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not AXE.is_file():
        raise Unavailable("axe-core is not installed: run npm ci at the repository root")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(_RUN) if v["impact"] in impacts]
