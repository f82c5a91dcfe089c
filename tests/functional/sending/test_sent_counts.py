"""The dispatcher's sent moves are added up per Beijing day, kind, office and carrier and written
once when its invocation ends: the daily report then reads what it would have read had each
batch been counted at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import daily_stats
from sms_platform.sending.daily_stats import SentCounts

# Two batches either side of Beijing's midnight.
LATE = datetime(2025, 3, 3, 23, 59, 30, tzinfo=BEIJING)
EARLY = LATE + timedelta(minutes=1)
DAY, NEXT_DAY = date(2025, 3, 3), date(2025, 3, 4)


def counted(start: date, end: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Per day, kind and office: (sent, parts) as the daily report shows them."""
    return {(r["day"], r["kind"], r["office"]): (r["sent"], r["parts"]) for r in daily_stats.report(start, end)}


def test_sent_moves_are_written_per_day_kind_office_and_carrier_only_when_flushed(aws):
    counts = SentCounts()
    counts.add("0a" * 16, "targeted", "wendeng", 2, LATE, 100, carrier="alibaba")
    counts.add("0b" * 16, "targeted", "wendeng", 2, LATE, 60, carrier="alibaba")
    counts.add("0c" * 16, "targeted", "wendeng", 2, LATE, 40, carrier="tencent")
    counts.add("0d" * 16, "publicity", "city", 1, EARLY, 100, carrier="alibaba")
    counts.add("0e" * 16, "targeted", "wendeng", 2, LATE, 0, carrier="alibaba")  # no move: nothing
    assert counted(DAY, NEXT_DAY) == {}  # nothing written before the flush

    counts.flush()
    assert counted(DAY, NEXT_DAY) == {
        (DAY.isoformat(), "targeted", "wendeng"): (200, 400),
        (NEXT_DAY.isoformat(), "publicity", "city"): (100, 100),
    }
    _, carriers = daily_stats.report_with_carriers(DAY, NEXT_DAY)
    assert {name: (c["sent"], c["parts"]) for name, c in carriers.items()} == {
        "alibaba": (260, 420),
        "tencent": (40, 80),
    }

    # The next invocation adds to the same rows; a flush with nothing added writes nothing.
    counts.add("0f" * 16, "targeted", "wendeng", 2, LATE, 1, carrier="alibaba")
    counts.flush()
    counts.flush()
    assert counted(DAY, DAY) == {(DAY.isoformat(), "targeted", "wendeng"): (201, 402)}


def test_count_sent_writes_at_once(aws):
    daily_stats.count_sent("1a" * 16, "triggered", "city", 1, LATE, 3, carrier="tencent")
    assert counted(DAY, DAY) == {(DAY.isoformat(), "triggered", "city"): (3, 3)}
