"""Scheduled release of approved send requests whose time has come (every minute).

Releasing is idempotent: a request moves ``approved → sending`` by a conditional write, and a
release interrupted before its fan-out chunks were queued is finished on the next tick.
"""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.QUEUES, *settings.BUCKETS, *settings.KEYS)

log = logger()


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from sms_platform.sources import send_requests

    released = send_requests.release_due(now=get_clock().now())
    if released:
        log.info("send requests released", extra={"request_ids": released})
    return {"released": released}
