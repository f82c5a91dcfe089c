"""What the carrier pushes back: delivery receipts (SmsReport) and citizens' replies (SmsUp).

Receipts find their message by ``message_id(out_id, keyed_hash(number))`` (OutId is the source
id, see ``messages.out_id_for``) and land with one conditional write, so a repeated receipt or
one that arrives before the ``sent`` write is safe. Replies ``R``/``T``/``TD``/``退订`` opt the
number out of publicity; any other reply is kept in the staff inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sms_platform import crypto, inbox, message_store, optouts
from sms_platform.identifiers import is_mobile, normalize_mobile
from sms_platform.messages import CarrierReceipt, CarrierReply, is_opt_out_reply, message_id, source_of_out_id

REPLY_SOURCE = "sms_reply"


@dataclass
class ReceiptOutcome:
    applied: int = 0  # receipts that set a message delivered or failed
    ignored: int = 0  # repeats, unknown messages, numbers that are not ours


def record_receipts(receipts: list[CarrierReceipt], at: datetime, tally=None) -> ReceiptOutcome:
    outcome = ReceiptOutcome()
    for receipt in receipts:
        source_id = source_of_out_id(receipt.out_id or "")
        if source_id is None or not is_mobile(receipt.phone_number):
            outcome.ignored += 1
            continue
        mid = message_id(source_id, crypto.keyed_hash(normalize_mobile(receipt.phone_number)))
        item = message_store.apply_receipt(
            mid,
            success=receipt.success,
            err_code=receipt.err_code,
            err_msg=receipt.err_msg,
            report_time=receipt.report_time,
            biz_id=receipt.biz_id,
            at=at,
        )
        if item is None:
            outcome.ignored += 1
            continue
        outcome.applied += 1
        if tally is not None:
            tally.add("delivered" if receipt.success else "failed", item.get("kind", ""), item.get("office", ""))
    return outcome


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
