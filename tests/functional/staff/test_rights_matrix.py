"""The whole rights matrix: every staff route the API serves (read from its route table, so
routes added later are covered without touching this file) with every role, with no token, an
expired token and a suspended account, through the authorizer and then the staff API exactly
as API Gateway chains them. A role the route does not allow gets 403; no token or an expired
one gets 401; a suspended account gets 403; an allowed role gets anything but 401 or 403."""

from __future__ import annotations

import re

from sms_platform.foundation.clock import get_clock
from sms_platform.staff import account_store, accounts
from sms_platform.staff.context import Role
from sms_platform.staff.rights import RouteRight

from tests.staff_fixtures import StaffDirectory, expired_token, model


def _routes() -> list[RouteRight]:
    from app import route_rights

    return route_rights()


def _sample_path(path: str) -> str:
    """A concrete path for a route pattern: every parameter gets a value naming nothing."""
    return re.sub(r"\{\w+\+?\}", "matrix-sample", path)


def _request(staff: StaffDirectory, route: RouteRight, token: str | None):
    body = {} if route.method in ("POST", "PUT", "PATCH") else None
    return staff.call(route.method, _sample_path(route.path), token=token, body=body)


def test_every_route_declares_its_rights_and_the_template_routes_it_accordingly():
    template = model()
    problems = []
    for route in _routes():
        if route.rights is None:
            problems.append(f"{route.method} {route.path}: declares no rights (use rights.allow/signed_in/public)")
            continue
        found = template.match_route(route.method, _sample_path(route.path))
        if found is None or found[0].function != "StaffApiFunction":
            problems.append(f"{route.method} {route.path}: template.yaml does not route it to the staff API")
            continue
        if route.rights.public and found[0].authorizer:
            problems.append(f"{route.method} {route.path}: public, but the template puts the authorizer in front")
        if not route.rights.public and not found[0].authorizer:
            problems.append(
                f"{route.method} {route.path}: needs a signed-in account, but the template has no authorizer"
            )
    assert problems == []


def test_every_role_gets_what_each_route_declares(staff):
    members = {role: staff.account(role) for role in Role}
    now = get_clock().now()
    contexts = {role: account_store.get_account(member.username).context(now) for role, member in members.items()}
    mismatches = []
    checked = 0

    for route in _routes():
        if route.rights is None or route.rights.public:
            continue  # refused to all (see above), or answered without a token (below)
        for role, member in members.items():
            answer = _request(staff, route, member.token)
            allowed = route.rights.allows(contexts[role])
            checked += 1
            if allowed and answer.status in (401, 403):
                mismatches.append(f"{route.method} {route.path} as {role}: {answer.status} {answer.text[:160]}")
            if not allowed and answer.status != 403:
                mismatches.append(f"{route.method} {route.path} as {role}: {answer.status}, expected 403")

    assert checked >= len(Role) * 10
    assert mismatches == []


def test_no_token_an_expired_token_and_a_suspended_account(staff):
    admin = staff.account(Role.permission_admin)
    member = staff.account(Role.city_reviewer)
    suspended = staff.account(Role.city_operator)
    stale = expired_token(member.token)
    now = get_clock().now()
    by_admin = account_store.get_account(admin.username).context(now)
    accounts.suspend_account(by_admin, suspended.username, "测试", now=now)
    mismatches = []

    for route in _routes():
        if route.rights is None:
            continue
        if route.rights.public:
            for label, token in (("no token", None), ("expired token", stale)):
                answer = _request(staff, route, token)
                if answer.status in (401, 403):
                    mismatches.append(f"{route.method} {route.path} public, {label}: {answer.status}")
            continue
        cases = (("no token", None, 401), ("expired token", stale, 401), ("suspended account", suspended.token, 403))
        for label, token, expected in cases:
            answer = _request(staff, route, token)
            if answer.status != expected:
                mismatches.append(f"{route.method} {route.path} {label}: {answer.status}, expected {expected}")

    assert mismatches == []
    # The member whose token was copied and expired still works: the refusals were the token's.
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200
