"""The pure rules of per-number frequency limits: which windows a message meets, which counter
items hold them, and which window refused a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.settings import Settings
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.messages import LimitRules, counter_items, limit_specs, refused_window


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


AT = bj(2024, 5, 6, 10, 15, 30)
MINUTE = ("tpl#h#SMS_1#2024050610", "min15", 1, bj(2024, 5, 6, 10, 16), "delay")
HOUR = ("tpl#h#SMS_1#2024050610", "hour", 5, bj(2024, 5, 6, 11, 0), "delay")
DAY = ("pub#h#20240506", "day", 3, bj(2024, 5, 7, 0, 0), "suppress")


def described(specs):
    return [(s.key_for("h"), s.field, s.limit, s.ends_at, s.over_limit) for s in specs]


@pytest.mark.parametrize(
    ("kind", "at", "expected"),
    [
        ("triggered", AT, [MINUTE, HOUR]),
        ("targeted", AT, [MINUTE, HOUR]),
        ("publicity", AT, [MINUTE, HOUR, DAY]),
        # 15:59 UTC is 23:59 in Beijing: the windows are Beijing's minute, hour and day
        (
            "publicity",
            datetime(2024, 5, 6, 15, 59, 59, tzinfo=UTC),
            [
                ("tpl#h#SMS_1#2024050623", "min59", 1, bj(2024, 5, 7, 0, 0), "delay"),
                ("tpl#h#SMS_1#2024050623", "hour", 5, bj(2024, 5, 7, 0, 0), "delay"),
                ("pub#h#20240506", "day", 3, bj(2024, 5, 7, 0, 0), "suppress"),
            ],
        ),
    ],
)
def test_the_windows_a_message_meets(kind, at, expected):
    assert described(limit_specs(LimitRules(), SmsKind(kind), "SMS_1", at)) == expected


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
def test_the_same_instant_meets_the_same_windows_in_any_zone(zone):
    assert described(limit_specs(LimitRules(), SmsKind.PUBLICITY, "SMS_1", AT.astimezone(zone))) == [MINUTE, HOUR, DAY]


@pytest.mark.parametrize(
    ("env", "limits"),
    [
        ({}, [("min15", 1), ("hour", 5), ("day", 3)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0", "LIMIT_SAME_TEMPLATE_PER_HOUR": "10", "LIMIT_PUBLICITY_PER_DAY": "2"},
         [("hour", 10), ("day", 2)]),
        ({"LIMIT_SAME_TEMPLATE_PER_HOUR": "0"}, [("min15", 1), ("day", 3)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2", "LIMIT_PUBLICITY_PER_DAY": "0"}, [("min15", 2), ("hour", 5)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0", "LIMIT_SAME_TEMPLATE_PER_HOUR": "0", "LIMIT_PUBLICITY_PER_DAY": "0"},
         []),
    ],
)  # fmt: skip
def test_limits_are_configurable_and_zero_turns_one_off(env, limits):
    specs = limit_specs(LimitRules.from_settings(Settings.model_validate(env)), SmsKind.PUBLICITY, "SMS_1", AT)
    assert [(s.field, s.limit) for s in specs] == limits


@pytest.mark.parametrize(
    ("kind", "env", "items"),
    [
        ("targeted", {}, [["min15", "hour"]]),  # a template's minute and hour: one item, one write
        ("publicity", {}, [["min15", "hour"], ["day"]]),
        ("publicity", {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0"}, [["hour"], ["day"]]),
        ("hangup", {"LIMIT_SAME_TEMPLATE_PER_HOUR": "0"}, [["min15"]]),
    ],
)
def test_windows_of_one_item_are_counted_together(kind, env, items):
    specs = limit_specs(LimitRules.from_settings(Settings.model_validate(env)), SmsKind(kind), "SMS_1", AT)
    grouped = counter_items(specs)
    assert [[s.field for s in group] for group in grouped] == items
    assert all(len({s.key_for("h") for s in group}) == 1 for group in grouped)


def _template_windows(env=None):
    return counter_items(
        limit_specs(LimitRules.from_settings(Settings.model_validate(env or {})), SmsKind.TARGETED, "SMS_1", AT)
    )[0]


@pytest.mark.parametrize(
    ("item", "env", "refused_by"),
    [
        ({"min15": 1, "hour": 1}, None, "min15"),  # the minute is full: wait a minute
        ({"min12": 3, "min14": 2, "hour": 5}, None, "hour"),  # the hour is full
        ({"min15": 1, "hour": 5}, None, "hour"),  # both full: the hour's end, not the minute's
        ({"min15": 1, "hour": 2}, {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2", "LIMIT_SAME_TEMPLATE_PER_HOUR": "2"}, "hour"),
        ({"min15": 2, "hour": 2}, {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2"}, "min15"),
        ({"min15": Decimal(1), "hour": Decimal(1)}, None, "min15"),  # as boto3 reads numbers
        (None, None, "hour"),  # nothing to tell by: the later end, never too short a wait
        ({"hour": 1}, None, "hour"),  # nothing looks full (the item changed since): the later end
    ],
)  # fmt: skip
def test_the_window_that_refused_a_message(item, env, refused_by):
    windows = _template_windows(env)
    assert refused_window(windows, item).field == refused_by


def test_the_daily_publicity_window_refuses_by_suppressing():
    day = counter_items(limit_specs(LimitRules(), SmsKind.PUBLICITY, "SMS_1", AT))[1]
    refused = refused_window(day, {"day": 3})
    assert (refused.field, refused.over_limit, refused.ends_at) == ("day", "suppress", bj(2024, 5, 7, 0, 0))


@pytest.mark.parametrize(("kind", "per_message"), [("targeted", 1), ("publicity", 2)])
def test_each_message_s_counter_writes_come_right_before_its_own_write(kind, per_message):
    from sms_platform.sending.frequency_limits import BatchCounters

    counters = BatchCounters(limit_specs(LimitRules(), SmsKind(kind), "SMS_1", AT), "limits")
    own = [{"Update": {"Key": {"pk": {"S": f"msg#{n}"}}}} for n in range(3)]
    flat = counters.with_counts(["h0", "h1", "h2"], own)

    assert len(counters) == per_message
    assert flat == [*counters.actions("h0"), own[0], *counters.actions("h1"), own[1], *counters.actions("h2"), own[2]]
    keys = [action["Update"]["Key"]["pk"]["S"] for action in counters.actions("h1")]
    assert keys == [
        spec_group[0].key_for("h1")
        for spec_group in counter_items(limit_specs(LimitRules(), SmsKind(kind), "SMS_1", AT))
    ]
    count = counters.actions("h1")[0]["Update"]
    assert count["ExpressionAttributeNames"] == {"#w0": "min15", "#w1": "hour"}
    assert (
        count["ConditionExpression"]
        == "(attribute_not_exists(#w0) OR #w0 < :l0) AND (attribute_not_exists(#w1) OR #w1 < :l1)"
    )
    release = counters.releases("h1")[0]["Update"]
    assert release["Key"] == count["Key"] and release["UpdateExpression"] == "ADD #w0 :back, #w1 :back"
    assert "ConditionExpression" not in release
