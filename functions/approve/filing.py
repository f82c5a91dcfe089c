"""Carrier filing poller (every five minutes; every few seconds on the local platform): files
approved template versions with each configured carrier that has not taken them yet, asks each
carrier about filings under review (QuerySmsTemplate, DescribeSmsTemplateList), activates
versions a carrier approved once their validity begins, and expires versions past their
validity. Only a round that moved something is logged."""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.templates.filing import poll_filings

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("CONTROL_TABLE", *settings.CARRIER)

log = logger()


@logger().inject_lambda_context
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    moved = poll_filings(now=get_clock().now())
    if moved:
        log.info("template filings polled", extra={"moved": moved})
    return {"moved": moved}
