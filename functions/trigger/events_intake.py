"""Business-event intake (CONTRACTS §3): ``POST /v1/events`` from the business systems' API keys,
and EventBridge events of source ``weihai.si.business`` with the same shape in ``detail``.

Each API key may send only the event types granted to it (403 otherwise). EventBridge events
carry no key: who may put events on the bus is decided by IAM. A repeated ``event_id`` gets the
first answer and sends nothing more (powertools Idempotency, records kept 30 days).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from sms_platform.foundation import idempotency, request_bodies, settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.foundation.http import JSON, register_error_handlers
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.sources import business_events, caller_keys, trigger_rules

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.LANES, *settings.KEYS)

EVENT_SOURCE = "weihai.si.business"
KEEP_SECONDS = 30 * 24 * 3600

app = APIGatewayRestResolver()
register_error_handlers(app)


@cache
def _idempotent_process() -> Any:
    def process(event: dict[str, Any]) -> dict[str, Any]:
        # The sending key rides beside the event (the key path is the event id alone).
        key = event.get("caller_key")
        caller_key = caller_keys.CallerKey.model_validate(key) if key else None
        parsed = business_events.BusinessEvent.model_validate(event)
        return business_events.process(parsed, get_clock().now(), caller_key)

    return idempotency.idempotent(
        process, data_keyword_argument="event", key_path="event_id", expires_after_seconds=KEEP_SECONDS
    )


def accept(event: business_events.BusinessEvent, caller_key: Any = None) -> dict[str, Any]:
    process, _ = _idempotent_process()
    data = event.model_dump(mode="json")
    if caller_key is not None:
        data["caller_key"] = caller_key.model_dump()
    answer = process(event=data)
    logger().info("business event accepted", extra={"event_type": event.event_type, **answer})
    return answer


@app.post("/v1/events")
def post_event() -> Response:
    body = request_bodies.loads(app.current_event.body or "")
    event = business_events.parse(body)
    # A test key is checked against its live twin's grants (CONTRACTS §7).
    caller_key = caller_keys.of(app.current_event.request_context.identity.api_key_id)
    if not trigger_rules.is_granted(caller_key.grant_holder if caller_key else None, event.event_type):
        raise Forbidden(f"该 API 密钥无权发送 {event.event_type} 类事件")
    return Response(202, JSON, json.dumps(accept(event, caller_key), ensure_ascii=False))


@app.get("/v1/events/<event_id>")
def get_event_status(event_id: str) -> Response:
    """What became of an event's messages, for the key that sent it (CONTRACTS §7)."""
    from sms_platform.reports import caller_status  # deferred: only status reads need it

    status = caller_status.event_status(app.current_event.request_context.identity.api_key_id, event_id)
    return Response(200, JSON, json.dumps(status.answer(), ensure_ascii=False))


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _idempotent_process()[1].register_lambda_context(context)
    if event.get("source") == EVENT_SOURCE and isinstance(event.get("detail"), dict):
        try:
            parsed = business_events.parse(event["detail"])
        except ValidationFailed as refused:
            # A malformed event would fail the same way on every retry: log it, do not retry.
            logger().warning("business event refused", extra={"error": refused.to_body()["error"]})
            return refused.to_body()
        return accept(parsed)
    return request_bodies.refusal(event) or app.resolve(event, context)
