"""axe-core in a Playwright page: the WCAG 2.2 AA rules, violations as plain dicts.

axe-core comes from the npm registry (tests/peers/axe/package.json, installed by
`make test`'s node-deps). It is evaluated through the DevTools protocol rather than
added as a script tag, so a page whose Content-Security-Policy forbids inline
scripts (the capture app's does) is checked as it is, without `bypass_csp`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = (
    Path(__file__).resolve().parent / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
)
# WCAG 2.0, 2.1 and 2.2, levels A and AA: what the hub's pages promise.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async ([context, tags]) => {
  const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
  const result = await axe.run(context || document, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


def axe_violations(
    page: Any, context: str | None = None, *, tags: list[str] | None = None
) -> list[dict]:
    """The axe-core violations of what `page` shows now (or of the `context` selector).

    Each is `{"id", "impact", "help", "nodes": [{"target", "summary"}]}`; hidden
    elements are not checked, so call it once per screen.
    """
    if not AXE_JS.is_file():
        raise RuntimeError(f"{AXE_JS} is missing: npm ci --prefix tests/peers/axe")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(_RUN, [context, tags or WCAG_22_AA])


def describe(violations: list[dict]) -> str:
    """One line per failing node, for an assertion message."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}: {node['summary']}"
        for v in violations
        for node in v["nodes"]
    )
