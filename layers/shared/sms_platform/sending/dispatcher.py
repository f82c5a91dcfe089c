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
6. The batch's route (``carrier_routing``: the carriers that approved its template version,
   configured and not drained or out, the first drawn by the lane's weights) names the carrier
   each message is taken for. Its ``Carrier.send`` (Alibaba: one ``SendSms`` when every text is
   the same, else one ``SendBatchSms``; Tencent: one ``SendSms`` per set of values, with its
   template id and positional values) answers per number or for all; then by outcome:
   ``OK`` → ``sent`` with the BizId, or the carrier's own id of each message recorded
   (``cid#``) so its receipts find it; ``REJECTED`` → ``failed`` with the carrier's code;
   ``UNKNOWN`` → settled now at that carrier (``settling``), and in later ``settle`` rounds
   while it has no record, never sent through another. ``RETRY`` and ``LIMITED`` (the carrier
   did not take them) go at once to the route's next carrier, never back to one that refused
   them; what every carrier refused goes back to ``queued`` (counts given back): ``LIMITED`` in
   a new message 15 minutes later (three times, then ``failed``), ``RETRY`` with
   ``TransientCarrierFault`` so that SQS redelivers with backoff (and after its
   maxReceiveCount, the dead-letter queue). Each hand-over adds to the carrier's health
   counters of the minute (``carrier_health_counts``), and its sent moves to the day's
   statistics (``daily_stats.SentCounts``), both written when the invocation ends (``finish``).

Waiting is always a new delayed message, never a failed receive, so a message's receive count
climbs only for real faults. The per-recipient work of a batch is kept to building its writes:
numbers sealed together are opened with one decryption, states are learnt from the moves
themselves, the two moves of a message share its key, moves go in transactions, daily counts are
added up and written once per invocation, and nothing is logged per recipient.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sms_platform.aws import transactions
from sms_platform.carrier import client as carrier_client
from sms_platform.carrier.base import CarrierName, CarrierTemplate, Outcome
from sms_platform.carrier.configured import carrier_named, configured_names
from sms_platform.foundation.clock import Clock, get_clock
from sms_platform.sending import (
    carrier_health_counts,
    carrier_route_cache,
    carrier_routing,
    daily_stats,
    frequency_limits,
    message_items,
    message_store,
    number_health,
    optouts,
    outbox,
    test_messages,
)
from sms_platform.sending.carrier_route_cache import TemplateLookup
from sms_platform.sending.lanes import SmsKind, lane_for
from sms_platform.sending.messages import (
    LIMITED_DELAY_SECONDS,
    LIMITED_EXHAUSTED_NOTE,
    MAX_LIMITED_ATTEMPTS,
    NUMBER_UNVERIFIED,
    BatchAction,
    LimitRules,
    MessageState,
    QueuedBatch,
    SuppressReason,
    in_publicity_window,
    is_due,
    limit_specs,
    next_publicity_opening,
)
from sms_platform.sending.number_health_rules import Hold
from sms_platform.sending.settling import Settling, numbers_of
from sms_platform.sending.settling import pick as _pick
from sms_platform.sending.tally import Tally

_SENDING = MessageState.SENDING.value
ALIBABA = CarrierName.ALIBABA.value


@lru_cache(maxsize=256)
def _first_carrier(template_code: str) -> Mapping[str, CarrierTemplate]:
    """The first carrier, knowing the template by ``template_code`` (made once per code; only read)."""
    return MappingProxyType({ALIBABA: CarrierTemplate(template_code)})


class TransientCarrierFault(Exception):
    """The carrier did not take the request (no connection, 5xx, throttling): retry later."""

    def __init__(self, code: str) -> None:
        super().__init__(f"carrier unavailable: {code}")
        self.code = code


@dataclass
class Taken:
    """What an attempt's ``queued → sending`` moves found."""

    attempt: str  # the token its moves wrote
    counters: frequency_limits.BatchCounters | None  # the windows it counted the messages in
    mine: list[int]  # the recipients it took (by index in the batch), to send now
    in_flight: list[int] = field(default_factory=list)  # taken by an earlier attempt, outcome unknown
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # those messages as they are


@dataclass
class Dispatcher(Settling):
    carrier: Any = None  # one carrier for every batch (a ``base.Carrier``), else the configured ones
    clock: Clock | None = None
    rules: LimitRules = field(default_factory=LimitRules.from_settings)
    tally: Tally = field(default_factory=Tally)
    health: carrier_health_counts.HandOvers = field(default_factory=carrier_health_counts.HandOvers)
    sent_counts: daily_stats.SentCounts = field(default_factory=daily_stats.SentCounts)
    # The carriers that approved a template version, each with the version as it knows it
    # (``templates.filing.approved_templates``); without it a batch goes by its template code.
    templates: TemplateLookup | None = None
    carriers: Mapping[str, Any] | None = None  # the carriers by name, instead of the configured ones
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    # (kind, template code, minute) -> the windows of ``_counters``; a dispatcher lasts one invocation
    _windows: dict[tuple[str, str, int], Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.carrier is not None and self.carriers is None:
            self.carriers = {self.carrier.name: self.carrier}

    def now(self) -> datetime:
        return (self.clock or get_clock()).now()

    def finish(self) -> None:
        """At the end of an invocation: the metrics, the carriers' health counters and the daily
        statistics of its sent moves, as it added them up."""
        self.tally.emit()
        self.health.flush()
        self.sent_counts.flush()

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
    def _take(
        self, batch: QueuedBatch, picked: list[int], numbers: list[str], keys: list[Any], now: datetime, *, carrier: str
    ) -> Taken:
        """Count each recipient in its frequency windows and move it ``queued → sending`` for
        ``carrier``, in one transaction per message. Usually every move is written and every recipient taken; when
        some are not, ``_sort_out`` says what becomes of them."""
        counters = self._counters(batch, now)
        taken = Taken(os.urandom(16).hex(), counters, picked)  # a random token
        outcome = message_store.mark_sending_many(
            _pick(keys, picked),
            taken.attempt,
            batch.out_id,
            now,
            counters=counters,
            phone_hashes=_pick(batch.phone_hashes, picked),
            carrier=carrier,
        )
        if outcome.refused or outcome.unwritten:
            self._sort_out(batch, picked, numbers, taken, outcome, now)
        return taken

    def _counters(self, batch: QueuedBatch, now: datetime) -> frequency_limits.BatchCounters | None:
        """The frequency windows ``batch``'s messages are counted in now: the same for every batch
        of a kind and template within a minute, so worked out once for them."""
        key = (batch.kind, batch.template_code, int(now.timestamp()) // 60)
        if key not in self._windows:
            specs = limit_specs(self.rules, batch.kind, batch.template_code, now)
            self._windows[key] = frequency_limits.counters_for(specs) if specs else None
        return self._windows[key]

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
        route = self._route(batch, now)
        keys = message_items.keys_of(batch.message_ids)
        taken = self._take(batch, picked, numbers, keys, now, carrier=route[0][0])
        if taken.in_flight:
            self._settle(batch, taken.in_flight, numbers, taken.items, rounds_done=0)
        if taken.mine:
            self._hand_over(batch, taken, numbers, keys, route, sending_at=now)

    # ------------------------------------------------------------------ carriers
    def _route(self, batch: QueuedBatch, now: datetime) -> list[tuple[str, CarrierTemplate]]:
        """The batch's carriers in failover order, each with the template as it knows it
        (``carrier_routing``); a batch no carrier may carry now waits as a transient fault."""
        approved = self._approved(batch, now)
        lane = str(lane_for(batch.kind))
        settings = carrier_route_cache.route_settings(lane, now=now)
        refusing = carrier_route_cache.refusing(now=now)
        order = carrier_routing.route(approved, self._configured(), settings, now, batch.batch_id, refusing)
        if not order:
            raise TransientCarrierFault("NoEligibleCarrier")
        return [(name, approved[name]) for name in order]

    def _approved(self, batch: QueuedBatch, now: datetime) -> Mapping[str, CarrierTemplate]:
        found = None
        if self.templates is not None:
            found = carrier_route_cache.approved_templates(
                self.templates, batch.template_id, batch.template_version, now=now
            )
        if found:
            return found
        if found is not None and not batch.template_code:
            return {}  # a version no carrier approved: nothing may carry it
        # A version the platform does not hold (or none looked up): the first carrier, by the
        # template code the batch was queued with.
        return _first_carrier(batch.template_code)

    def _configured(self) -> tuple[str, ...]:
        return tuple(self.carriers) if self.carriers is not None else configured_names()

    def client(self, name: str) -> Any:
        """The carrier ``name``'s client (made on first use)."""
        if name not in self._clients:
            if self.carriers is not None and name in self.carriers:
                self._clients[name] = self.carriers[name]
            elif name == ALIBABA:  # looked up on the module: tests put their own client there
                self._clients[name] = carrier_client.carrier_client_from_environment()
            else:
                self._clients[name] = carrier_named(name)
        return self._clients[name]

    def _hand_over(
        self,
        batch: QueuedBatch,
        taken: Taken,
        numbers: list[str],
        keys: list[Any],
        route: list[tuple[str, CarrierTemplate]],
        *,
        sending_at: datetime,
    ) -> None:
        """Hand the taken messages to the route's first carrier; what it refused to take goes on
        to the next, and what every carrier refused waits (``_refused_everywhere``)."""
        pending = taken.mine
        answer: tuple[Any, dict[Outcome, list[int]]] | None = None
        for position, (name, template) in enumerate(route):
            if position:
                pending = self._switch(batch, taken, numbers, keys, pending, name)
                if not pending:
                    return
            result, answers = self._call(batch, name, template, pending, numbers)
            self._record(batch, name, numbers, keys, result, answers, sending_at=sending_at)
            groups = answers.groups
            pending = sorted(groups.get(Outcome.RETRY, []) + groups.get(Outcome.LIMITED, []))
            if not pending:
                return
            if result.outcome in carrier_routing.REFUSED:  # the request as a whole, not one number
                carrier_route_cache.note_refusal(name, now=self.now())
            answer = (result, groups)
        if answer is not None:
            self._refused_everywhere(batch, taken, numbers, keys, *answer)

    def _call(
        self, batch: QueuedBatch, name: str, template: CarrierTemplate, indexes: list[int], numbers: list[str]
    ) -> tuple[Any, carrier_routing.Answers]:
        """One hand-over to carrier ``name``: its result and what it answered for each
        recipient, counted for the carrier's health."""
        if batch.params is None:  # one text for all: the shared values
            values: Any = batch.shared_params
        elif batch.one_text(indexes):
            values = batch.params_for(indexes[0])
        else:
            values = [batch.params_for(i) or {} for i in indexes]
        started = time.perf_counter()
        result = self.client(name).send(_pick(numbers, indexes), batch.sign_name, template, values, batch.out_id)
        latency_ms = int((time.perf_counter() - started) * 1000)
        answers = carrier_routing.by_outcome(result, indexes, numbers)
        self.health.add(name, self.now(), carrier_routing.health_counts(answers.groups), latency_ms=latency_ms)
        return result, answers

    def _switch(
        self, batch: QueuedBatch, taken: Taken, numbers: list[str], keys: list[Any], indexes: list[int], name: str
    ) -> list[int]:
        """Hand messages a carrier refused to carrier ``name``; those not handed over (no longer
        held) are put back and queued again, so none is left ``sending`` unasked."""
        now = self.now()
        moved = message_store.switch_carrier_many(_pick(keys, indexes), taken.attempt, name, now)
        switched = [indexes[position] for position in moved]
        if len(switched) < len(indexes):
            left = set(switched)
            again = self._requeue(batch, taken, keys, now, [i for i in indexes if i not in left])
            if again:
                outbox.send_again(batch, indexes=again, numbers=numbers)
        return switched

    def _record(
        self,
        batch: QueuedBatch,
        name: str,
        numbers: list[str],
        keys: list[Any],
        result: Any,
        answers: carrier_routing.Answers,
        *,
        sending_at: datetime,
    ) -> None:
        """What the carrier took is ``sent`` (with its ids), what it refused as the request's
        fault ``failed``; what it left unknown is settled by asking it."""
        now = self.now()
        kind, office, mids, groups = batch.kind, batch.office, batch.message_ids, answers.groups
        ok = groups.get(Outcome.OK)
        if ok:
            carrier_ids = answers.carrier_ids
            if carrier_ids:  # a carrier that names each message (Tencent): its receipts find them by it
                message_store.index_carrier_ids(name, zip(_pick(mids, ok), carrier_ids, strict=True), now)
            # A receipt may have landed first; that message then only records the BizId or its id.
            group = message_items.SentGroup(kind, office, batch.parts, sending_at, name)
            message_store.mark_sent_many(_pick(keys, ok), result.biz_id, now, group, carrier_ids, self.sent_counts)
            self.tally.add("sent", kind, office, len(ok))
            self.tally.add("parts", kind, office, len(ok) * batch.parts)
        rejected = groups.get(Outcome.REJECTED)
        if rejected:
            answers = {r.phone: r for r in result.recipients}
            failed = 0
            for index in rejected:
                own = answers.get(numbers[index])
                code, message = (own.code, own.message) if own else (result.code, result.message)
                failed += message_store.mark_failed(mids[index], code, message, now) is not None
            self.tally.add("failed", kind, office, failed)
        unknown = groups.get(Outcome.UNKNOWN)
        if unknown:  # the request may have been sent: ask this carrier, never send again
            self._settle(batch, unknown, numbers, message_store.get_many(_pick(mids, unknown)), rounds_done=0)

    def _refused_everywhere(
        self,
        batch: QueuedBatch,
        taken: Taken,
        numbers: list[str],
        keys: list[Any],
        result: Any,
        groups: dict[Outcome, list[int]],
    ) -> None:
        """Every carrier of the route refused these messages. Over a frequency limit they wait 15
        minutes in a new message (three times, then ``failed``); otherwise they go back to
        ``queued`` and the batch is retried with backoff (``TransientCarrierFault``)."""
        now = self.now()
        kind, office = batch.kind, batch.office
        limited = groups.get(Outcome.LIMITED, [])
        if limited and batch.attempt + 1 > MAX_LIMITED_ATTEMPTS:
            mids = batch.message_ids
            failed = sum(
                message_store.mark_failed(mids[i], result.code, LIMITED_EXHAUSTED_NOTE, now) is not None
                for i in limited
            )
            self.tally.add("failed", kind, office, failed)
        elif limited:
            again = self._requeue(batch, taken, keys, now, limited)
            if again:
                outbox.send_again(
                    batch,
                    indexes=again,
                    numbers=numbers,
                    attempt=batch.attempt + 1,
                    not_before=now + timedelta(seconds=LIMITED_DELAY_SECONDS),
                )
        retry = groups.get(Outcome.RETRY)
        if retry:
            self._requeue(batch, taken, keys, now, retry)
            raise TransientCarrierFault(result.code)

    @staticmethod
    def _requeue(batch: QueuedBatch, taken: Taken, keys: list[Any], now: datetime, indexes: list[int]) -> list[int]:
        """Put the attempt's messages at ``indexes`` back to ``queued``, their frequency counts
        given back (no carrier took the request); the ones moved back."""
        counters = taken.counters
        releases = [counters.releases(batch.phone_hashes[i]) for i in indexes] if counters is not None else None
        moved = message_store.requeue_many(_pick(keys, indexes), taken.attempt, now, releases=releases)
        return [indexes[position] for position in moved]
