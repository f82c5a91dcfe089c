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
from sms_platform.sources import business_events, trigger_rules

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
        return business_events.process(business_events.BusinessEvent.model_validate(event), get_clock().now())

    return idempotency.idempotent(
        process, data_keyword_argument="event", key_path="event_id", expires_after_seconds=KEEP_SECONDS
    )


def accept(event: business_events.BusinessEvent) -> dict[str, Any]:
    process, _ = _idempotent_process()
    answer = process(event=event.model_dump(mode="json"))
    logger().info("business event accepted", extra={"event_type": event.event_type, **answer})
    return answer


@app.post("/v1/events")
def post_event() -> Response:
    body = request_bodies.loads(app.current_event.body or "")
    event = business_events.parse(body)
    if not trigger_rules.is_granted(app.current_event.request_context.identity.api_key_id, event.event_type):
        raise Forbidden(f"该 API 密钥无权发送 {event.event_type} 类事件")
    return Response(202, JSON, json.dumps(accept(event), ensure_ascii=False))


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
