"""Records the queued pieces of carrier pushes (see ``carrier_callbacks``).

Each SQS record is one piece: up to 200 receipts or replies. Recording is safe to repeat (a
receipt lands with one conditional write, a reply is kept under its sequence id), so a piece
that fails is simply received again, and after five tries kept on the push dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from sms_platform.foundation import settings
from sms_platform.foundation.observability import logger, metrics, tracer

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require(*settings.TABLES, *settings.KEYS)

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
log = logger()


def record_handler(record: Any, tally: Any) -> None:
    from sms_platform.foundation.clock import get_clock
    from sms_platform.sending.carrier_pushes import PushPiece, record_piece

    piece = PushPiece.model_validate_json(record.body)
    now = get_clock().now()
    outcome = record_piece(piece, now, tally)
    marked = getattr(outcome, "marked", set())
    if marked:  # numbers now held for verification: their records join their district's worklist
        # deferred: the address book loads only for a piece that marked a number, not for every piece
        from sms_platform.contacts import number_checks

        number_checks.flag_numbers(sorted(marked), now=now)
    counts = {name: len(value) if isinstance(value, set) else value for name, value in vars(outcome).items()}
    log.info(f"{piece.kind} recorded", extra={"items": len(piece.items), **counts})


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from sms_platform.sending.dispatcher import Tally

    tally = Tally()
    try:
        return process_partial_response(
            event=event,
            record_handler=lambda record: record_handler(record, tally),
            processor=processor,
            context=context,
        )
    finally:
        tally.emit()
