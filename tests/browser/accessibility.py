"""axe-core (bundled by ``axe-playwright-python``) run on a portal page: the serious and critical
violations it finds, each with the elements concerned, for an assertion that names them."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = {"serious", "critical"}
_AXE = Axe()


def violations(page: Any) -> list[str]:
    """The page's serious and critical axe violations, one line per rule and element."""
    answer = _AXE.run(page, options={"resultTypes": ["violations"]}).response
    found = []
    for rule in answer["violations"]:
        if rule["impact"] not in BLOCKING:
            continue
        for node in rule["nodes"]:
            summary = node.get("failureSummary", "").replace("\n", " ")
            found.append(f"{rule['id']} ({rule['impact']}): {node['target']} {node['html'][:160]} - {summary[:200]}")
    return found


def assert_accessible(page: Any, where: str) -> None:
    found = violations(page)
    assert not found, f"{where}: axe-core finds\n" + "\n".join(found)
