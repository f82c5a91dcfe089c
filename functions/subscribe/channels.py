"""Service channels' subscription API (CONTRACTS §4): products, verification codes, orders,
renewals, lookup and cancellation (API key per channel), and the payment provider's signed
notification (``X-Payment-Signature``, no API key).

A channel's test key (CONTRACTS §7) is answered as its live twin would be, with ``"test": true``
in every answer, and changes nothing: its codes are never sent, its orders never stored, its
renewals and cancellations never applied; a test order's payment is answered and applies nothing.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from sms_platform.foundation import idempotency, request_bodies, secrets, settings, signed_webhooks
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.http import JSON, register_error_handlers
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.sources import caller_keys, subscriptions

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.LANES, *settings.KEYS, *settings.WEBHOOKS)

KEEP_SECONDS = 30 * 24 * 3600

app = APIGatewayRestResolver()
register_error_handlers(app)


def _reply(status: int, body: dict[str, Any], *, test: bool = False) -> Response:
    return Response(status, JSON, json.dumps({**body, "test": True} if test else body, ensure_ascii=False))


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _json(raw: bytes) -> Any:
    return request_bodies.loads(raw)


def _channel() -> str:
    return app.current_event.request_context.identity.api_key_id or "unknown"


def _test() -> bool:
    """Whether the call came with a channel's test key (CONTRACTS §7)."""
    key = caller_keys.get(app.current_event.request_context.identity.api_key_id)
    return bool(key and key.test)


@app.get("/v1/subscriptions/products")
def products() -> Response:
    return _reply(200, {"products": subscriptions.products()}, test=_test())


@app.post("/v1/subscriptions/otp")
def otp() -> Response:
    request = subscriptions.parse(subscriptions.OtpRequest, _json(_raw_body()))
    test = _test()
    return _reply(202, subscriptions.request_otp(request.phone, get_clock().now(), test=test), test=test)


@app.post("/v1/subscriptions")
def create() -> Response:
    request = subscriptions.parse(subscriptions.OrderRequest, _json(_raw_body()))
    test = _test()
    answer = subscriptions.create_order(request, channel=_channel(), now=get_clock().now(), test=test)
    logger().info("subscription order", extra={"subscription_id": answer["subscription_id"], "test": test})
    return _reply(201, answer, test=test)


@app.post("/v1/subscriptions/lookup")
def lookup() -> Response:
    request = subscriptions.parse(subscriptions.LookupRequest, _json(_raw_body()))
    found = subscriptions.lookup(request.subscriber, get_clock().now())
    return _reply(200, {"subscriptions": found}, test=_test())


@app.post("/v1/subscriptions/<subscription_id>/renewals")
def renew(subscription_id: str) -> Response:
    test = _test()
    return _reply(201, subscriptions.renew(subscription_id, get_clock().now(), test=test), test=test)


@app.delete("/v1/subscriptions/<subscription_id>")
def cancel(subscription_id: str) -> Response:
    test = _test()
    return _reply(200, subscriptions.cancel(subscription_id, get_clock().now(), test=test), test=test)


@cache
def _idempotent_payment() -> Any:
    def apply(notice: dict[str, Any]) -> dict[str, Any]:
        parsed = subscriptions.PaymentNotice.model_validate(notice)
        return subscriptions.record_payment(parsed, get_clock().now())

    return idempotency.idempotent(
        apply, data_keyword_argument="notice", key_path="transaction_id", expires_after_seconds=KEEP_SECONDS
    )


@app.post("/v1/payments/notify")
def payment() -> Response:
    raw = _raw_body()
    headers = app.current_event.headers
    secrets.check_webhook(
        "payment_webhook_secret",
        get_clock().now(),
        lambda accepted: signed_webhooks.verify_payment(headers, raw, accepted),
    )
    notice = subscriptions.parse(subscriptions.PaymentNotice, _json(raw))
    apply, _ = _idempotent_payment()
    answer = apply(notice=notice.model_dump(mode="json"))
    logger().info("payment recorded", extra=answer)
    return _reply(200, answer)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _idempotent_payment()[1].register_lambda_context(context)
    return request_bodies.refusal(event) or app.resolve(event, context)
