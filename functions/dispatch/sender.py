"""Dispatch: the consumer of the three lanes (high, normal, bulk).

Each SQS record is one queued batch (up to 100 recipients); ``sms_platform.sending.dispatcher`` sends
it exactly once per recipient. A record that fails (a transient carrier fault) is reported as a
partial batch failure and kept invisible for an exponential backoff before SQS delivers it again;
after the queue's maxReceiveCount it goes to the lane's dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import runtime, settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.LANES, *settings.KEYS, *settings.CARRIER)

# A dispatch makes many short-lived objects: fewer collections of them (see runtime).
runtime.raise_young_threshold()
# Every record failing is still a partial response (all listed), not an invocation error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
log = logger()


def record_handler(record: Any, dispatcher: Any) -> None:
    from sms_platform.sending import outbox
    from sms_platform.sending.dispatcher import TransientCarrierFault
    from sms_platform.sending.messages import QueuedBatch, retry_visibility_seconds

    batch = QueuedBatch.from_body(record.body)
    log.append_keys(batch_id=batch.batch_id, source_id=batch.source_id, kind=str(batch.kind))
    # A batch whose caller wants callbacks (CONTRACTS §7): its messages are read before and after,
    # so the moves the dispatcher writes without reading them are told too.
    before = _items_of(batch) if batch.notify and not batch.test else None
    try:
        dispatcher.process(batch)
    except TransientCarrierFault as fault:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        backoff = retry_visibility_seconds(receive_count)
        log.warning("carrier unavailable, batch retried later", extra={"code": fault.code, "backoff_s": backoff})
        outbox.delay_redelivery(record.event_source_arn, record.receipt_handle, backoff)
        raise
    finally:
        if before is not None:
            _tell_moves(batch, before)
        log.remove_keys(["batch_id", "source_id", "kind"])


def _tell_moves(batch: Any, before: dict[str, dict[str, Any]]) -> None:
    from sms_platform.sending import status_notices

    try:
        status_notices.notify_moves(before, _items_of(batch))
    except Exception as error:  # noqa: BLE001 - telling the caller never fails the batch
        log.warning("status notices not queued", extra={"error": type(error).__name__})


def _items_of(batch: Any) -> dict[str, dict[str, Any]]:
    from sms_platform.sending import message_store

    return message_store.get_many(batch.message_ids)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from sms_platform.sending.dispatcher import Dispatcher
    from sms_platform.templates import filing

    # Each batch goes through a carrier that approved its template version (``carrier_routing``).
    dispatcher = Dispatcher(templates=filing.approved_templates)
    try:
        return process_partial_response(
            event=event,
            record_handler=lambda record: record_handler(record, dispatcher),
            processor=processor,
            context=context,
        )
    finally:
        dispatcher.finish()
