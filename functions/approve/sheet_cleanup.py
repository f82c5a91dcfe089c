"""Daily removal of personalised values past their retention (``VALUE_SHEET_RETENTION_DAYS``
after the send that used them ended): ``sms_platform.sources.value_sheets.cleanup``."""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("SENDS_TABLE", "AUDIT_TABLE", "CONTROL_TABLE", "UPLOADS_BUCKET")

log = logger()


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from sms_platform.sources import value_sheets

    result = value_sheets.cleanup(now=get_clock().now())
    log.info("value sheets cleaned", extra={"removed": len(result.removed), "kept": result.kept})
    return result.model_dump()
