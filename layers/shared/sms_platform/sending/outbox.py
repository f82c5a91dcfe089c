"""Putting recipient messages on their lane.

``enqueue`` records each recipient message as ``queued`` (a conditional put: a message that
already exists is not queued again, unless it is still ``queued``, which makes a retried enqueue
safe: the dispatcher's conditional ``queued → sending`` lets only one copy through), chunks the
recipients into batches of 100 and sends them to the kind's lane with ``SendMessageBatch``.

A number gets one message per source: recipients are deduplicated by keyed hash, and the
message id is ``messages.message_id(source_id, phone_hash)``.

Carrier OutId = the source id (see ``messages.out_id_for``): a receipt names its message by
``message_id(out_id, keyed_hash(number))``, and ``QuerySendDetails`` for the number finds the
record carrying that OutId, with no lookup item to write.

A wait longer than SQS's 900-second delay (a publicity batch at night, a message due later) is a
chain: the batch carries ``not_before`` and the dispatcher sends it on again, delayed, until due.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.identifiers import is_mobile, mask_mobile, normalize_mobile
from sms_platform.foundation.observability import logger
from sms_platform.sending import message_store, recipient_groups
from sms_platform.sending.lanes import SmsKind, lane_for, queue_url
from sms_platform.sending.message_items import Caller, MessageGroup, NewMessage, iso
from sms_platform.sending.messages import (
    MessageState,
    QueuedBatch,
    chunk,
    delay_seconds,
    message_id,
)
from sms_platform.sending.recipient_groups import Who

_SQS_BATCH = 10
_SQS_BATCH_BYTES = 240_000  # under SendMessageBatch's 256 KiB total


@dataclass
class EnqueueResult:
    queued: int = 0  # recipient messages put on the lane
    duplicates: int = 0  # numbers already given a message by this source
    undeliverable: int = 0  # no usable number
    batch_ids: list[str] = field(default_factory=list)


def new_batch_id() -> str:
    return uuid.uuid4().hex


def enqueue(
    kind: SmsKind | str,
    source_id: str,
    office: str,
    sign_name: str,
    *,
    template_code: str,
    template_id: str,
    template_version: int,
    parts: int,
    recipients: Iterable[tuple[str, dict[str, str] | None]],
    shared_params: dict[str, str] | None = None,
    not_before: datetime | None = None,
    recipient_group: str | None = None,
    who: Who | None = None,
    caller: Caller | None = None,
) -> EnqueueResult:
    """Record and queue one message per distinct number; ``recipients`` are (normalised phone, params).

    With ``recipient_group`` each message is listed in that group (``recipient_groups``) as a
    message for ``who``. With ``caller`` each message is indexed under the event or call that
    caused it (``message_items.Caller``).
    """
    kind = SmsKind(kind)
    now = get_clock().now()
    result = EnqueueResult()
    seen: set[str] = set()
    ready: list[tuple[str, str, str, dict[str, str] | None]] = []  # (message id, hash, number, values)
    batch_id = new_batch_id()

    group = asdict(
        MessageGroup(
            kind=str(kind),
            source_id=source_id,
            office=office,
            batch_id=batch_id,
            sign_name=sign_name,
            template_code=template_code,
            template_id=template_id,
            template_version=template_version,
            parts=parts,
        )
    )

    def new_message(mid: str, phone_hash: str, phone: str) -> NewMessage:
        return NewMessage(**group, message_id=mid, phone_hash=phone_hash, phone_masked=mask_mobile(phone))

    def listed(mid: str) -> dict[str, Any]:
        found: dict[str, Any] = caller.fields(mid) if caller else {}
        if recipient_group:
            found.update(recipient_groups.index_fields(recipient_group, who or Who(), iso(now), mid))
        return found

    for raw_phone, params in recipients:
        # The same number written differently is still one number.
        phone = normalize_mobile(raw_phone) if is_mobile(raw_phone) else str(raw_phone)
        phone_hash = crypto.keyed_hash(phone)
        if phone_hash in seen:
            result.duplicates += 1
            continue
        seen.add(phone_hash)
        mid = message_id(source_id, phone_hash)
        if not is_mobile(phone):
            message_store.record(new_message(mid, phone_hash, phone), MessageState.UNDELIVERABLE, now, **listed(mid))
            result.undeliverable += 1
            continue
        existing = message_store.record(new_message(mid, phone_hash, phone), MessageState.QUEUED, now, **listed(mid))
        if existing not in (None, MessageState.QUEUED):
            result.duplicates += 1
            continue
        ready.append((mid, phone_hash, phone, {k: str(v) for k, v in params.items()} if params else None))
    shared = {k: str(v) for k, v in shared_params.items()} if shared_params else None
    batches = []
    for index, group in enumerate(chunk(ready)):
        mids, hashes, numbers, own = (list(column) for column in zip(*group, strict=True))
        batches.append(
            QueuedBatch(
                batch_id=batch_id if index == 0 else new_batch_id(),
                kind=kind,
                source_id=source_id,
                office=office,
                sign_name=sign_name,
                template_code=template_code,
                template_id=template_id,
                template_version=template_version,
                parts=parts,
                shared_params=shared,
                message_ids=mids,
                phone_hashes=hashes,
                params=own if any(own) else None,
                phones=crypto.seal_many(numbers),
                not_before=not_before,
                test=bool(caller and caller.test),
                notify=bool(caller and caller.notify_key),
            )
        )
    send_batches(batches, now=now)
    result.queued = len(ready)
    result.batch_ids = [b.batch_id for b in batches]
    return result


def send_batches(batches: list[QueuedBatch], *, now: datetime | None = None) -> None:
    """Send batches to their lanes, each delayed until its ``not_before`` (at most 900 s)."""
    now = now or get_clock().now()
    by_lane: dict[str, list[QueuedBatch]] = {}
    for batch in batches:
        by_lane.setdefault(queue_url(lane_for(batch.kind)), []).append(batch)
    sqs = aws.client("sqs")
    for url, lane_batches in by_lane.items():
        entries = [
            {
                "Id": str(index),
                "MessageBody": batch.body(),
                "DelaySeconds": delay_seconds(now, batch.not_before),
            }
            for index, batch in enumerate(lane_batches)
        ]
        for group in _sqs_groups(entries):
            _send_group(sqs, url, group)


def send_bodies(url: str, bodies: list[str], *, delay_seconds: int = 0) -> None:
    """Send message bodies to the queue at ``url``, ten (or 256 KB) to a request, each delivered
    ``delay_seconds`` (at most SQS's 900) from now."""
    sqs = aws.client("sqs")
    entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)]
    if delay_seconds:
        for entry in entries:
            entry["DelaySeconds"] = min(delay_seconds, 900)
    for group in _sqs_groups(entries):
        _send_group(sqs, url, group)


def _sqs_groups(entries: list[dict]) -> list[list[dict]]:
    groups: list[list[dict]] = []
    size = 0
    for entry in entries:
        length = len(entry["MessageBody"].encode())
        if not groups or len(groups[-1]) >= _SQS_BATCH or size + length > _SQS_BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += length
    return groups


def _send_group(sqs, url: str, entries: list[dict]) -> None:
    pending = entries
    for _ in range(3):
        answer = sqs.send_message_batch(QueueUrl=url, Entries=pending)
        failed = {f["Id"] for f in answer.get("Failed", [])}
        pending = [e for e in pending if e["Id"] in failed]
        if not pending:
            return
    raise RuntimeError(f"SQS refused {len(pending)} queued messages")


def send_again(
    batch: QueuedBatch, *, indexes: list[int] | None = None, numbers: list[str] | None = None, **changes: Any
) -> QueuedBatch:
    """Queue a copy of ``batch`` as a new SQS message (a delay, a settle round, a LIMITED retry),
    of the recipients at ``indexes`` only when given.

    A part of a batch whose numbers are sealed together needs its numbers (``numbers``, in the
    batch's recipient order) to seal the part's own.
    """
    changes["batch_id"] = new_batch_id()
    if indexes is None:
        copy = batch.model_copy(update=changes)
    else:
        if numbers is None:
            raise ValueError("a part of a batch needs its numbers to seal again")
        copy = batch.part(indexes, crypto.seal_many([numbers[i] for i in indexes]), **changes)
    send_batches([copy])
    return copy


def delay_redelivery(queue_arn: str, receipt_handle: str, seconds: int) -> None:
    """Keep a failed SQS message invisible for ``seconds`` (exponential backoff on transient faults).

    Best effort: if it fails, the queue's own visibility timeout applies.
    """
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
    except Exception as error:  # noqa: BLE001 - the redelivery still happens, only sooner
        logger().warning("could not delay redelivery", extra={"error": type(error).__name__})
