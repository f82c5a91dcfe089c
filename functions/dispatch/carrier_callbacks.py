"""Carrier pushes: delivery receipts (``/v1/carrier/receipts``) and replies (``/v1/carrier/inbound``).

The carrier cannot sign its pushes, so each carries the ``token`` query parameter, compared in
constant time with the configured callback token. Both answer ``{"code": 0, "msg": "成功"}``.
"""

from __future__ import annotations

import hmac
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from sms_platform.errors import Unauthenticated
from sms_platform.http import register_error_handlers
from sms_platform.observability import logger

app = APIGatewayRestResolver()
register_error_handlers(app)
log = logger()
ACCEPTED = {"code": 0, "msg": "成功"}


def _check_token() -> None:
    from sms_platform import secrets

    given = app.current_event.get_query_string_value("token", "") or ""
    expected = secrets.webhook_secret("carrier_callback_token")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthenticated("回调令牌无效")


def _items(model: Any) -> list[Any]:
    from pydantic import TypeAdapter, ValidationError
    from sms_platform.errors import BadRequest
    from sms_platform.http import validation_failed_from

    body = app.current_event.body
    if not body:
        raise BadRequest("请求内容为空，应为 JSON 数组")
    try:
        return TypeAdapter(list[model]).validate_json(body)
    except ValidationError as error:
        raise validation_failed_from(error.errors()) from None


@app.post("/v1/carrier/receipts")
def receipts() -> dict[str, Any]:
    from sms_platform.carrier_pushes import record_receipts
    from sms_platform.clock import get_clock
    from sms_platform.dispatcher import Tally
    from sms_platform.messages import CarrierReceipt

    _check_token()
    tally = Tally()
    outcome = record_receipts(_items(CarrierReceipt), get_clock().now(), tally)
    tally.emit()
    log.info("receipts recorded", extra={"applied": outcome.applied, "ignored": outcome.ignored})
    return ACCEPTED


@app.post("/v1/carrier/inbound")
def replies() -> dict[str, Any]:
    from sms_platform.carrier_pushes import record_replies
    from sms_platform.clock import get_clock
    from sms_platform.messages import CarrierReply

    _check_token()
    outcome = record_replies(_items(CarrierReply), get_clock().now())
    log.info("replies recorded", extra={"opted_out": outcome.opted_out, "kept": outcome.kept})
    return ACCEPTED


@log.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
