"""axe-core (axe-playwright-python) over a page as Chromium shows it: WCAG 2.1 A and AA."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: The rules of WCAG 2.0 and 2.1, levels A and AA.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE = Axe()


def violations(page: Page) -> list[str]:
    """Every WCAG 2.1 A/AA violation axe finds on the page, one line each (rule, what, where)."""
    page.wait_for_load_state("load")
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    found: list[dict[str, Any]] = _AXE.run(page, options=options).response["violations"]
    return [
        f"{page.url}: {rule['id']} ({rule['help']}): "
        + "; ".join(
            f"{' '.join(node['target'])} {node.get('failureSummary', '')!r}"
            for node in rule["nodes"][:5]
        )
        for rule in found
    ]


class Audit:
    """Collects the violations of every page looked at, and its screenshot, for one test."""

    def __init__(self, shots: Any) -> None:
        self.shots = shots
        self.found: list[str] = []
        self.pages: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        self.found.extend(violations(page))
        self.pages.append(name)
        self.shots.take(page, name)

    def assert_clean(self) -> None:
        assert self.found == [], "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(self.found)
