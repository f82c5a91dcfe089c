"""Contacts from the service channels and business systems: ``POST /v1/contacts/batch`` with the
caller's API key (one per channel or system).

Each record is checked on its own (ID numbers and credit codes with their check characters)
and answered in order; each number's source must be a channel granted to the key. The same
body from the same key within a day gets the first answer again and changes nothing more
(powertools Idempotency), so a channel may safely retry after a timeout. A test key (CONTRACTS
§7) is checked against its live twin's grants and answered as the twin would be against the
address book as it is, with ``"test": true``; its batch writes nothing.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from sms_platform.foundation import idempotency, request_bodies, settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict
from sms_platform.foundation.http import JSON, register_error_handlers
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.KEYS)

KEEP_SECONDS = 24 * 3600

app = APIGatewayRestResolver()
register_error_handlers(app)


@cache
def _idempotent_upsert() -> Any:
    from sms_platform.contacts import channels
    from sms_platform.sources import caller_keys

    def upsert(request: dict[str, Any]) -> dict[str, Any]:
        key = caller_keys.of(request["api_key_id"])
        test = bool(key and key.test)
        batch = channels.upsert(request["body"], api_key_id=key.grant_holder if key else None,
                                at=get_clock().now(), test=test)  # fmt: skip
        # Idempotency stores the answer as JSON: the model goes in as its plain form.
        return {**batch.model_dump(), "test": True} if test else batch.model_dump()

    # The key is a hash of the whole request: the caller's key id and its body.
    return idempotency.idempotent(
        upsert, data_keyword_argument="request", expires_after_seconds=KEEP_SECONDS, hash_function="sha256"
    )


@app.post("/v1/contacts/batch")
def post_batch() -> Response:
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    body = request_bodies.loads(app.current_event.body or "")
    api_key_id = app.current_event.request_context.identity.api_key_id
    upsert, _ = _idempotent_upsert()
    try:
        answer = upsert(request={"api_key_id": api_key_id, "body": body})
    except IdempotencyAlreadyInProgressError:
        raise Conflict("相同的请求正在处理，请稍后再试") from None
    counts = {f"records_{key}": answer[key] for key in ("created", "updated", "unchanged", "rejected")}
    logger().info("contacts batch", extra={"api_key_id": api_key_id, "test": bool(answer.get("test")), **counts})
    return Response(200, JSON, json.dumps(answer, ensure_ascii=False))


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _idempotent_upsert()[1].register_lambda_context(context)
    return request_bodies.refusal(event) or app.resolve(event, context)
