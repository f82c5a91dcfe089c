"""Background exports of a send's recipients: the consumer of the export queue.

Each SQS record is one export (``sms_platform.reports.recipient_exports.build``): its rows are
counted, written to a CSV or XLSX file and uploaded, with progress recorded as it goes. A job
that fails is reported as a partial batch failure and delivered again (a finished export is
not built twice); after its last attempt the export is marked failed for the staff member.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("SENDS_TABLE", "MESSAGES_TABLE", "CONTACTS_TABLE", "UPLOADS_BUCKET")

processor = BatchProcessor(event_type=EventType.SQS)
log = logger()


def record_handler(record: Any) -> None:
    from sms_platform.foundation.clock import get_clock
    from sms_platform.reports import recipient_exports

    export_id = str(json.loads(record.body).get("export_id") or "")
    log.append_keys(export_id=export_id)
    try:
        outcome = recipient_exports.build(export_id, get_clock().now)
        log.info("recipient export", extra={"outcome": outcome})
    finally:
        log.remove_keys(["export_id"])


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
