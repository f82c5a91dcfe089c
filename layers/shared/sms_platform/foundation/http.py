"""Turning refusals into the contract's JSON errors, in one place for every API function."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sms_platform.foundation import validation_messages
from sms_platform.foundation.errors import NotFound, PlatformError, ValidationFailed

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json; charset=utf-8"


def error_body(error: PlatformError) -> dict[str, Any]:
    return error.to_body()


def describe_validation_errors(errors: list[dict[str, Any]], roots: Any = None) -> list[dict[str, str]]:
    """pydantic's error list as ``[{"field", "message"}]`` in Chinese, each field named by its
    path in the request and its label (``validation_messages``), without echoing the input
    value (it could be a phone or ID number). ``roots``: the model the errors' locations start
    in, or a request's parameters (``request_roots``)."""
    return validation_messages.describe(errors, roots)


def validation_failed_from(errors: list[dict[str, Any]], model: Any = None, *, roots: Any = None) -> ValidationFailed:
    """The 422 for pydantic's ``errors`` of a body validated as ``model`` (or below ``roots``)."""
    details = describe_validation_errors(errors, validation_messages.model_root(model) if model else roots)
    first = details[0] if details else {"field": "body", "message": "请求内容不符合要求"}
    # The field's path stays in the message for integrators, who read it without a form.
    more = f"；共 {len(details)} 处需要修改" if len(details) > 1 else ""
    message = f"{first['message']}（字段 {first['field']}{more}）"
    return ValidationFailed(message, field=first["field"], details=details)


def request_roots(route: Any) -> dict[str, Any]:
    """Where a powertools route's error locations start: ``body`` (the one body model, or its
    named parts when several) and each kind of parameter by name."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return {}
    Node, Fields = validation_messages.Node, validation_messages.Fields

    def named(params: list[Any]) -> Any:
        return Node(Fields({p.alias: Node(p.field_info.annotation, p.field_info, p.name) for p in params}))

    roots = {kind: named(getattr(dependant, f"{kind}_params", [])) for kind in ("query", "path", "header", "cookie")}
    body = list(dependant.body_params or [])
    if len(body) == 1 and not getattr(body[0].field_info, "embed", None):
        roots["body"] = Node(body[0].field_info.annotation, body[0].field_info, body[0].name)
    elif body:
        roots["body"] = named(body)
    return roots


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "机器可读的错误代码，如 validation_failed"},
                "message": {"type": "string", "description": "给人看的中文说明"},
                "field": {"type": "string", "description": "出错的字段"},
                "details": {"description": "逐项说明（如每个字段的错误）"},
            },
        }
    },
}
REFUSALS = {
    400: "请求无法读取（如编码错误）",
    401: "未登录或登录已失效",
    403: "无权进行此操作",
    404: "对象不存在",
    409: "与当前状态冲突",
    410: "已过期或已失效",
    413: "请求体过大",
    415: "请求体须为 JSON",
    422: "请求内容不符合要求",
    429: "次数超过限制",
}
# Every route may refuse a request it cannot read, a caller it does not know or allow, and a
# body that fails its checks; the rest depend on what the route does.
EVERY_ROUTE = (400, 401, 403, 413, 415, 422)
WITH_PATH_PARAMETERS = (404, 409)  # a named thing may not exist, or not be ready (an import's report)
CHANGING_STATE = (404, 409, 410, 429)


def declare_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (an OpenAPI dict) with the refusals each operation may answer declared in
    the ``{"error": ...}`` shape, so that callers and contract tests know every status."""
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = set(EVERY_ROUTE)
            if "{" in path:
                statuses.update(WITH_PATH_PARAMETERS)
            if method != "get":
                statuses.update(CHANGING_STATE)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), {"description": REFUSALS[status], **reference})
            if "422" in responses:  # powertools' own validation shape is answered as the error shape
                responses["422"] = {"description": REFUSALS[422], **reference}
            # A refusal a route declares itself (powertools fills it with the route's answer
            # model) is answered in the error shape too.
            for status in [s for s in responses if str(s)[0] == "4"]:
                description = responses[status].get("description") or REFUSALS.get(int(status), "")
                responses[status] = {"description": description, **reference}
    return document


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every refusal, powertools' own validation errors included, to ``{"error": ...}``."""
    # deferred: the event handler (~15 ms) stays out of the staff API's cold import, which loads this module
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    def respond(error: PlatformError) -> Response:
        return Response(
            status_code=error.status, content_type=JSON, body=json.dumps(error.to_body(), ensure_ascii=False)
        )

    @app.exception_handler(PlatformError)
    def _platform_error(error: PlatformError) -> Response:
        return respond(error)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response:
        roots = request_roots(app.context.get("_route"))
        return respond(validation_failed_from(list(error.errors()), roots=roots))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return respond(NotFound("没有这个接口"))
