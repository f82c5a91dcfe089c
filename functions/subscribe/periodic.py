"""Scheduled subscription sends: once a day, the monthly sends due that day (each filled from the
subscriber's latest business data of the item's linked type, or recorded as not sent when there
is none) and renewal reminders seven days before a period ends. Safe to run twice: every send's
source id names the subscription and the day.
"""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.sources.subscription_sends import run_schedule

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.LANES, *settings.KEYS)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    counts = run_schedule(get_clock().now())
    logger().info("subscription schedule run", extra=counts)
    return counts
