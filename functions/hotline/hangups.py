"""12333 hang-up webhook (CONTRACTS §2): ``POST /v1/hotline/hangups``, signed with HMAC-SHA256.

Kept small so that it starts fast: the answer to a caller who just hung up is the most urgent
message the platform sends.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from sms_platform.foundation import request_bodies, secrets, settings, signed_webhooks
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.http import JSON, register_error_handlers
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.sources import hotline

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.LANES, *settings.KEYS, *settings.WEBHOOKS)

app = APIGatewayRestResolver()
register_error_handlers(app)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post("/v1/hotline/hangups")
def hangup() -> Response:
    now = get_clock().now()
    raw = _raw_body()
    headers = app.current_event.headers
    secrets.check_webhook(
        "hotline_webhook_secret", now, lambda accepted: signed_webhooks.verify_hotline(headers, raw, accepted, now)
    )
    answer = hotline.receive_hangup(hotline.parse_hangup(raw), now).model_dump()
    logger().info("hang-up received", extra=answer)
    return Response(202, JSON, json.dumps(answer, ensure_ascii=False))


@app.get("/v1/hotline/hangups/<call_id>")
def hangup_status(call_id: str) -> Response:
    """What became of a call's answers (CONTRACTS §7): signed as the webhook is, over the
    timestamp and the request path instead of a body."""
    from sms_platform.reports import caller_status  # deferred: the hang-up itself must start fast

    now = get_clock().now()
    path = app.current_event.path.encode()
    headers = app.current_event.headers
    secrets.check_webhook(
        "hotline_webhook_secret", now, lambda accepted: signed_webhooks.verify_hotline(headers, path, accepted, now)
    )
    status = caller_status.call_status(call_id, now)
    return Response(200, JSON, json.dumps(status.model_dump(mode="json"), ensure_ascii=False))


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return request_bodies.refusal(event) or app.resolve(event, context)
