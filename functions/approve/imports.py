"""Background work of contact imports and personalised lists: the consumer of the work queue.

Each SQS record is one job of ``sms_platform.contacts.imports`` (plan a file, or check and
upsert one chunk of rows) or of ``sms_platform.sources.value_sheets`` (check an uploaded
list). A failed job is reported as a partial batch failure and delivered again; every job is
safe to run twice.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, "WORK_QUEUE_URL", "UPLOADS_BUCKET", *settings.KEYS)

processor = BatchProcessor(event_type=EventType.SQS)
log = logger()


def record_handler(record: Any) -> None:
    job = json.loads(record.body)
    if str(job.get("kind", "")).startswith("value_sheet."):
        # Personalised lists share the queue: their check is the same kind of background work.
        from sms_platform.sources import value_sheets

        log.append_keys(sheet_id=job.get("sheet_id"), job=job.get("kind"))
        try:
            value_sheets.handle(job)
        finally:
            log.remove_keys(["sheet_id", "job"])
        return
    from sms_platform.contacts import imports

    log.append_keys(import_id=job.get("import_id"), job=job.get("kind"), chunk=job.get("chunk"))
    try:
        imports.handle(job)
    finally:
        log.remove_keys(["import_id", "job", "chunk"])


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
