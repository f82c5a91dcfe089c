"""What the carrier pushes back: delivery receipts (SmsReport) and citizens' replies (SmsUp).

Receipts find their message by ``message_id(out_id, keyed_hash(number))`` (OutId is the source
id, see ``messages.out_id_for``) and land with one conditional write, so a repeated receipt or
one that arrives before the ``sent`` write is safe. A failure that says the number is gone
(空号, 停机) counts towards the number's mark for verification (``number_health``). Replies
``R``/``T``/``TD``/``退订`` opt the number out of publicity; any other reply is kept in the staff
inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from sms_platform.carrier.failure_reasons import is_permanent
from sms_platform.foundation import crypto
from sms_platform.foundation.identifiers import is_mobile, normalize_mobile
from sms_platform.foundation.settings import settings
from sms_platform.sending import inbox, message_store, number_health, optouts, outbox
from sms_platform.sending.messages import CarrierReceipt, CarrierReply, is_opt_out_reply, message_id, source_of_out_id

REPLY_SOURCE = "sms_reply"
# A queued piece holds at most this many items and bytes: it is recorded well within the
# worker's timeout and its SQS message stays below SQS's 256 KB.
PIECE_ITEMS = 200
PIECE_BYTES = 200 * 1024


class PushPiece(BaseModel):
    """One queued piece of a carrier push: receipts or replies, already checked."""

    kind: Literal["receipts", "replies"]
    items: list[dict[str, Any]]


def pieces(kind: str, items: list[CarrierReceipt] | list[CarrierReply]) -> list[str]:
    """The queue message bodies of a push, in order, each within ``PIECE_ITEMS`` and ``PIECE_BYTES``."""
    head = len(PushPiece(kind=kind, items=[]).model_dump_json())
    bodies: list[str] = []
    current: list[str] = []
    size = head
    for item in items:
        text = item.model_dump_json()
        if current and (len(current) >= PIECE_ITEMS or size + len(text.encode()) + 1 > PIECE_BYTES):
            bodies.append(_piece_body(kind, current))
            current, size = [], head
        current.append(text)
        size += len(text.encode()) + 1
    if current:
        bodies.append(_piece_body(kind, current))
    return bodies


def _piece_body(kind: str, items: list[str]) -> str:
    return '{"kind":"%s","items":[%s]}' % (kind, ",".join(items))  # noqa: UP031 - items are JSON already


def queue_push(kind: str, items: list[CarrierReceipt] | list[CarrierReply]) -> int:
    """Queue a checked push in pieces for ``record_piece``; the number of pieces queued.

    The push is answered once every piece is queued: if queueing fails the carrier gets an
    error and pushes again, and recording a receipt or reply twice changes nothing.
    """
    bodies = pieces(kind, items)
    outbox.send_bodies(settings().value("PUSH_QUEUE_URL"), bodies)
    return len(bodies)


def record_piece(piece: PushPiece, at: datetime, tally=None) -> ReceiptOutcome | ReplyOutcome:
    """Record one queued piece (receipts or replies)."""
    if piece.kind == "receipts":
        receipts = [CarrierReceipt.model_validate(item) for item in piece.items]
        return record_receipts(receipts, at, tally)
    return record_replies([CarrierReply.model_validate(item) for item in piece.items], at)


@dataclass
class ReceiptOutcome:
    applied: int = 0  # receipts that set a message delivered or failed
    ignored: int = 0  # repeats, unknown messages, numbers that are not ours
    # Keyed hashes of the numbers held for verification after a permanent failure in this piece
    # (the address book puts their records on its worklist).
    marked: set[str] = field(default_factory=set)


def record_receipts(receipts: list[CarrierReceipt], at: datetime, tally=None) -> ReceiptOutcome:
    outcome = ReceiptOutcome()
    for receipt in receipts:
        source_id = source_of_out_id(receipt.out_id or "")
        if source_id is None or not is_mobile(receipt.phone_number):
            outcome.ignored += 1
            continue
        phone_hash = crypto.keyed_hash(normalize_mobile(receipt.phone_number))
        mid = message_id(source_id, phone_hash)
        item = message_store.apply_receipt(
            mid,
            success=receipt.success,
            err_code=receipt.err_code,
            err_msg=receipt.err_msg,
            report_time=receipt.report_time,
            biz_id=receipt.biz_id,
            at=at,
        )
        if not receipt.success and is_permanent(receipt.err_code) and _note_permanent(mid, item, at):
            outcome.marked.add(phone_hash)
        if item is None:
            outcome.ignored += 1
            continue
        outcome.applied += 1
        if tally is not None:
            tally.add("delivered" if receipt.success else "failed", item.get("kind", ""), item.get("office", ""))
    return outcome


def _note_permanent(mid: str, item: dict[str, Any] | None, at: datetime) -> bool:
    """Count a permanent failure of one of our messages towards its number's mark; whether the
    number is marked. A repeated receipt reads the message, so a piece recorded again after a
    crash still counts it (once: ``note_failure`` keeps a failure per message)."""
    message = item if item is not None else message_store.get(mid)
    if not message or message.get("state") != "failed" or not is_permanent(message.get("error_code")):
        return False
    return number_health.note_failure(message, at=at)


@dataclass
class ReplyOutcome:
    opted_out: int = 0
    kept: int = 0
    ignored: int = 0


def record_replies(replies: list[CarrierReply], at: datetime) -> ReplyOutcome:
    outcome = ReplyOutcome()
    for reply in replies:
        if not is_mobile(reply.phone_number):
            outcome.ignored += 1
            continue
        phone = normalize_mobile(reply.phone_number)
        if is_opt_out_reply(reply.content):
            optouts.opt_out(phone, REPLY_SOURCE, f"短信回复“{reply.content.strip()}”", at)
            outcome.opted_out += 1
            continue
        stored = inbox.keep_reply(
            phone,
            reply.content,
            sign_name=reply.sign_name,
            dest_code=reply.dest_code,
            sequence_id=None if reply.sequence_id is None else str(reply.sequence_id),
            send_time=reply.send_time,
            received_at=at,
        )
        if stored:
            outcome.kept += 1
        else:
            outcome.ignored += 1
    return outcome
