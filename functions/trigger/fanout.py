"""Fan-out worker: each SQS record is one chunk of a released send (``sms_platform.sources.fanout``).

Waiting (back-pressure, the publicity window, a long chunk) is a new delayed job the worker
queues itself, so a record fails, and its receive count climbs, only on a real fault; it is
then retried from the chunk's saved cursor, and after five tries goes to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.QUEUES, *settings.BUCKETS, *settings.KEYS)

# One record per invocation: a failed chunk is reported like any partial failure, not raised.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
log = logger()


def record_handler(record: Any, context: Any) -> str:
    from sms_platform.sources.fanout import ChunkJob, run_chunk

    job = ChunkJob.model_validate_json(record.body)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    outcome = run_chunk(job, time_left=(lambda: remaining() / 1000) if remaining else None)
    log.info("fan-out chunk", extra={"request_id": job.request_id, "chunk": job.chunk, "outcome": outcome})
    return outcome


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event,
        record_handler=lambda record: record_handler(record, context),
        processor=processor,
        context=context,
    )
