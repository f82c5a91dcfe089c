"""Sending one queued batch to the carrier, exactly once per recipient.

For each batch, in order:

1. Not due yet (``not_before`` later than now): queue it again, delayed (a chain of delayed
   messages covers waits longer than SQS's 15 minutes).
2. A ``settle`` batch: ask the carrier what became of its recipients still in ``sending``.
3. Publicity outside 08:00-21:00 Beijing time: queue it again for the next 08:00.
4. A stopped send or a suspended office suppresses the messages still queued; so does a number
   on the block list, and a number held for verification ends ``undeliverable`` (号码待核实);
   publicity honours opt-outs. Of those held back and no longer queued, one still ``sending`` (an
   earlier attempt's) is settled as in 5.
5. Frequency limits and ``queued → sending``, one transaction per recipient (packed a hundred
   writes to a ``TransactWriteItems`` call): the recipient is counted in each window and taken
   for sending, or neither. Over a limit, transactional messages (and publicity over a
   per-template limit) wait for the window to pass in a new delayed message; publicity over
   its daily limit is suppressed. Only recipients this attempt moved are sent.
   A refused move returns the message as it is, so a redelivered batch needs no read first:
   ``sending`` ones were handed to the carrier by an earlier attempt whose outcome is unknown
   (a crash, a timeout) and are settled with ``QuerySendDetails``, never sent again; others
   are done.
6. One ``SendSms`` when every text is the same, else one ``SendBatchSms``; then by outcome:
   ``OK`` → ``sent`` with the BizId; ``REJECTED`` → ``failed`` with the carrier's code;
   ``LIMITED`` → back to ``queued``, its frequency counts given back, and a new message 15
   minutes later (three times, then ``failed``); ``RETRY`` → back to ``queued`` (counts given
   back) and ``TransientCarrierFault`` so that SQS
   redelivers with backoff (and after its maxReceiveCount, the dead-letter queue);
   ``UNKNOWN`` → settled now, and in later ``settle`` rounds while the carrier has no record.

Waiting is always a new delayed message, never a failed receive, so a message's receive count
climbs only for real faults. The per-recipient work of a batch is kept to building its writes:
numbers sealed together are opened with one decryption, states are learnt from the moves
themselves, the two moves of a message share its key, moves go in transactions, daily counts in
one ``ADD``, and nothing is logged per recipient.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from sms_platform.aws import transactions
from sms_platform.carrier import client as carrier_client
from sms_platform.carrier.client import Outcome
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import Clock, get_clock
from sms_platform.foundation.observability import metrics
from sms_platform.sending import (
    frequency_limits,
    message_items,
    message_store,
    number_health,
    optouts,
    outbox,
    test_messages,
)
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.messages import (
    LIMITED_DELAY_SECONDS,
    LIMITED_EXHAUSTED_NOTE,
    MAX_LIMITED_ATTEMPTS,
    NUMBER_UNVERIFIED,
    UNSETTLED_CODE,
    BatchAction,
    LimitRules,
    MessageState,
    QueuedBatch,
    Settlement,
    SuppressReason,
    beijing_date,
    in_publicity_window,
    is_due,
    limit_specs,
    next_publicity_opening,
    send_details_of,
    settle_delay,
    settlement_from_details,
)
from sms_platform.sending.number_health_rules import Hold

QUERY_PAGE_SIZE = 50
QUERY_MAX_PAGES = 5
_SENDING = MessageState.SENDING.value


def numbers_of(batch: QueuedBatch) -> list[str]:
    """The recipients' numbers in recipient order, opened from the batch's sealed numbers with
    one decryption."""
    numbers = crypto.open_many(batch.phones)
    if len(numbers) != len(batch.message_ids):
        raise ValueError("the batch's sealed numbers do not match its recipients")
    return numbers


def _pick(values: list[Any], picked: list[int]) -> list[Any]:
    """The entries of one of the batch's parallel lists at ``picked`` (indexes in order); the
    list itself when that is all of them, the usual case. Only read, never changed."""
    return values if len(picked) == len(values) else [values[i] for i in picked]


class TransientCarrierFault(Exception):
    """The carrier did not take the request (no connection, 5xx, throttling): retry later."""

    def __init__(self, code: str) -> None:
        super().__init__(f"carrier unavailable: {code}")
        self.code = code


@dataclass
class Tally:
    """Counts for the EMF metrics, by (metric, kind, office)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, metric: str, kind: str, office: str, value: int = 1) -> None:
        if value:
            self.counts[(metric, str(kind), office)] += value

    def get(self, metric: str) -> int:
        return sum(v for (m, _, _), v in self.counts.items() if m == metric)

    def emit(self) -> None:
        """One EMF document per (kind, office), each holding that group's counts, through the
        process's Metrics (``observability.metrics()``). A document's dimensions hold for all
        its metrics, so each group is flushed on its own; the template's metric filters read
        ``sent`` and ``failed`` from these documents."""
        if not self.counts:
            return
        groups: dict[tuple[str, str], dict[str, int]] = {}
        for (metric, kind, office), value in self.counts.items():
            groups.setdefault((kind, office), {})[metric] = value
        shared = metrics()
        for (kind, office), values in groups.items():
            shared.add_dimension(name="kind", value=kind)
            shared.add_dimension(name="office", value=office)
            for metric, value in values.items():
                shared.add_metric(name=metric, unit=MetricUnit.Count, value=value)
            shared.flush_metrics()
        self.counts.clear()


@dataclass
class Taken:
    """What an attempt's ``queued → sending`` moves found."""

    attempt: str  # the token its moves wrote
    counters: frequency_limits.BatchCounters | None  # the windows it counted the messages in
    mine: list[int]  # the recipients it took (by index in the batch), to send now
    in_flight: list[int] = field(default_factory=list)  # taken by an earlier attempt, outcome unknown
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # those messages as they are


@dataclass
class Dispatcher:
    carrier: Any = None  # a CarrierClient; the environment's one by default
    clock: Clock | None = None
    rules: LimitRules = field(default_factory=LimitRules.from_settings)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        if self.carrier is None:
            # looked up on the module when the dispatcher is made: tests put their own client there
            self.carrier = carrier_client.carrier_client_from_environment()

    def now(self) -> datetime:
        return (self.clock or get_clock()).now()

    # ------------------------------------------------------------------ entry
    def process(self, batch: QueuedBatch) -> None:
        now = self.now()
        if not is_due(now, batch.not_before):
            outbox.send_again(batch)
            return
        if batch.test:  # a test key's messages never reach the carrier: settled here (CONTRACTS §7)
            test_messages.settle(batch, numbers_of(batch), now)
            return
        if batch.action is BatchAction.SETTLE:
            self._settle_round(batch)
            return
        if batch.kind is SmsKind.PUBLICITY and not in_publicity_window(now):
            outbox.send_again(batch, not_before=next_publicity_opening(now))
            return

        # Recipients are handled by their index in the batch (its lists are parallel).
        numbers = numbers_of(batch)
        picked, not_queued = self._screen(batch, list(range(len(numbers))), now)
        if not_queued:  # held back, but no longer queued: one an earlier attempt left in flight is settled
            self._settle_in_flight(batch, not_queued, numbers, rounds_done=0)
        if picked:
            self._send(batch, picked, numbers, now)

    # ------------------------------------------------------------------ checks before sending
    def _screen(self, batch: QueuedBatch, picked: list[int], now: datetime) -> tuple[list[int], list[int]]:
        """Holds and opt-outs; frequency limits are checked as the messages are taken (``_send``).
        The recipients to go on, and those held back that were no longer queued."""
        hold = message_store.hold_reason(batch.source_id, batch.office)
        if hold:
            return [], self._suppress(batch, picked, hold, now)
        picked, not_queued = self._number_holds(batch, picked, now)
        if batch.kind is SmsKind.PUBLICITY:
            hashes = batch.phone_hashes
            opted_out = optouts.opted_out_among(hashes[i] for i in picked)
            if opted_out:
                held = [i for i in picked if hashes[i] in opted_out]
                not_queued += self._suppress(batch, held, SuppressReason.OPT_OUT, now)
                picked = [i for i in picked if hashes[i] not in opted_out]
        return picked, not_queued

    def _number_holds(self, batch: QueuedBatch, picked: list[int], now: datetime) -> tuple[list[int], list[int]]:
        """Numbers on the block list are suppressed; numbers held for verification end
        ``undeliverable`` (号码待核实) instead of being paid for again (``number_health_rules``).
        The recipients to go on, and those held back that were no longer queued."""
        hashes = batch.phone_hashes
        held = number_health.holds_among(_pick(hashes, picked), batch.kind)
        if not held:
            return picked, []
        blocked = [i for i in picked if held.get(hashes[i]) is Hold.BLOCKED]
        not_queued = self._suppress(batch, blocked, SuppressReason.BLOCKED, now)
        undeliverable = 0
        for index in (i for i in picked if held.get(hashes[i]) is Hold.UNVERIFIED):
            if message_store.mark_undeliverable(batch.message_ids[index], NUMBER_UNVERIFIED, now):
                undeliverable += 1
            else:
                not_queued.append(index)
        self.tally.add("undeliverable", batch.kind, batch.office, undeliverable)
        return [i for i in picked if hashes[i] not in held], not_queued

    def _suppress(self, batch: QueuedBatch, picked: Iterable[int], reason: SuppressReason, now: datetime) -> list[int]:
        """Suppress the recipients still queued; the others (no longer queued) are returned."""
        mids, done, not_queued = batch.message_ids, 0, []
        for index in picked:
            if message_store.suppress(mids[index], reason, now):
                done += 1
            else:
                not_queued.append(index)
        self.tally.add("suppressed", batch.kind, batch.office, done)
        return not_queued

    # ------------------------------------------------------------------ sending
    def _take(self, batch: QueuedBatch, picked: list[int], numbers: list[str], keys: list[Any], now: datetime) -> Taken:
        """Count each recipient in its frequency windows and move it ``queued → sending``, in one
        transaction per message. Usually every move is written and every recipient taken; when
        some are not, ``_sort_out`` says what becomes of them."""
        specs = limit_specs(self.rules, batch.kind, batch.template_code, now)
        counters = frequency_limits.counters_for(specs) if specs else None
        taken = Taken(uuid.uuid4().hex, counters, picked)
        outcome = message_store.mark_sending_many(
            _pick(keys, picked),
            taken.attempt,
            batch.out_id,
            now,
            counters=counters,
            phone_hashes=_pick(batch.phone_hashes, picked),
        )
        if outcome.refused or outcome.unwritten:
            self._sort_out(batch, picked, numbers, taken, outcome, now)
        return taken

    def _sort_out(
        self,
        batch: QueuedBatch,
        picked: list[int],
        numbers: list[str],
        taken: Taken,
        outcome: transactions.Outcome,
        now: datetime,
    ) -> None:
        """Of ``picked`` (by position in the moves), only those moved are this attempt's to send.

        A refused move names what refused it: the message's own write (it is no longer queued; if
        ``sending``, an earlier attempt's whose outcome is unknown, settled by the caller), or a
        counter write (a full window: the message waits for the window to pass in a new delayed
        message, or, over publicity's daily limit, is suppressed). A move neither written nor
        refused (repeated write conflicts) is tried again in a fresh message.
        """
        refused, unwritten = outcome.refused, sorted(outcome.unwritten)
        not_moved = {*refused, *unwritten}
        taken.mine = [index for position, index in enumerate(picked) if position not in not_moved]
        own_write = len(taken.counters) if taken.counters is not None else 0  # its place in its transaction
        over_daily: list[int] = []
        waiting: dict[datetime, list[int]] = {}
        for position in sorted(refused):
            index, refusal = picked[position], refused[position]
            if own_write in refusal.failed:  # no longer queued: what is it now?
                item = refusal.failed[own_write] or {}
                if item.get("state") == _SENDING:
                    taken.in_flight.append(index)
                    taken.items[batch.message_ids[index]] = item
            elif taken.counters is not None:
                window = taken.counters.refused(refusal.action, refusal.item)
                if window.over_limit == "suppress":
                    over_daily.append(index)
                else:
                    waiting.setdefault(window.ends_at, []).append(index)
        self._suppress(batch, over_daily, SuppressReason.FREQUENCY_LIMIT, now)
        for due, group in waiting.items():
            outbox.send_again(batch, indexes=group, numbers=numbers, not_before=due)
            self.tally.add("delayed", batch.kind, batch.office, len(group))
        if unwritten:
            outbox.send_again(batch, indexes=[picked[position] for position in unwritten], numbers=numbers)

    def _send(self, batch: QueuedBatch, picked: list[int], numbers: list[str], now: datetime) -> None:
        keys = message_items.keys_of(batch.message_ids)
        taken = self._take(batch, picked, numbers, keys, now)
        if taken.in_flight:
            self._settle(batch, taken.in_flight, numbers, taken.items, rounds_done=0)
        mine = taken.mine
        if not mine:
            return
        to = _pick(numbers, mine)
        sign, code, out_id = batch.sign_name, batch.template_code, batch.out_id
        if batch.params is None:  # one text for all: the shared values
            result = self.carrier.send_sms(to, sign, code, batch.shared_params, out_id)
        elif batch.one_text(mine):
            result = self.carrier.send_sms(to, sign, code, batch.params_for(mine[0]), out_id)
        else:
            values = [batch.params_for(i) or {} for i in mine]
            result = self.carrier.send_batch_sms(to, sign, code, values, out_id)
        self._after_send(batch, taken, numbers, keys, result, sending_at=now)

    def _after_send(
        self,
        batch: QueuedBatch,
        taken: Taken,
        numbers: list[str],
        keys: list[Any],
        result: Any,
        *,
        sending_at: datetime,
    ) -> None:
        now = self.now()
        mine = taken.mine
        kind, office = batch.kind, batch.office
        mids = _pick(batch.message_ids, mine)
        if result.outcome is Outcome.OK:
            # A receipt may have landed first; that message then only records the BizId.
            group = message_items.SentGroup(kind, office, batch.parts, sending_at)
            message_store.mark_sent_many(_pick(keys, mine), result.biz_id, now, group)
            self.tally.add("sent", kind, office, len(mids))
            self.tally.add("parts", kind, office, len(mids) * batch.parts)
        elif result.outcome is Outcome.REJECTED:
            failed = sum(message_store.mark_failed(mid, result.code, result.message, now) is not None for mid in mids)
            self.tally.add("failed", kind, office, failed)
        elif result.outcome is Outcome.LIMITED:
            if batch.attempt + 1 > MAX_LIMITED_ATTEMPTS:
                failed = sum(
                    message_store.mark_failed(mid, result.code, LIMITED_EXHAUSTED_NOTE, now) is not None for mid in mids
                )
                self.tally.add("failed", kind, office, failed)
                return
            again = self._requeue(batch, taken, keys, now)
            if again:
                outbox.send_again(
                    batch,
                    indexes=again,
                    numbers=numbers,
                    attempt=batch.attempt + 1,
                    not_before=now + timedelta(seconds=LIMITED_DELAY_SECONDS),
                )
        elif result.outcome is Outcome.RETRY:
            self._requeue(batch, taken, keys, now)
            raise TransientCarrierFault(result.code)
        else:  # UNKNOWN: the request may have been sent; ask, never send again
            items = message_store.get_many(mids)
            self._settle(batch, mine, numbers, items, rounds_done=0)

    @staticmethod
    def _requeue(batch: QueuedBatch, taken: Taken, keys: list[Any], now: datetime) -> list[int]:
        """Put the attempt's messages back to ``queued``, their frequency counts given back (the
        carrier did not take the request); the ones moved back."""
        mine, counters = taken.mine, taken.counters
        releases = [counters.releases(batch.phone_hashes[i]) for i in mine] if counters is not None else None
        moved = message_store.requeue_many(_pick(keys, mine), taken.attempt, now, releases=releases)
        return [mine[position] for position in moved]

    # ------------------------------------------------------------------ settling unknown outcomes
    def _settle_round(self, batch: QueuedBatch) -> None:
        self._settle_in_flight(batch, list(range(len(batch.message_ids))), numbers_of(batch), rounds_done=batch.attempt)

    def _settle_in_flight(self, batch: QueuedBatch, picked: list[int], numbers: list[str], *, rounds_done: int) -> None:
        """Settle those of the recipients at ``picked`` still in ``sending`` (read first)."""
        items = message_store.get_many(_pick(batch.message_ids, picked))
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
            found = self._ask_carrier(numbers[index], item.get("out_id") or batch.out_id, item, now)
            if found is None:
                unresolved.append(index)
            else:
                self._apply_settlement(batch, mid, found, now)
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
        outbox.send_again(
            batch,
            indexes=unresolved,
            numbers=numbers,
            action=BatchAction.SETTLE,
            attempt=next_round,
            not_before=now + timedelta(seconds=delay),
        )

    def _ask_carrier(self, phone: str, out_id: str, item: dict[str, Any], now: datetime) -> Settlement | None:
        sending_at = item.get("sending_at")
        days = [beijing_date(datetime.fromisoformat(sending_at))] if sending_at else []
        if beijing_date(now) not in days:
            days.append(beijing_date(now))
        for day in days:
            for page in range(1, QUERY_MAX_PAGES + 1):
                answer = self.carrier.query_send_details(phone, day, page_size=QUERY_PAGE_SIZE, current_page=page)
                if not answer.ok:
                    return None
                details = send_details_of(answer.data)
                found = settlement_from_details(details, out_id)
                if found:
                    return found
                if len(details) < QUERY_PAGE_SIZE:
                    break
        return None

    def _apply_settlement(self, batch: QueuedBatch, mid: str, found: Settlement, now: datetime) -> None:
        kind, office = batch.kind, batch.office
        if found.state is MessageState.FAILED:
            if message_store.mark_failed(
                mid, found.error_code or "UNKNOWN", "运营商记录发送失败", now, biz_id=found.biz_id
            ):
                self.tally.add("failed", kind, office)
            return
        # The carrier took it: it counts as sent (and its parts as used) whatever happens next.
        if message_store.mark_sent(mid, found.biz_id, now):
            self.tally.add("sent", kind, office)
            self.tally.add("parts", kind, office, batch.parts)
        if found.state is MessageState.DELIVERED and message_store.mark_delivered(mid, now, biz_id=found.biz_id):
            self.tally.add("delivered", kind, office)
