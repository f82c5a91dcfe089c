"""Per-number frequency counters on the limits table (moto): a message counts once however often
it is counted, a full window refuses without counting anything, and the refusal names the
window to wait for (or, for publicity over its day, to suppress)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sms_platform import aws, frequency_limits, transactions
from sms_platform.clock import BEIJING
from sms_platform.lanes import SmsKind
from sms_platform.messages import LimitRules, limit_specs

PHONE = "phone-hash-1"


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


def count(at: datetime, mid: str, *, kind: str = "targeted", template: str = "SMS_1", phone: str = PHONE):
    """Count one message as the dispatcher does (its counter writes in one transaction): None
    when it fits, else (the refusing window's attribute, its end, what happens to the message)."""
    specs = limit_specs(LimitRules(), SmsKind(kind), template, at)
    counters = frequency_limits.BatchCounters(specs)
    outcome = transactions.write_groups(aws.client("dynamodb"), [counters.actions(phone, mid)])
    assert outcome.unwritten == []
    refusal = outcome.refused.get(0)
    if refusal is None:
        return None
    window = counters.refused(refusal.action, refusal.item, mid)
    return window.field, window.ends_at, window.over_limit


def usage(at: datetime, field: str, *, kind: str = "targeted", template: str = "SMS_1", phone: str = PHONE) -> int:
    spec = next(s for s in limit_specs(LimitRules(), SmsKind(kind), template, at) if s.field == field)
    return frequency_limits.usage(spec, phone)


def test_a_message_counts_once_however_often_it_is_counted(aws):
    for at in (bj(2024, 5, 6, 10, 15), bj(2024, 5, 6, 10, 15, 40), bj(2024, 5, 6, 10, 40)):
        assert count(at, "m1") is None  # a redelivered batch, a retry after a requeue
    assert usage(bj(2024, 5, 6, 10, 15), "h") == 1
    assert usage(bj(2024, 5, 6, 10, 15), "m15") == 1


def test_the_same_template_to_a_number_once_a_minute(aws):
    assert count(bj(2024, 5, 6, 10, 15, 5), "m1") is None
    assert count(bj(2024, 5, 6, 10, 15, 40), "m2") == ("m15", bj(2024, 5, 6, 10, 16), "delay")
    assert usage(bj(2024, 5, 6, 10, 15), "h") == 1  # refused: counted in no window
    assert count(bj(2024, 5, 6, 10, 16), "m2") is None
    assert usage(bj(2024, 5, 6, 10, 16), "h") == 2


def test_the_same_template_to_a_number_five_times_an_hour(aws):
    for minute in range(5):
        assert count(bj(2024, 5, 6, 10, minute), f"m{minute}") is None
    assert count(bj(2024, 5, 6, 10, 5), "m5") == ("h", bj(2024, 5, 6, 11, 0), "delay")
    # the minute and the hour both full: wait for the hour, the later end
    assert count(bj(2024, 5, 6, 10, 4, 30), "m5") == ("h", bj(2024, 5, 6, 11, 0), "delay")
    assert usage(bj(2024, 5, 6, 10, 5), "m05") == 0
    assert count(bj(2024, 5, 6, 11, 0), "m5") is None  # a new hour, a new item


def test_other_templates_and_other_numbers_have_their_own_counters(aws):
    at = bj(2024, 5, 6, 10, 15)
    assert count(at, "m1") is None
    assert count(at, "m2", template="SMS_2") is None
    assert count(at, "m3", phone="phone-hash-2") is None
    assert count(at, "m4") == ("m15", bj(2024, 5, 6, 10, 16), "delay")


def test_a_fourth_publicity_message_in_a_beijing_day_is_suppressed(aws):
    for n in range(3):
        assert count(bj(2024, 5, 6, 9 + n, 0), f"p{n}", kind="publicity", template=f"SMS_{n}") is None
    refused = count(bj(2024, 5, 6, 20, 59), "p3", kind="publicity", template="SMS_3")
    assert refused == ("d", bj(2024, 5, 7, 0, 0), "suppress")
    assert usage(bj(2024, 5, 6, 20, 59), "h", kind="publicity", template="SMS_3") == 0  # nothing counted
    assert count(bj(2024, 5, 7, 8, 0), "p3", kind="publicity", template="SMS_3") is None


@pytest.mark.parametrize("kind", ["targeted", "hangup"])
def test_transactional_messages_have_no_daily_limit(aws, kind):
    for n in range(6):
        assert count(bj(2024, 5, 6, 9 + n, 0), f"t{n}", kind=kind, template=f"SMS_{n}") is None
