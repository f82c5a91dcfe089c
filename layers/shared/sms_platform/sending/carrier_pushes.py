"""What the carrier pushes back: delivery receipts (SmsReport) and citizens' replies (SmsUp).

Receipts find their message by ``message_id(out_id, keyed_hash(number))`` (OutId is the source
id, see ``messages.out_id_for``) and land with one conditional write, so a repeated receipt or
one that arrives before the ``sent`` write is safe. Tencent's receipts carry only its id of the
message (``sid``): they find it through the index the send recorded
(``message_store.messages_of_carrier_ids``); one whose id is not recorded yet (the receipt came
before the send's answer was written) is queued again a little later, a few times.

A failure that says the number is gone (空号, 停机) counts towards the number's mark for
verification (``number_health``). Replies ``R``/``T``/``TD``/``退订`` opt the number out of
publicity; any other reply is kept in the staff inbox.
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
from sms_platform.sending.tencent_pushes import TENCENT, TencentReceipt

REPLY_SOURCE = "sms_reply"
# A queued piece holds at most this many items and bytes: it is recorded well within the
# worker's timeout and its SQS message stays below SQS's 256 KB.
PIECE_ITEMS = 200
PIECE_BYTES = 200 * 1024
# Receipts whose message is not known yet are queued again this much later, this many times.
UNMATCHED_DELAY_SECONDS = 60
UNMATCHED_ATTEMPTS = 3


class PushPiece(BaseModel):
    """One queued piece of a carrier push: receipts or replies, already checked."""

    kind: Literal["receipts", "replies", "tencent_receipts"]
    items: list[dict[str, Any]]
    attempt: int = 0  # how often its receipts were queued again for want of their message


def pieces(kind: str, items: list[CarrierReceipt] | list[CarrierReply] | list[TencentReceipt]) -> list[str]:
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


def queue_push(kind: str, items: list[CarrierReceipt] | list[CarrierReply] | list[TencentReceipt]) -> int:
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
    if piece.kind == "tencent_receipts":
        return record_tencent_receipts(piece, at, tally)
    return record_replies([CarrierReply.model_validate(item) for item in piece.items], at)


@dataclass
class ReceiptOutcome:
    applied: int = 0  # receipts that set a message delivered or failed
    ignored: int = 0  # repeats, unknown messages, numbers that are not ours
    # Keyed hashes of the numbers held for verification after a permanent failure in this piece
    # (the address book puts their records on its worklist).
    marked: set[str] = field(default_factory=set)
    requeued: int = 0  # Tencent receipts queued again: their message's id was not recorded yet


def record_receipts(receipts: list[CarrierReceipt], at: datetime, tally=None) -> ReceiptOutcome:
    outcome = ReceiptOutcome()
    for receipt in receipts:
        source_id = source_of_out_id(receipt.out_id or "")
        if source_id is None or not is_mobile(receipt.phone_number):
            outcome.ignored += 1
            continue
        phone_hash = crypto.keyed_hash(normalize_mobile(receipt.phone_number))
        _land(message_id(source_id, phone_hash), phone_hash, receipt, receipt.success, at, outcome, tally)
    return outcome


def record_tencent_receipts(piece: PushPiece, at: datetime, tally=None) -> ReceiptOutcome:
    """Tencent's receipts, each finding its message by Tencent's id of it; those whose id is not
    recorded yet are queued again (``UNMATCHED_ATTEMPTS`` times), then ignored."""
    receipts = [TencentReceipt.model_validate(item) for item in piece.items]
    found = message_store.messages_of_carrier_ids(TENCENT, [r.sid for r in receipts])
    outcome, unmatched = ReceiptOutcome(), []
    for receipt in receipts:
        mid = found.get(receipt.sid)
        if mid is None or not is_mobile(receipt.mobile):
            if mid is None and piece.attempt + 1 < UNMATCHED_ATTEMPTS:
                unmatched.append(receipt)
            else:
                outcome.ignored += 1
            continue
        common = CarrierReceipt(
            phone_number=receipt.mobile, report_time=receipt.user_receive_time, success=receipt.success,
            err_code=receipt.errmsg, err_msg=receipt.description,
        )  # fmt: skip
        _land(mid, crypto.keyed_hash(normalize_mobile(receipt.mobile)), common, receipt.success, at, outcome, tally)
    if unmatched:
        bodies = [PushPiece(kind=piece.kind, items=[r.model_dump() for r in unmatched], attempt=piece.attempt + 1)]
        outbox.send_bodies(settings().value("PUSH_QUEUE_URL"), [b.model_dump_json() for b in bodies],
                           delay_seconds=UNMATCHED_DELAY_SECONDS)  # fmt: skip
        outcome.requeued = len(unmatched)
    return outcome


def _land(
    mid: str, phone_hash: str, receipt: CarrierReceipt, success: bool, at: datetime, outcome: ReceiptOutcome, tally
) -> None:
    """One receipt landing on its message: delivered or failed, a permanent failure noted."""
    item = message_store.apply_receipt(
        mid,
        success=success,
        err_code=receipt.err_code,
        err_msg=receipt.err_msg,
        report_time=receipt.report_time,
        biz_id=receipt.biz_id,
        at=at,
    )
    if not success and is_permanent(receipt.err_code) and _note_permanent(mid, item, at):
        outcome.marked.add(phone_hash)
    if item is None:
        outcome.ignored += 1
        return
    outcome.applied += 1
    if tally is not None:
        tally.add("delivered" if success else "failed", item.get("kind", ""), item.get("office", ""))


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
