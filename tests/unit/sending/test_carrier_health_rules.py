"""Table tests of the carriers' health judgement (thresholds over the last 15 minutes, receipts
still missing after the wait) and of the watch's decisions (out, probation, back) with the clock
moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.sending.carrier_health_rules import Thresholds, decide, health, minute_keys

NOW = datetime(2026, 3, 2, 2, 30, 20, tzinfo=UTC)  # 10:30:20 Beijing
LIMITS = Thresholds()  # errors 20%, throttling 30%, 3000 ms, receipts missing 50%, 20 outcomes, 10 min, 15 min


def minutes(count: int, ago: int = 0, **counters: int) -> dict[datetime, dict[str, int]]:
    """``counters`` in each of ``count`` minutes ending ``ago`` minutes before NOW's."""
    return {start: dict(counters) for start in minute_keys(NOW - timedelta(minutes=ago), count)}


def judged(by_minute: dict, limits: Thresholds = LIMITS):
    return health("alibaba", by_minute, NOW, limits)


@pytest.mark.parametrize(
    ("by_minute", "healthy", "words"),
    [
        ({}, True, []),  # no traffic: nothing to judge
        # the last 10 minutes: outcomes judged, receipts not yet due
        (minutes(10, sent=10), True, []),
        # errors: retries and unknowns among all outcomes
        (minutes(10, sent=6, retry=3, unknown=1), False, ["错误率 40%，超过上限 20%"]),
        (minutes(10, sent=8, retry=1, unknown=1), True, []),
        # a refusal is the caller's fault, not the carrier's
        (minutes(10, sent=2, refused=8), True, []),
        (minutes(10, sent=6, limited=4), False, ["限流率 40%，超过上限 30%"]),
        (minutes(10, sent=10, latency_ms_sum=40_000, latency_n=10), False, ["平均耗时 4000 毫秒，超过上限 3000 毫秒"]),
        # too few outcomes: a couple of faults at night is not a carrier down
        (minutes(1, sent=1, retry=5, latency_ms_sum=9000, latency_n=1), True, []),
        # older than the window: forgotten
        (minutes(10, ago=16, retry=50), True, []),
        # receipts: messages sent 10-25 minutes ago, most without a receipt
        (minutes(15, ago=10, sent=10, receipt_delivered=4), False, ["发送 10 分钟后仍无回执 60%，超过上限 50%"]),
        (minutes(15, ago=10, sent=10, receipt_delivered=5, receipt_failed=1), True, []),
        # sent in the last 10 minutes: receipts not yet due
        (minutes(9, sent=10), True, []),
    ],
)
def test_health_is_judged_by_thresholds(by_minute, healthy, words):
    found = judged(by_minute)
    assert (found.healthy, found.problems) == (healthy, words)


def test_three_in_ten_errors_is_over_twenty_percent():
    found = judged(minutes(10, sent=7, retry=2, unknown=1))
    assert found.error_rate == 0.3 and not found.healthy


def test_figures_are_given_with_the_window():
    found = judged(minutes(15, sent=8, limited=1, retry=1, latency_ms_sum=3000, latency_n=3))
    assert (found.outcomes, found.error_rate, found.throttle_rate, found.latency_ms) == (150, 0.1, 0.1, 1000)
    assert found.receipts_sent == 8 * 5  # minutes 10-14 ago lie in both windows
    assert found.receipts_missing == 1.0 and not found.healthy


@pytest.mark.parametrize(
    ("limits", "healthy"),
    [
        (Thresholds(max_error_rate=0.5), True),
        (Thresholds(max_error_rate=0.3), False),
        (Thresholds(min_outcomes=200), True),
    ],
)
def test_thresholds_come_from_settings(limits, healthy):
    assert judged(minutes(10, sent=6, retry=4), limits).healthy is healthy


BAD = judged(minutes(10, sent=5, retry=5))
GOOD = judged({})
UNTIL = NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("state", "until", "found", "now", "others", "expected"),
    [
        ("active", None, GOOD, NOW, True, None),
        ("active", None, BAD, NOW, True, ("out", NOW + timedelta(minutes=15))),
        # the last active carrier stays in: with none left nothing would be sent
        ("active", None, BAD, NOW, False, None),
        # during the probation nothing changes, whatever the figures
        ("out", UNTIL, GOOD, NOW, True, None),
        ("out", UNTIL, BAD, UNTIL - timedelta(seconds=1), True, None),
        # probation over: back when healthy, another probation when not
        ("out", UNTIL, GOOD, UNTIL, True, ("active", None)),
        ("out", UNTIL, BAD, UNTIL + timedelta(minutes=1), True, ("out", UNTIL + timedelta(minutes=16))),
        # drained by hand: the operators' to return
        ("drained", None, GOOD, NOW, True, None),
        ("drained", None, BAD, NOW, True, None),
    ],
)
def test_the_watch_takes_out_keeps_and_returns(state, until, found, now, others, expected):
    move = decide(state, until, found, now, LIMITS, others_active=others)
    assert (None if move is None else (move.state, move.until)) == expected


def test_a_move_says_why_in_chinese():
    out = decide("active", None, BAD, NOW, LIMITS, others_active=True)
    back = decide("out", UNTIL, GOOD, UNTIL, LIMITS, others_active=True)
    assert out.reason == "错误率 50%，超过上限 20%"
    assert back.reason == "观察期结束，健康检查正常，恢复轮换"


@pytest.mark.parametrize("zone_hour", [0, 7, 16, 23])
def test_minutes_are_whole_minutes_at_any_hour(zone_hour):
    at = NOW.replace(hour=zone_hour)
    starts = minute_keys(at, 3)
    assert [s.second for s in starts] == [0, 0, 0] and starts[-1] == at.replace(second=0)
    assert starts[0] == starts[-1] - timedelta(minutes=2)
