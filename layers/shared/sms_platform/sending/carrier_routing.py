"""Which carrier a queued batch goes through, and where it goes when that carrier refuses it:
the pure rules. The settings they read are IT operations' (``carrier_rotation``: each lane's
weights, each carrier's state), read by the dispatcher through ``carrier_route_cache``.

A batch's route is its carriers in failover order (``route``):

1. Eligible: configured for this deployment, approved the batch's template version (a version
   approved at one carrier only never goes to another), and neither ``drained`` (by hand) nor
   ``out`` (by the health watch, until its probation ends). When every eligible carrier is out,
   they are used all the same: a health judgement never stops all sending; a drain does.
2. First, one carrier drawn by weight among the eligible ones weighted above 0; the draw is by
   the batch's id, so the same batch delivered again draws the same carrier. Then the other
   eligible carriers, heaviest first, in the carriers' order on a tie (a carrier of weight 0 is
   a standby: it takes a batch only when the weighted ones cannot).
3. A batch a carrier refused to take (RETRY, LIMITED: the carrier certainly did not send it)
   goes on to the next carrier of its route, never back to one that refused it in this
   handling. A message whose outcome is unknown stays with its carrier until that carrier
   has been asked (``Dispatcher._settle``).
4. A carrier that refused a request in this container moments ago comes last in the routes
   drawn meanwhile (``carrier_route_cache.REFUSAL_SECONDS``): while it is down, a batch does not
   first wait for its refusal, until the health watch takes it out.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sms_platform.carrier.base import CarrierName, Outcome

ACTIVE, DRAINED, OUT = "active", "drained", "out"
STATES = frozenset({ACTIVE, DRAINED, OUT})
# The carriers' order (carrier.configured.ORDER): ties and listings follow it.
ORDER: tuple[str, ...] = (CarrierName.ALIBABA.value, CarrierName.TENCENT.value)
# Outcomes that mean the carrier did not take the request: the next carrier may.
REFUSED = frozenset({Outcome.RETRY, Outcome.LIMITED})


@dataclass(frozen=True)
class CarrierState:
    """A carrier's state as the operators' side wrote it."""

    state: str = ACTIVE
    until: datetime | None = None
    reason: str = ""

    def in_force(self, now: datetime) -> str:
        """The state at ``now``: active once ``until`` has passed."""
        if self.state == ACTIVE or (self.until is not None and now >= self.until):
            return ACTIVE
        return self.state


_NO_STATE = CarrierState()  # a carrier no operator has set: active (made once, not per batch)


@dataclass(frozen=True)
class RouteSettings:
    """One lane's weights and the carriers' states (a carrier absent: weight 0, active)."""

    weights: Mapping[str, int] = field(default_factory=dict)
    states: Mapping[str, CarrierState] = field(default_factory=dict)

    def weight_of(self, carrier: str) -> int:
        return max(0, int(self.weights.get(carrier, 0)))

    def state_of(self, carrier: str, now: datetime) -> str:
        return self.states.get(carrier, _NO_STATE).in_force(now)


def _ordered(names: Iterable[str]) -> list[str]:
    names = set(names)
    return [n for n in ORDER if n in names] + sorted(names - set(ORDER))


def eligible(approved: Iterable[str], configured: Iterable[str], settings: RouteSettings, now: datetime) -> list[str]:
    """The carriers that may carry the batch now, in the carriers' order (see the module's rule 1)."""
    usable = set(approved).intersection(configured)
    if len(usable) == 1:  # the usual case: one carrier, whatever its state but drained
        (name,) = usable
        return [] if settings.state_of(name, now) == DRAINED else [name]
    states = {name: settings.state_of(name, now) for name in usable}
    active = [name for name in _ordered(usable) if states[name] == ACTIVE]
    if active:
        return active
    # Every one is out or drained: the health judgement yields, an operator's drain does not.
    return [name for name in _ordered(usable) if states[name] == OUT]


def draw(key: str, weights: Mapping[str, int]) -> str | None:
    """One carrier drawn by weight (only those above 0), the same for the same ``key``."""
    names = [name for name in _ordered(weights) if weights[name] > 0]
    total = sum(weights[name] for name in names)
    if not total:
        return None
    point = zlib.crc32(key.encode("utf-8")) % total
    for name in names:
        point -= weights[name]
        if point < 0:
            return name
    return names[-1]  # not reached: the points add up to the total


def route(
    approved: Iterable[str],
    configured: Iterable[str],
    settings: RouteSettings,
    now: datetime,
    key: str,
    refusing: Iterable[str] = (),
) -> list[str]:
    """The batch's carriers in failover order (the module's rules 1 and 2); empty when none may
    carry it. Carriers ``refusing`` requests moments ago (rule 4) come last."""
    candidates = eligible(approved, configured, settings, now)
    if len(candidates) < 2:  # the usual case of a deployment with one carrier: nothing to draw
        return candidates
    weights = {name: settings.weight_of(name) for name in candidates}
    first = draw(key, weights)
    rest = [name for name in candidates if name != first]
    rest.sort(key=lambda name: -weights[name])  # stable: the carriers' order on a tie
    order = ([first] if first else []) + rest
    down = set(refusing)
    return [name for name in order if name not in down] + [name for name in order if name in down]


def next_carrier(order: list[str], refused: Iterable[str]) -> str | None:
    """The next carrier of a route after those that refused the batch (rule 3)."""
    tried = set(refused)
    return next((name for name in order if name not in tried), None)


class Answers(NamedTuple):
    """What a carrier answered for the recipients of one hand-over."""

    groups: dict[Outcome, list[int]]  # the recipients (by index in the batch) by outcome
    # The carrier's id of each message it took, in ``groups[Outcome.OK]``'s order; None from a
    # carrier that names no message (Alibaba: one BizId per request).
    carrier_ids: list[str | None] | None = None


def by_outcome(result: Any, indexes: list[int], numbers: list[str]) -> Answers:
    """The recipients at ``indexes`` (their numbers in ``numbers``) grouped by what the carrier
    answered for each: its own answer where it answered per number, else the request's.

    A number the carrier answered nothing for in a request it took is UNKNOWN: it may have been
    sent, so it is settled by asking, never sent again."""
    recipients = result.recipients
    if not recipients:
        return Answers({result.outcome: list(indexes)})
    ok = Outcome.OK  # looked up once: an enum member is slow to reach through its class
    if (
        len(recipients) == len(indexes)
        and [r.outcome for r in recipients].count(ok) == len(indexes)
        and [r.phone for r in recipients] == [numbers[i] for i in indexes]
    ):  # every number taken and answered in the order asked, as Tencent answers: one pass
        return Answers({ok: list(indexes)}, _named([r.carrier_id for r in recipients]))
    answers = {r.phone: r for r in recipients}
    groups: dict[Outcome, list[int]] = {}
    ids: list[str | None] = []
    for index in indexes:
        answer = answers.get(numbers[index])
        if answer is None:
            outcome = Outcome.UNKNOWN if result.outcome is Outcome.OK else result.outcome
        else:
            outcome = answer.outcome
            if outcome is Outcome.OK:
                ids.append(answer.carrier_id)
        groups.setdefault(outcome, []).append(index)
    return Answers(groups, _named(ids))


def _named(ids: list[str | None]) -> list[str | None] | None:
    return ids if any(ids) else None


def answer_of(result: Any, phone: str) -> tuple[str, str]:
    """The carrier's code and message for one number (its own where it answered per number)."""
    for recipient in result.recipients:
        if recipient.phone == phone:
            return recipient.code, recipient.message
    return result.code, result.message


def health_counts(groups: Mapping[Outcome, list[int]]) -> dict[str, int]:
    """How many recipients of one hand-over ended in each outcome, for the health counter."""
    return {outcome.value: len(indexes) for outcome, indexes in groups.items() if indexes}
