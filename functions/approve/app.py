"""The staff API's resolvers and the routers they serve.

Every staff route lives under ``/v1/staff`` in a router of its own area
(``staff_routes/<area>.py``), declares its rights with ``sms_platform.staff.rights`` and has
pydantic request and response models, so that ``GET /v1/openapi.json`` documents it.
To add an area, add one ``include`` line below: the area and the paths (under ``/v1/staff``)
its router serves.

The document describes the contract routes too, which other functions serve (hang-ups, events,
subscriptions, payments, carrier pushes, contact batches): ``sms_platform.contracts`` declares
them and is merged in when the document is built. ``/v1/docs`` is the page people read it in
(``api_docs``).

A request only imports the router of its own area (and the domain code behind it): a cold
``GET /v1/staff/me`` does not load the address book or the templates. ``resolve`` picks the
area by the longest matching path prefix and builds that area's resolver on first use. The
OpenAPI document, rarely asked for, builds the full app with every area.

A powertools Router reads the request it serves through the resolver that included it, so no
Router is included in two resolvers: the full app gets routers of its own, from each area
module run once more apart from the one serving requests (``fresh_router``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from importlib import import_module
from typing import Any

import api_docs
from sms_platform.foundation import http
from sms_platform.staff import rights

STAFF_PREFIX = "/v1/staff"
OPENAPI_PATH = "/v1/openapi.json"
TITLE = "威海市社会保险业务短信服务平台接口"
DESCRIPTION = (
    "平台对外提供的全部接口。工作人员接口（/v1/staff/...）在 Authorization 头中携带 Bearer 访问令牌（登录除外）；"
    "12333 挂机短信和支付通知以 HMAC-SHA256 签名；业务系统和服务渠道使用 X-Api-Key；运营商推送在地址中携带 token。"
    '所有错误答复均为 {"error": {"code", "message"}}，调用方的问题答复 4xx。'
)
VERSION = "1.0.0"

# area -> the path prefixes under STAFF_PREFIX its router serves (filled by the include lines)
AREAS: dict[str, tuple[str, ...]] = {}


def include(area: str, *prefixes: str) -> None:
    """Serve the router of ``staff_routes/<area>.py`` for paths under ``prefixes``."""
    if not prefixes:
        raise ValueError(f"include({area!r}) needs the path prefixes its router serves, e.g. '/{area}'")
    taken = {prefix: owner for owner, owned in AREAS.items() for prefix in owned}
    for prefix in prefixes:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"prefix {prefix!r} of {area!r} must start with '/' and not end with one")
        if prefix in taken:
            raise ValueError(f"prefix {prefix!r} of {area!r} is already served by {taken[prefix]!r}")
    AREAS[area] = tuple(prefixes)


# ---- staff routers: one line per area, with the paths it serves --------------------------
include("session", "/session")
include("accounts", "/me", "/offices", "/roles", "/accounts", "/account-settings")
include("trigger_rules", "/trigger-rules", "/event-grants", "/event-types")
include("hotline_desk", "/hotline")
include("subscription_items", "/subscription-items", "/subscription-settings")
include("contacts", "/contacts", "/audiences", "/contact-grants")
include("number_checks", "/number-checks", "/number-blocks")
include("follow_ups", "/follow-ups")
include("templates", "/templates", "/template-reviews", "/forbidden-words")
include("signatures", "/signatures")
include("audit", "/audit")
include("send_requests", "/send-requests", "/me/test-phone")
include("value_sheets", "/value-sheets")
include("operations", "/dead-letters", "/delivery-reports", "/message-lookup")
include("content_check", "/templates/content-check")
include("replies", "/replies")
include("queue_lanes", "/operations")
include("reports", "/reports")
include("audit_export", "/audit/export")
include("recipients", "/recipients", "/recipient-exports")
include("carriers", "/carriers")
# ---------------------------------------------------------------------------------------


def area_of(path: str) -> str | None:
    """The area whose router serves ``path`` (a full request path), by its longest prefix."""
    if not path.startswith(STAFF_PREFIX + "/"):
        return None
    rest = path[len(STAFF_PREFIX) :]
    best: tuple[int, str] | None = None
    for area, prefixes in AREAS.items():
        for prefix in prefixes:
            if (rest == prefix or rest.startswith(prefix + "/")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), area)
    return best[1] if best else None


def router_of(area: str) -> Any:
    """The router serving the area's requests: its module's, imported once."""
    return import_module(f"staff_routes.{area}").router


def fresh_router(area: str) -> Any:
    """A router of the area for the full app alone: the area's module run anew, left out of
    ``sys.modules``, so that its router and route functions are not the ones serving requests.

    While it runs it stands in ``sys.modules`` under its own name, as during an import, so that
    its pydantic models resolve their annotations in it, and not in the module serving requests.
    """
    name = f"staff_routes.{area}"
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    module = importlib.util.module_from_spec(spec)
    serving = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if serving is None:
            del sys.modules[name]
        else:
            sys.modules[name] = serving
    return module.router


def _new_resolver() -> Any:
    resolver = rights.staff_resolver(enable_validation=True)
    http.register_error_handlers(resolver)
    return resolver


@cache
def area_resolver(area: str | None) -> Any:
    """The resolver of one area (None: no area, every request answered 404), built once."""
    resolver = _new_resolver()
    if area is not None:
        resolver.include_router(router_of(area), prefix=STAFF_PREFIX)
    return resolver


@cache
def full_app() -> Any:
    """Every router in one resolver, with the OpenAPI document (built once, when first asked)."""
    app = _new_resolver()
    for area in AREAS:
        app.include_router(fresh_router(area), prefix=STAFF_PREFIX)

    @app.get(OPENAPI_PATH, include_in_schema=False)
    @rights.public
    def openapi_document():  # noqa: ANN202 - the document itself, not a model
        from aws_lambda_powertools.event_handler import Response
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
        from sms_platform.contracts import openapi

        document = app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
            security=[{"bearer": []}],
        )
        described = openapi.merged(http.declare_refusals(json.loads(document)))
        return Response(status_code=200, content_type=http.JSON, body=json.dumps(described, ensure_ascii=False))

    return app


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway proxy event with the resolver of its area."""
    path = event.get("path") or ""
    if path == OPENAPI_PATH:
        return full_app().resolve(event, context)
    if api_docs.is_docs_path(path):
        return api_docs.resolve(event)
    return area_resolver(area_of(path)).resolve(event, context)


def route_rights() -> list[rights.RouteRight]:
    """Every staff route with the roles it allows (the rights matrix test walks this)."""
    return rights.route_rights(full_app())
