"""The dispatcher's hand-overs are added up per carrier and minute and written once when its
invocation ends: the health view reads the same counters as if each had been written at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import carrier_health_counts
from sms_platform.sending.carrier_health_counts import HandOvers

MINUTE = datetime(2025, 3, 3, 9, 30, tzinfo=BEIJING)
NEXT = MINUTE + timedelta(minutes=1)


def written(carrier: str, *starts: datetime) -> dict[datetime, dict[str, int]]:
    """The counters of each minute the health view reads, those at zero left out."""
    found = carrier_health_counts.minutes(carrier, starts)
    return {start: {name: n for name, n in counters.items() if n} for start, counters in found.items()}


def test_hand_overs_are_written_per_carrier_and_minute_only_when_flushed(aws):
    hand_overs = HandOvers()
    hand_overs.add("alibaba", MINUTE + timedelta(seconds=5), {"ok": 100}, latency_ms=120)
    hand_overs.add("alibaba", MINUTE + timedelta(seconds=59), {"ok": 60, "retry": 40}, latency_ms=80)
    hand_overs.add("alibaba", NEXT, {"limited": 7, "unknown": 3}, latency_ms=-5)  # a clock step back counts 0 ms
    hand_overs.add("tencent", MINUTE + timedelta(seconds=30), {"ok": 100, "rejected": 2}, latency_ms=200)
    assert written("alibaba", MINUTE, NEXT) == {}  # nothing written before the flush

    hand_overs.flush()
    assert written("alibaba", MINUTE, NEXT) == {
        MINUTE: {"sent": 160, "retry": 40, "latency_ms_sum": 200, "latency_n": 2},
        NEXT: {"limited": 7, "unknown": 3, "latency_n": 1},
    }
    assert written("tencent", MINUTE) == {MINUTE: {"sent": 100, "refused": 2, "latency_ms_sum": 200, "latency_n": 1}}

    # A second invocation adds to the same minute; a flush with nothing added writes nothing.
    hand_overs.add("alibaba", MINUTE + timedelta(seconds=10), {"ok": 1}, latency_ms=10)
    hand_overs.flush()
    hand_overs.flush()
    assert written("alibaba", MINUTE)[MINUTE]["sent"] == 161
    assert written("alibaba", MINUTE)[MINUTE]["latency_n"] == 3


def test_a_single_hand_over_is_written_at_once(aws):
    carrier_health_counts.add_hand_over("tencent", MINUTE, {"ok": 5}, latency_ms=50)
    assert written("tencent", MINUTE) == {MINUTE: {"sent": 5, "latency_ms_sum": 50, "latency_n": 1}}
