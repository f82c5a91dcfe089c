"""The portal shows each page, and each part of a page, to the roles the staff API allows on the
routes it is for: its table of those rights (portal/js/rights.js) is the API's, and every page
names the routes it calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[3] / "portal" / "js"
STAFF_PREFIX = "/v1/staff"
ROUTE = re.compile(r"""["'`]((?:GET|POST|PUT|DELETE) /[^"'`]*)["'`]""")
PAGE = re.compile(r'\{ path: "(\w+)", title: "[^"]*", calls: (ALL|\[[^\]]*\]), module: "([^"]+)" \}')


def portal_route_roles() -> dict[str, set[str]]:
    text = (PORTAL / "rights.js").read_text(encoding="utf-8")
    table = re.search(r"export const ROUTE_ROLES = (\{.*?\n\});", text, re.DOTALL)
    assert table, "rights.js: ROUTE_ROLES is not where it was"
    return {route: set(roles) for route, roles in json.loads(table.group(1)).items()}


def api_route_roles() -> dict[str, set[str] | None]:
    """The API's routes under /v1/staff ("METHOD /path") and the roles each allows (None: any account)."""
    from app import route_rights

    found = {}
    for right in route_rights():
        if right.path.startswith(STAFF_PREFIX + "/"):
            roles = right.rights.roles if right.rights else None
            found[f"{right.method} {right.path[len(STAFF_PREFIX) :]}"] = {r.value for r in roles} if roles else None
    return found


def pages() -> list[tuple[str, list[str] | None, str]]:
    found = PAGE.findall((PORTAL / "app.js").read_text(encoding="utf-8"))
    assert len(found) > 10, "app.js: PAGES is not where it was"
    return [(path, None if calls == "ALL" else json.loads(calls), module) for path, calls, module in found]


def routes_named_in(path: Path) -> set[str]:
    return set(ROUTE.findall(path.read_text(encoding="utf-8")))


def test_the_portals_table_holds_the_roles_the_api_allows():
    api = api_route_roles()
    differ = {
        route: (sorted(roles), sorted(api[route]) if api.get(route) else api.get(route, "no such route"))
        for route, roles in portal_route_roles().items()
        if api.get(route) != roles
    }
    assert differ == {}


def test_every_route_the_portal_names_is_in_its_table_and_every_entry_is_used():
    table = portal_route_roles()
    named = {
        f"{path.relative_to(PORTAL)}: {route}"
        for path in PORTAL.rglob("*.js")
        if path.name != "rights.js"
        for route in routes_named_in(path)
    }
    assert sorted(n for n in named if n.split(": ", 1)[1] not in table) == []
    assert sorted(set(table) - {n.split(": ", 1)[1] for n in named}) == []


@pytest.mark.parametrize(("page", "calls", "module"), pages(), ids=lambda value: str(value)[:20])
def test_each_page_is_shown_to_the_roles_the_api_allows_on_the_routes_it_calls(page, calls, module):
    if calls is None:  # every account (its own security settings)
        return
    portal, api = portal_route_roles(), api_route_roles()
    shown_to = set().union(*(portal[route] for route in calls))
    allowed = set().union(*(api[route] or set() for route in calls))
    assert shown_to == allowed
    # The routes a page is for are routes its module calls (by path: "my work" lists what its
    # reader wrote, from the same resources).
    source = (PORTAL / module).read_text(encoding="utf-8")
    for route in calls:
        path = route.split(" ", 1)[1]
        pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{\w+\}", r"\\$\\{[^}]+\\}", pattern)
        assert re.search(rf"""["'`]{pattern}["'`?]""", source), f"{module} does not call {path}"
