"""Settling the messages a carrier may have taken without saying so (a timeout after sending, a
crash between its answer and the ``sent`` write): the carrier they were handed to is asked
(``Carrier.find_sent``), never another, and nothing is sent again.

Each message names its carrier (``carrier``, written as it was taken for sending; a message taken
before carriers were named falls back to its batch's ``carrier``, then to Alibaba). A message the
carrier has no record of yet is asked about again in later ``settle`` rounds
(``messages.SETTLE_DELAYS_SECONDS``), then ``failed`` with ``UNSETTLED_CODE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sms_platform.carrier.base import CarrierName, DeliveryStatus, Outcome, SentRecord
from sms_platform.foundation import crypto
from sms_platform.sending import message_store, outbox
from sms_platform.sending.messages import (
    UNSETTLED_CODE,
    BatchAction,
    MessageState,
    QueuedBatch,
    Settlement,
    settle_delay,
)

_SENDING = MessageState.SENDING.value
_STATES = {
    DeliveryStatus.WAITING: MessageState.SENT,
    DeliveryStatus.DELIVERED: MessageState.DELIVERED,
    DeliveryStatus.FAILED: MessageState.FAILED,
}
# The one carrier whose id of a message is kept as its BizId; others' ids index the message.
_BIZ_ID_CARRIER = CarrierName.ALIBABA.value


def numbers_of(batch: QueuedBatch) -> list[str]:
    """The recipients' numbers in recipient order, opened from the batch's sealed numbers with
    one decryption."""
    numbers = crypto.open_many(batch.phones)
    if len(numbers) != len(batch.message_ids):
        raise ValueError("the batch's sealed numbers do not match its recipients")
    return numbers


def pick(values: list[Any], picked: list[int]) -> list[Any]:
    """The entries of one of the batch's parallel lists at ``picked`` (indexes in order); the
    list itself when that is all of them, the usual case. Only read, never changed."""
    return values if len(picked) == len(values) else [values[i] for i in picked]


def carrier_of(item: dict[str, Any], batch: QueuedBatch) -> str:
    """The carrier a message was handed to."""
    return str(item.get("carrier") or batch.carrier or _BIZ_ID_CARRIER)


def settlement_of(record: SentRecord) -> Settlement:
    return Settlement(_STATES[record.status], record.error_code, record.carrier_id)


class Settling:
    """The dispatcher's settling of unknown outcomes (``Dispatcher`` gives ``tally``, ``now``
    and ``client``)."""

    tally: Any

    def now(self) -> datetime:
        raise NotImplementedError

    def client(self, name: str) -> Any:
        raise NotImplementedError

    def _settle_round(self, batch: QueuedBatch) -> None:
        self._settle_in_flight(batch, list(range(len(batch.message_ids))), numbers_of(batch), rounds_done=batch.attempt)

    def _settle_in_flight(self, batch: QueuedBatch, picked: list[int], numbers: list[str], *, rounds_done: int) -> None:
        """Settle those of the recipients at ``picked`` still in ``sending`` (read first)."""
        items = message_store.get_many(pick(batch.message_ids, picked))
        still = [i for i in picked if items.get(batch.message_ids[i], {}).get("state") == _SENDING]
        if still:
            self._settle(batch, still, numbers, items, rounds_done=rounds_done)

    def _settle(
        self,
        batch: QueuedBatch,
        picked: list[int],
        numbers: list[str],
        items: dict[str, dict[str, Any]],
        *,
        rounds_done: int,
    ) -> None:
        now = self.now()
        unresolved: list[int] = []
        for index in picked:
            mid = batch.message_ids[index]
            item = items.get(mid, {})
            carrier = carrier_of(item, batch)
            found = self._ask_carrier(carrier, numbers[index], item.get("out_id") or batch.out_id, item, now)
            if found is None:
                unresolved.append(index)
            else:
                self._apply_settlement(batch, mid, carrier, found, now)
        if not unresolved:
            return
        next_round = rounds_done + 1
        delay = settle_delay(next_round)
        if delay is None:
            failed = sum(
                message_store.mark_failed(batch.message_ids[i], UNSETTLED_CODE, "运营商无此短信的发送记录", now)
                is not None
                for i in unresolved
            )
            self.tally.add("failed", batch.kind, batch.office, failed)
            return
        first = items.get(batch.message_ids[unresolved[0]], {})
        outbox.send_again(
            batch,
            indexes=unresolved,
            numbers=numbers,
            action=BatchAction.SETTLE,
            attempt=next_round,
            not_before=now + timedelta(seconds=delay),
            carrier=carrier_of(first, batch),
        )

    def _ask_carrier(
        self, carrier: str, phone: str, out_id: str, item: dict[str, Any], now: datetime
    ) -> Settlement | None:
        """What ``carrier`` recorded of the message; None when it has no record or could not be
        asked (asked again later)."""
        sending_at = item.get("sending_at")
        handed_over = datetime.fromisoformat(sending_at) if sending_at else now
        lookup = self.client(carrier).find_sent(phone, out_id, handed_over)
        if lookup.outcome is not Outcome.OK or lookup.found is None:
            return None
        return settlement_of(lookup.found)

    def _apply_settlement(self, batch: QueuedBatch, mid: str, carrier: str, found: Settlement, now: datetime) -> None:
        kind, office = batch.kind, batch.office
        biz_id = found.biz_id if carrier == _BIZ_ID_CARRIER else None
        if found.biz_id and biz_id is None:  # the carrier's own id of it: its receipts find the message by it
            message_store.record_carrier_ids(carrier, {mid: found.biz_id}, now)
        if found.state is MessageState.FAILED:
            if message_store.mark_failed(mid, found.error_code or "UNKNOWN", "运营商记录发送失败", now, biz_id=biz_id):
                self.tally.add("failed", kind, office)
            return
        # The carrier took it: it counts as sent (and its parts as used) whatever happens next.
        if message_store.mark_sent(mid, biz_id, now):
            self.tally.add("sent", kind, office)
            self.tally.add("parts", kind, office, batch.parts)
        if found.state is MessageState.DELIVERED and message_store.mark_delivered(mid, now, biz_id=biz_id):
            self.tally.add("delivered", kind, office)
