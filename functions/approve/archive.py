"""Nightly export of the audit trail: yesterday's chains (Beijing days) to the Object Lock
archive bucket as JSON lines. A manual run may name the day: ``{"day": "YYYY-MM-DD"}``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sms_platform.audit import archive
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("AUDIT_TABLE", "CONTROL_TABLE", "ARCHIVE_BUCKET")

log = logger()


@logger().inject_lambda_context
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    day = date.fromisoformat(event["day"]) if isinstance(event, dict) and event.get("day") else archive.previous_day()
    result = archive.export_day(day)
    if result.broken:
        log.error("audit chain broken", extra={"day": day.isoformat(), "broken": result.broken.as_dict()})
    log.info("audit archived", extra={"day": day.isoformat(), "key": result.key, "entries": result.entries})
    return {
        "day": day.isoformat(),
        "key": result.key,
        "entries": result.entries,
        "written": result.written,
        "verified": result.broken is None,
    }
