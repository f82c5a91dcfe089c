"""Status callbacks (CONTRACTS §7): the consumer of the callback queue.

Each SQS record is one notice of a message's state change (``sending.status_notices``), posted
signed to its API key's callback URL (``reports.caller_callbacks``). A receiver that fails is
tried again later: the record is reported failed and kept invisible for the next wait of the
backoff, so the tries spread over 24 hours; after the tenth the queue leaves it on its
dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("CONTROL_TABLE", *settings.KEYS)

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
log = logger()


class CallbackFailed(Exception):
    """The receiver did not answer 2xx within 5 s: tried again after a backoff."""


def record_handler(record: Any) -> None:
    from sms_platform.foundation.clock import get_clock
    from sms_platform.reports import caller_callbacks
    from sms_platform.sending import outbox

    notice = json.loads(record.body)
    outcome = caller_callbacks.deliver(notice, get_clock().now())
    tries = int(record.attributes.approximate_receive_count or 1)
    facts = {"message_id": notice.get("message_id"), "state": notice.get("state"), "url": outcome.url, "try": tries}
    if outcome.delivered:
        log.info("status callback delivered", extra={**facts, "detail": outcome.detail})
        return
    wait = caller_callbacks.backoff_seconds(tries)
    log.warning("status callback failed, tried again later", extra={**facts, "detail": outcome.detail, "wait_s": wait})
    if tries < caller_callbacks.MAX_TRIES:
        outbox.delay_redelivery(record.event_source_arn, record.receipt_handle, wait)
    raise CallbackFailed(outcome.detail)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
