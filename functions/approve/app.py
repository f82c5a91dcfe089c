"""The staff API's resolver and the routers it serves.

Every staff route lives under ``/v1/staff`` in a router of its own area
(``staff_routes/<area>.py``), declares its rights with ``sms_platform.rights`` and has
pydantic request and response models, so that ``GET /v1/openapi.json`` documents it.
To add an area, add one ``include`` line below.
"""

from __future__ import annotations

from importlib import import_module

from sms_platform import http, rights

STAFF_PREFIX = "/v1/staff"
TITLE = "威海市社会保险业务短信服务平台 工作人员接口"
VERSION = "1.0.0"

app = rights.staff_resolver(enable_validation=True)
http.register_error_handlers(app)


def include(area: str) -> None:
    app.include_router(import_module(f"staff_routes.{area}").router, prefix=STAFF_PREFIX)


# ---- staff routers: one line per area -------------------------------------------------
include("session")
include("accounts")
include("trigger_rules")
include("hotline_desk")
include("subscription_items")
include("contacts")
include("templates")
include("signatures")
include("audit")
include("send_requests")
include("operations")
# ---------------------------------------------------------------------------------------


@app.get("/v1/openapi.json", include_in_schema=False)
@rights.public
def openapi_document():  # noqa: ANN201 - the document itself, not a model
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    document = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="工作人员门户使用的接口。除登录外，均需在 Authorization 头中携带 Bearer 访问令牌。",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )
    return Response(status_code=200, content_type=http.JSON, body=document)


def route_rights() -> list[rights.RouteRight]:
    """Every staff route with the roles it allows (the rights matrix test walks this)."""
    return rights.route_rights(app)
