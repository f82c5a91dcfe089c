"""Turning refusals into the contract's JSON errors, in one place for every API function."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sms_platform.errors import NotFound, PlatformError, ValidationFailed

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json; charset=utf-8"


def error_body(error: PlatformError) -> dict[str, Any]:
    return error.to_body()


def describe_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """pydantic's error list as ``[{"field", "message"}]``, without echoing the input value
    (it could be a phone or ID number)."""
    described = []
    for err in errors:
        location = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        described.append({"field": ".".join(location) or "body", "message": err.get("msg", "无效的值")})
    return described


def validation_failed_from(errors: list[dict[str, Any]]) -> ValidationFailed:
    details = describe_validation_errors(errors)
    first = details[0] if details else {"field": "body", "message": "无效的值"}
    return ValidationFailed(
        f"请求内容不符合要求：{first['field']}：{first['message']}", field=first["field"], details=details
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every refusal, powertools' own validation errors included, to ``{"error": ...}``."""
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
        return respond(validation_failed_from(list(error.errors())))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return respond(NotFound("没有这个接口"))
