"""axe-core in a real browser: the accessibility checks of the browser tests.

axe-core is an npm package pinned in tests/browser/package-lock.json and installed by
`make axe`; it is injected into the page under test (Debian's Chromium through playwright),
never fetched from a CDN. Only the WCAG 2.0/2.1 A and AA rules run, the level BITV 2.0 asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from pipelines.settings import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_JS = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS = ("serious", "critical")

_RUN_AXE_JS = """async ([context, tags]) => {
    const result = await window.axe.run(context || document,
                                        {runOnly: {type: "tag", values: tags}});
    return result.violations;
}"""


def axe_missing_reason() -> str:
    """Why axe-core cannot run here, or "" when it can."""
    if AXE_JS.is_file():
        return ""
    return (f"axe-core fehlt ({AXE_JS.relative_to(REPO_ROOT)}); `make axe` installiert es mit "
            "npm aus tests/browser/package-lock.json")


def run_axe(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds in `page` (or in the part `context`, a CSS
    selector), as axe reports them: dicts with id, impact, help, helpUrl and nodes.

    axe goes into every frame too, so that the content of iframes (the chat inside the widget)
    is checked as well instead of being left out as untested."""
    for frame in page.frames:
        if not frame.evaluate("() => typeof window.axe !== 'undefined'"):
            frame.add_script_tag(path=AXE_JS)
    violations = page.evaluate(_RUN_AXE_JS, [context, list(WCAG_TAGS)])
    return cast(list[dict[str, Any]], violations)


def serious_violations(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Those that block people (axe impact serious or critical)."""
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One block per violation (rule, impact, what it asks, first targets) for a failed assert."""
    if not violations:
        return "keine Verstöße"
    lines: list[str] = []
    for violation in violations:
        nodes = violation.get("nodes") or []
        lines.append(f"- {violation.get('id')} [{violation.get('impact')}]: "
                     f"{violation.get('help')} ({len(nodes)} Stelle(n), "
                     f"{violation.get('helpUrl', '')})")
        for node in nodes[:3]:
            target = " » ".join(str(part) for part in node.get("target") or [])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary[:300]}")
    return "\n".join(lines)
