"""The staff API serves each request with the router of its area only (a quick cold start),
and the table from path prefix to area sends every route to the router that declares it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sms_platform.foundation import settings as platform_settings

ROOT = Path(__file__).resolve().parents[3]


def _sample_path(rule: str) -> str:
    """A concrete path for a powertools rule such as ``/v1/staff/accounts/<username>``."""
    return re.sub(r"<\w+>", "sample", rule)


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("/v1/staff/me", "accounts"),
        ("/v1/staff/me/totp/verification", "accounts"),
        ("/v1/staff/me/test-phone", "send_requests"),  # the longer prefix wins over /me
        ("/v1/staff/me/test-phone/verification", "send_requests"),
        ("/v1/staff/templates/t-1/versions/2/approval", "templates"),
        ("/v1/staff/template-reviews", "templates"),
        ("/v1/staff/forbidden-words/removal", "templates"),
        ("/v1/staff/session", "session"),
        ("/v1/staff/offices/rongcheng/suspension", "accounts"),
        ("/v1/staff/audiences/count", "contacts"),
        ("/v1/staff/event-grants/key-1/payment", "trigger_rules"),
        ("/v1/staff/meeting", None),  # a prefix matches whole path segments only
        ("/v1/staff/templatesx", None),
        ("/v1/staff", None),
        ("/v1/openapi.json", None),
        ("/v2/staff/me", None),
    ],
)
def test_a_path_goes_to_the_area_of_its_longest_prefix(path, area):
    import app

    assert app.area_of(path) == area


def _routes(resolver) -> list:
    import app

    return [r for r in resolver._static_routes + resolver._dynamic_routes if r.openapi_path != app.OPENAPI_PATH]


def test_every_route_of_every_router_is_reachable_through_its_area():
    import app

    declared = {}  # (method, path) -> (area, the function serving it)
    for area in app.AREAS:
        for (rule, methods, *_), func in app.router_of(area)._routes.items():
            declared.update({(method, app.STAFF_PREFIX + rule): (area, func) for method in methods})
    routes = _routes(app.full_app())
    assert len(routes) == len(declared) > 50

    problems = []
    for route in routes:
        sample = _sample_path(route.path)
        owner, func = declared[(route.method, route.path)]
        area = app.area_of(sample)
        if area != owner:
            problems.append(f"{route.method} {sample}: sent to {area!r}, declared in {owner!r}")
            continue
        if not any(r.func is func for r in _routes(app.area_resolver(area))):
            problems.append(f"{route.method} {sample}: the {area!r} resolver lacks it")
    assert problems == []


def test_no_router_serving_requests_is_in_the_openapi_app_too():
    # A router reads its request through the resolver that included it: included in two, it
    # would read through the one that included it last.
    import app

    serving = {id(r.func) for area in app.AREAS for r in _routes(app.area_resolver(area))}
    documented = {id(r.func) for r in _routes(app.full_app())}
    assert len(documented) > 50 and serving.isdisjoint(documented)


@pytest.mark.parametrize(
    ("prefixes", "message"),
    [
        ((), "needs the path prefixes"),
        (("/me",), "already served by 'accounts'"),
        (("me",), "must start with '/'"),
        (("/reports/",), "must start with '/'"),
    ],
)
def test_an_area_line_with_missing_or_taken_prefixes_is_refused(prefixes, message):
    import app

    before = dict(app.AREAS)
    with pytest.raises(ValueError, match=re.escape(message)):
        app.include("reports", *prefixes)
    assert before == app.AREAS


COLD_REQUEST = """
import json, sys
import staff_api
from tests.conftest import LambdaContext
from tests.events import api_event

answers = [staff_api.handler(api_event("GET", "/v1/staff/me"), LambdaContext())]
loaded_after_me = sorted(m for m in sys.modules if m.startswith(("staff_routes.", "sms_platform.")))
answers.append(staff_api.handler(api_event("GET", "/v1/staff/nowhere"), LambdaContext()))
answers.append(staff_api.handler(api_event("GET", "/v1/staff/templates"), LambdaContext()))
answers.append(staff_api.handler(api_event("GET", "/v1/openapi.json"), LambdaContext()))
print(json.dumps({"answers": answers, "loaded_after_me": loaded_after_me}))
"""


def test_a_cold_request_loads_only_its_own_area_and_the_document_still_lists_every_route():
    paths = [str(ROOT), str(ROOT / "layers/shared"), str(ROOT / "functions/approve")]
    # staff_api checks its settings at import; names stand in for the template's resources.
    placeholders = {name: f"test-{name.lower()}" for name in platform_settings.PLATFORM}
    env = {**os.environ, **placeholders, "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run(
        [sys.executable, "-c", COLD_REQUEST], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    me, nowhere, templates, document = report["answers"]

    assert me["statusCode"] == 401
    assert json.loads(me["body"])["error"]["code"] == "unauthenticated"
    loaded = set(report["loaded_after_me"])
    assert "staff_routes.accounts" in loaded
    for other in ("staff_routes.contacts", "staff_routes.templates", "staff_routes.subscription_items"):
        assert other not in loaded
    subscriptions = [f"sms_platform.sources.{m}" for m in ("subscriptions", "subscription_items", "subscription_store")]
    for domain in ("sms_platform.contacts", "sms_platform.templates", *subscriptions):
        assert domain not in loaded

    assert nowhere["statusCode"] == 404
    assert json.loads(nowhere["body"]) == {"error": {"code": "not_found", "message": "没有这个接口"}}
    assert templates["statusCode"] == 401  # another area, same rights check
    assert document["statusCode"] == 200
    paths = json.loads(document["body"])["paths"]
    assert {"/v1/staff/me", "/v1/staff/templates", "/v1/staff/contacts", "/v1/staff/subscription-items"} <= set(paths)
