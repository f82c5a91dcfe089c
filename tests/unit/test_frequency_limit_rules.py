"""The pure rules of per-number frequency limits: which windows a message meets, which counter
items hold them, and which window refused a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sms_platform.clock import BEIJING
from sms_platform.lanes import SmsKind
from sms_platform.messages import LimitRules, counter_items, limit_specs, refused_window


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


AT = bj(2024, 5, 6, 10, 15, 30)
MINUTE = ("tpl#h#SMS_1#2024050610", "m15", 1, bj(2024, 5, 6, 10, 16), "delay")
HOUR = ("tpl#h#SMS_1#2024050610", "h", 5, bj(2024, 5, 6, 11, 0), "delay")
DAY = ("pub#h#20240506", "d", 3, bj(2024, 5, 7, 0, 0), "suppress")


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
                ("tpl#h#SMS_1#2024050623", "m59", 1, bj(2024, 5, 7, 0, 0), "delay"),
                ("tpl#h#SMS_1#2024050623", "h", 5, bj(2024, 5, 7, 0, 0), "delay"),
                ("pub#h#20240506", "d", 3, bj(2024, 5, 7, 0, 0), "suppress"),
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
        ({}, [("m15", 1), ("h", 5), ("d", 3)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0", "LIMIT_SAME_TEMPLATE_PER_HOUR": "10", "LIMIT_PUBLICITY_PER_DAY": "2"},
         [("h", 10), ("d", 2)]),
        ({"LIMIT_SAME_TEMPLATE_PER_HOUR": "0"}, [("m15", 1), ("d", 3)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2", "LIMIT_PUBLICITY_PER_DAY": "0"}, [("m15", 2), ("h", 5)]),
        ({"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0", "LIMIT_SAME_TEMPLATE_PER_HOUR": "0", "LIMIT_PUBLICITY_PER_DAY": "0"},
         []),
    ],
)  # fmt: skip
def test_limits_are_configurable_and_zero_turns_one_off(env, limits):
    specs = limit_specs(LimitRules.from_environment(env), SmsKind.PUBLICITY, "SMS_1", AT)
    assert [(s.field, s.limit) for s in specs] == limits


@pytest.mark.parametrize(
    ("kind", "env", "items"),
    [
        ("targeted", {}, [["m15", "h"]]),  # a template's minute and hour: one item, one write
        ("publicity", {}, [["m15", "h"], ["d"]]),
        ("publicity", {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "0"}, [["h"], ["d"]]),
        ("hangup", {"LIMIT_SAME_TEMPLATE_PER_HOUR": "0"}, [["m15"]]),
    ],
)
def test_windows_of_one_item_are_counted_together(kind, env, items):
    specs = limit_specs(LimitRules.from_environment(env), SmsKind(kind), "SMS_1", AT)
    grouped = counter_items(specs)
    assert [[s.field for s in group] for group in grouped] == items
    assert all(len({s.key_for("h") for s in group}) == 1 for group in grouped)


def _template_windows(env=None):
    return counter_items(limit_specs(LimitRules.from_environment(env or {}), SmsKind.TARGETED, "SMS_1", AT))[0]


@pytest.mark.parametrize(
    ("item", "env", "refused_by"),
    [
        ({"m15": {"other"}, "h": {"other"}}, None, "m15"),  # the minute is full: wait a minute
        ({"m12": {"a", "b", "c"}, "m14": {"d", "e"}, "h": {"a", "b", "c", "d", "e"}}, None, "h"),  # the hour is full
        ({"m15": {"e"}, "h": {"a", "b", "c", "d", "e"}}, None, "h"),  # both full: the hour's end, not the minute's
        ({"m15": {"me"}, "h": {"a", "b", "c", "d", "e"}}, None, "h"),  # counted this minute, yet the hour is full
        ({"m15": {"a"}, "h": {"a", "b"}}, {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2", "LIMIT_SAME_TEMPLATE_PER_HOUR": "2"},
         "h"),
        ({"m15": {"a", "b"}, "h": {"a", "b"}}, {"LIMIT_SAME_TEMPLATE_PER_MINUTE": "2"}, "m15"),
        (None, None, "h"),  # nothing to tell by: the later end, never too short a wait
        ({"h": {"a"}}, None, "h"),  # nothing looks full (the item changed since): the later end
    ],
)  # fmt: skip
def test_the_window_that_refused_a_message(item, env, refused_by):
    windows = _template_windows(env)
    assert refused_window(windows, item, "me").field == refused_by


def test_the_daily_publicity_window_refuses_by_suppressing():
    day = counter_items(limit_specs(LimitRules(), SmsKind.PUBLICITY, "SMS_1", AT))[1]
    refused = refused_window(day, {"d": {"a", "b", "c"}}, "me")
    assert (refused.field, refused.over_limit, refused.ends_at) == ("d", "suppress", bj(2024, 5, 7, 0, 0))
