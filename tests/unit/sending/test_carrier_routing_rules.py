"""The routing rules (sms_platform.sending.carrier_routing): which carriers may carry a batch, the
weighted draw, the failover order, and the recipients grouped by what a carrier answered."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.carrier.base import CarrierResult, Outcome, RecipientResult
from sms_platform.sending.carrier_routing import (
    CarrierState,
    RouteSettings,
    by_outcome,
    draw,
    eligible,
    health_counts,
    next_carrier,
    route,
)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
BOTH = ("alibaba", "tencent")
DEFAULT = RouteSettings({"alibaba": 100, "tencent": 0})


def states(**named: str) -> dict[str, CarrierState]:
    return {name: CarrierState(state) for name, state in named.items()}


@pytest.mark.parametrize(
    ("approved", "configured", "carrier_states", "expected"),
    [
        (BOTH, BOTH, {}, ["alibaba", "tencent"]),
        (["tencent"], BOTH, {}, ["tencent"]),  # approved at one carrier only: never the other
        (["alibaba"], BOTH, states(alibaba="drained"), []),  # drained by hand: nothing may carry it
        (["alibaba"], BOTH, states(alibaba="out"), ["alibaba"]),  # out, but the only one: it still carries
        (BOTH, ["alibaba"], {}, ["alibaba"]),  # Tencent not configured here
        (BOTH, BOTH, states(alibaba="drained"), ["tencent"]),
        (BOTH, BOTH, states(alibaba="out"), ["tencent"]),
        (BOTH, BOTH, states(alibaba="out", tencent="out"), ["alibaba", "tencent"]),  # a judgement never stops all
        (BOTH, BOTH, states(alibaba="out", tencent="drained"), ["alibaba"]),
        (BOTH, BOTH, states(alibaba="drained", tencent="drained"), []),
        ([], BOTH, {}, []),
    ],
    ids=[
        "both",
        "tencent-only",
        "drained-only-one",
        "out-only-one",
        "tencent-unconfigured",
        "drained",
        "out",
        "all-out",
        "out-and-drained",
        "all-drained",
        "no-approval",
    ],  # fmt: skip
)
def test_eligible_carriers_by_filing_configuration_and_state(approved, configured, carrier_states, expected):
    settings = RouteSettings({"alibaba": 100, "tencent": 0}, carrier_states)
    assert eligible(approved, configured, settings, NOW) == expected


@pytest.mark.parametrize(
    ("state", "until", "carries"),
    [
        ("out", NOW + timedelta(minutes=1), False),  # on probation
        ("out", NOW, True),  # its probation ended
        ("drained", None, False),
        ("drained", NOW - timedelta(seconds=1), True),
        ("active", None, True),
    ],
)
def test_a_state_holds_until_its_end(state, until, carries):
    settings = RouteSettings({"alibaba": 50, "tencent": 50}, {"tencent": CarrierState(state, until)})
    assert ("tencent" in eligible(BOTH, BOTH, settings, NOW)) is carries


@pytest.mark.parametrize(
    ("weights", "expected_share"),
    [
        ({"alibaba": 100, "tencent": 0}, {"alibaba": 1.0}),
        ({"alibaba": 0, "tencent": 100}, {"tencent": 1.0}),
        ({"alibaba": 70, "tencent": 30}, {"alibaba": 0.7, "tencent": 0.3}),
        ({"alibaba": 50, "tencent": 50}, {"alibaba": 0.5, "tencent": 0.5}),
    ],
)
def test_the_draw_follows_the_weights(weights, expected_share):
    keys = [f"{n:032x}" for n in range(0, 4000 * 7919, 7919)]
    drawn = Counter(draw(key, weights) for key in keys)
    for name, share in expected_share.items():
        assert abs(drawn[name] / len(keys) - share) < 0.04
    assert set(drawn) == set(expected_share)


def test_the_same_batch_draws_the_same_carrier_and_no_weight_draws_none():
    weights = {"alibaba": 50, "tencent": 50}
    assert {draw("batch-7", weights) for _ in range(10)} == {draw("batch-7", weights)}
    assert draw("batch-7", {"alibaba": 0, "tencent": 0}) is None


@pytest.mark.parametrize(
    ("weights", "carrier_states", "approved", "expected"),
    [
        ({"alibaba": 100, "tencent": 0}, {}, BOTH, ["alibaba", "tencent"]),  # Tencent the standby
        ({"alibaba": 0, "tencent": 100}, {}, BOTH, ["tencent", "alibaba"]),
        ({"alibaba": 100, "tencent": 0}, states(alibaba="out"), BOTH, ["tencent"]),  # standby takes over
        ({"alibaba": 100, "tencent": 0}, {}, ["tencent"], ["tencent"]),
        ({"alibaba": 0, "tencent": 0}, {}, BOTH, ["alibaba", "tencent"]),  # nothing weighted: the carriers' order
        ({}, {}, BOTH, ["alibaba", "tencent"]),
    ],
)
def test_the_route_is_the_drawn_carrier_then_the_rest_heaviest_first(weights, carrier_states, approved, expected):
    settings = RouteSettings(weights, carrier_states)
    assert route(approved, BOTH, settings, NOW, "batch-1") == expected


@pytest.mark.parametrize(
    ("weights", "refusing", "expected"),
    [
        ({"alibaba": 100, "tencent": 0}, ["alibaba"], ["tencent", "alibaba"]),  # refused moments ago: last
        ({"alibaba": 100, "tencent": 0}, ["alibaba", "tencent"], ["alibaba", "tencent"]),
        ({"alibaba": 100, "tencent": 0}, ["tencent"], ["alibaba", "tencent"]),
    ],
)
def test_a_carrier_refusing_moments_ago_comes_last(weights, refusing, expected):
    assert route(BOTH, BOTH, RouteSettings(weights), NOW, "batch-1", refusing) == expected


def test_a_weighted_route_puts_the_other_carrier_second():
    settings = RouteSettings({"alibaba": 50, "tencent": 50})
    routes = {tuple(route(BOTH, BOTH, settings, NOW, f"b{n}")) for n in range(200)}
    assert routes == {("alibaba", "tencent"), ("tencent", "alibaba")}


@pytest.mark.parametrize(
    ("order", "refused", "expected"),
    [
        (["alibaba", "tencent"], [], "alibaba"),
        (["alibaba", "tencent"], ["alibaba"], "tencent"),
        (["alibaba", "tencent"], ["alibaba", "tencent"], None),  # never back to one that refused
        (["tencent", "alibaba"], ["tencent"], "alibaba"),
        (["alibaba"], ["alibaba"], None),
    ],
)
def test_failover_goes_to_the_next_carrier_that_has_not_refused(order, refused, expected):
    assert next_carrier(order, refused) == expected


def tencent_answer(outcome: Outcome, per_number: dict[str, Outcome]) -> CarrierResult:
    recipients = tuple(RecipientResult(phone, o, "Ok" if o is Outcome.OK else "X") for phone, o in per_number.items())
    return CarrierResult(outcome, "Ok", "OK", carrier="tencent", recipients=recipients)


def serial_answer(*answered: tuple[str, Outcome, str | None]) -> CarrierResult:
    recipients = tuple(RecipientResult(phone, o, "Ok" if o is Outcome.OK else "X", carrier_id=cid)
                       for phone, o, cid in answered)  # fmt: skip
    return CarrierResult(Outcome.OK, "Ok", "OK", carrier="tencent", recipients=recipients)


OK, REJECTED = Outcome.OK, Outcome.REJECTED


@pytest.mark.parametrize(
    ("indexes", "result", "groups", "carrier_ids"),
    [
        # Answered in the order asked, every number taken.
        ([0, 1, 2], serial_answer(("13900000000", OK, "s0"), ("13900000001", OK, "s1"), ("13900000002", OK, "s2")),
         {OK: [0, 1, 2]}, ["s0", "s1", "s2"]),
        # In another order: each id still goes with its own number.
        ([0, 1, 2], serial_answer(("13900000002", OK, "s2"), ("13900000000", OK, "s0"), ("13900000001", OK, "s1")),
         {OK: [0, 1, 2]}, ["s0", "s1", "s2"]),
        # Some of the batch only, one of them refused.
        ([0, 2], serial_answer(("13900000000", REJECTED, None), ("13900000002", OK, "s2")),
         {REJECTED: [0], OK: [2]}, ["s2"]),
        ([0, 1, 2],
         serial_answer(("13900000000", OK, "s0"), ("13900000001", REJECTED, None), ("13900000002", OK, "s2")),
         {OK: [0, 2], REJECTED: [1]}, ["s0", "s2"]),
        # A number missing from the answer: unknown, no id.
        ([0, 1, 2], serial_answer(("13900000000", OK, "s0"), ("13900000002", OK, "s2")),
         {OK: [0, 2], Outcome.UNKNOWN: [1]}, ["s0", "s2"]),
        # Taken without ids, and Alibaba's one answer for the request: no ids to record.
        ([0, 1, 2], serial_answer(("13900000000", OK, None), ("13900000001", OK, None), ("13900000002", OK, None)),
         {OK: [0, 1, 2]}, None),
        ([0, 1, 2], CarrierResult(Outcome.OK, "OK", "OK", biz_id="1"), {OK: [0, 1, 2]}, None),
    ],
    ids=["in-order", "reordered", "part-of-batch", "one-refused", "one-missing", "no-ids", "alibaba"],
)  # fmt: skip
def test_each_message_taken_gets_the_carriers_id_of_its_own_number(indexes, result, groups, carrier_ids):
    answers = by_outcome(result, indexes, ["13900000000", "13900000001", "13900000002"])
    assert answers.groups == groups
    assert answers.carrier_ids == carrier_ids


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CarrierResult(Outcome.OK, "OK", "OK", biz_id="1"), {Outcome.OK: [0, 1, 2]}),  # Alibaba: one answer
        (CarrierResult(Outcome.RETRY, "HTTP500", ""), {Outcome.RETRY: [0, 1, 2]}),
        (
            tencent_answer(Outcome.OK, {"13900000000": Outcome.OK, "13900000001": Outcome.REJECTED,
                                        "13900000002": Outcome.LIMITED}),
            {Outcome.OK: [0], Outcome.REJECTED: [1], Outcome.LIMITED: [2]},
        ),
        # A number missing from an answer the carrier gave: it may have been sent, so it is asked about.
        (tencent_answer(Outcome.OK, {"13900000000": Outcome.OK}), {Outcome.OK: [0], Outcome.UNKNOWN: [1, 2]}),
        (
            tencent_answer(Outcome.RETRY, {"13900000000": Outcome.OK, "13900000001": Outcome.RETRY}),
            {Outcome.OK: [0], Outcome.RETRY: [1, 2]},
        ),
    ],
    ids=["alibaba-ok", "alibaba-retry", "per-number", "missing-number", "partly-sent"],
)  # fmt: skip
def test_recipients_are_grouped_by_what_the_carrier_answered_for_each(result, expected):
    numbers = ["13900000000", "13900000001", "13900000002"]
    groups = by_outcome(result, [0, 1, 2], numbers).groups
    assert groups == expected
    assert health_counts(groups) == {outcome.value: len(indexes) for outcome, indexes in expected.items()}
