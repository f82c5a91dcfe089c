"""Carrier pushes: Alibaba's delivery receipts (``/v1/carrier/receipts``) and replies
(``/v1/carrier/inbound``), and Tencent's (``/v1/carrier/tencent/receipts``, ``/v1/carrier/tencent/inbound``).

A carrier cannot sign its pushes, so each carries the ``token`` query parameter, compared in
constant time with the configured callback token. A push is checked whole (a malformed one is
refused with 422 and nothing is queued), then queued in pieces for ``carrier_push_worker`` and
answered at once, however many items it holds: ``{"code": 0, "msg": "成功"}`` to Alibaba,
``{"result": 0, "errmsg": "OK"}`` to Tencent.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from sms_platform.foundation import request_bodies, settings
from sms_platform.foundation.errors import Unauthenticated
from sms_platform.foundation.http import register_error_handlers
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.WEBHOOKS, "PUSH_QUEUE_URL")

app = APIGatewayRestResolver()
register_error_handlers(app)
log = logger()
ACCEPTED = {"code": 0, "msg": "成功"}
TENCENT_ACCEPTED = {"result": 0, "errmsg": "OK"}


def _check_token() -> None:
    from sms_platform.foundation import secrets, signed_webhooks
    from sms_platform.foundation.clock import get_clock

    given = app.current_event.get_query_string_value("token", "") or ""

    def check(accepted: list[str]) -> None:
        # Any of the accepted tokens: the one in force, and the one it replaced while it is kept.
        if not signed_webhooks.same_token(accepted, given):
            raise Unauthenticated("回调令牌无效")

    secrets.check_webhook("carrier_callback_token", get_clock().now(), check)


def _items(model: Any) -> list[Any]:
    from pydantic import TypeAdapter, ValidationError
    from sms_platform.foundation.errors import BadRequest
    from sms_platform.foundation.http import validation_failed_from

    body = app.current_event.body
    if not body:
        raise BadRequest("请求内容为空，应为 JSON 数组")
    try:
        return TypeAdapter(list[model]).validate_python(request_bodies.loads(body))
    except ValidationError as error:
        raise validation_failed_from(error.errors(), list[model]) from None  # messages never repeat a value


@app.post("/v1/carrier/receipts")
def receipts() -> dict[str, Any]:
    from sms_platform.sending.carrier_pushes import queue_push
    from sms_platform.sending.messages import CarrierReceipt

    _check_token()
    items = _items(CarrierReceipt)
    log.info("receipts queued", extra={"receipts": len(items), "pieces": queue_push("receipts", items)})
    return ACCEPTED


@app.post("/v1/carrier/inbound")
def replies() -> dict[str, Any]:
    from sms_platform.sending.carrier_pushes import queue_push
    from sms_platform.sending.messages import CarrierReply

    _check_token()
    items = _items(CarrierReply)
    log.info("replies queued", extra={"replies": len(items), "pieces": queue_push("replies", items)})
    return ACCEPTED


@app.post("/v1/carrier/tencent/receipts")
def tencent_receipts() -> dict[str, Any]:
    from sms_platform.sending.carrier_pushes import queue_push
    from sms_platform.sending.tencent_pushes import TencentReceipt

    _check_token()
    items = _items(TencentReceipt)
    log.info("receipts queued", extra={"carrier": "tencent", "receipts": len(items),
                                       "pieces": queue_push("tencent_receipts", items)})  # fmt: skip
    return TENCENT_ACCEPTED


@app.post("/v1/carrier/tencent/inbound")
def tencent_replies() -> dict[str, Any]:
    from sms_platform.sending.carrier_pushes import queue_push
    from sms_platform.sending.tencent_pushes import TencentReply, reply_of

    _check_token()
    items = [reply_of(reply) for reply in _items(TencentReply)]
    log.info("replies queued", extra={"carrier": "tencent", "replies": len(items),
                                      "pieces": queue_push("replies", items)})  # fmt: skip
    return TENCENT_ACCEPTED


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return request_bodies.refusal(event) or app.resolve(event, context)
