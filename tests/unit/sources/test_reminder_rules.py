"""Reminder waves' pure rules: when each wave goes out, and which waves are refused and why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.sources.reminder_models import ReminderIn, plan, plan_problem, wave_request_id, wave_time

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)
FIRST = "a" * 32


def reminder(deadline: date = date(2025, 3, 20), days: list[int] | None = None, **more) -> ReminderIn:
    return ReminderIn(deadline=deadline, done_event=more.pop("done_event", "medical.paid"),
                      days_before=[7, 2] if days is None else days, **more)  # fmt: skip


@pytest.mark.parametrize(
    ("deadline", "days", "at", "expected"),
    [
        (date(2025, 3, 20), 7, time(9, 0), datetime(2025, 3, 13, 9, 0, tzinfo=BEIJING)),
        (date(2025, 3, 20), 2, time(9, 0), datetime(2025, 3, 18, 9, 0, tzinfo=BEIJING)),
        (date(2025, 3, 1), 1, time(16, 30), datetime(2025, 2, 28, 16, 30, tzinfo=BEIJING)),  # across a month
        (date(2024, 3, 1), 1, time(8, 0), datetime(2024, 2, 29, 8, 0, tzinfo=BEIJING)),  # a leap day
        (date(2026, 1, 2), 5, time(0, 0), datetime(2025, 12, 28, 0, 0, tzinfo=BEIJING)),  # across a year
    ],
)
def test_wave_time_is_beijing_days_before_the_deadline(deadline, days, at, expected):
    assert wave_time(deadline, days, at) == expected


@pytest.mark.parametrize(
    ("body", "now", "field", "refused_with"),
    [
        (reminder(), NOW, None, None),
        (reminder(date(2025, 4, 20), days=[30, 14, 7, 3, 1]), NOW, None, None),
        (reminder(days=[2, 7]), NOW, None, None),  # any order: waves go earliest first
        (reminder(days=[7]), NOW, "reminder.days_before", "至少设置 2 轮"),
        (reminder(days=[]), NOW, "reminder.days_before", "至少设置 2 轮"),
        (reminder(days=[10, 8, 6, 4, 2, 1]), NOW, "reminder.days_before", "最多设置 5 轮"),
        (reminder(days=[7, 7]), NOW, "reminder.days_before", "不能重复"),
        (reminder(days=[7, 0]), NOW, "reminder.days_before", "截止日期前 1 至 60 天"),
        (reminder(days=[61, 2]), NOW, "reminder.days_before", "截止日期前 1 至 60 天"),
        (reminder(days=[7, -1]), NOW, "reminder.days_before", "截止日期前 1 至 60 天"),
        (reminder(date(2025, 3, 3)), NOW, "reminder.deadline", "截止日期须晚于今天"),
        (reminder(date(2025, 3, 1)), NOW, "reminder.deadline", "截止日期须晚于今天"),
        (reminder(date(2026, 3, 4)), NOW, None, None),
        (reminder(date(2026, 3, 5)), NOW, "reminder.deadline", "截止日期须在一年之内"),
        (reminder(date(9999, 12, 31)), NOW, "reminder.deadline", "截止日期须在一年之内"),
        (reminder(date(1, 1, 1), days=[60, 1]), NOW, "reminder.deadline", "截止日期须晚于今天"),
        # the first wave (20 days before 03-20 = 02-28) is already past
        (reminder(days=[20, 2]), NOW, "reminder.days_before", "第 1 轮提醒（截止日期前 20 天，2025-02-28 09:00）"),
        # today 09:00 is an hour ago; at 11:00 it is still to come
        (reminder(date(2025, 3, 10), days=[7, 2]), NOW, "reminder.days_before", "发送时间已过"),
        (reminder(date(2025, 3, 10), days=[7, 2], at=time(11, 0)), NOW, None, None),
        # the same instant seen from UTC: 02:00 UTC is 10:00 in Beijing
        (reminder(date(2025, 3, 10), days=[7, 2], at=time(11, 0)), datetime(2025, 3, 3, 2, 0, tzinfo=UTC), None, None),
        (reminder(done_event="Medical-Paid"), NOW, "reminder.done_event", "例如 medical.paid"),
        (reminder(done_event="paid"), NOW, "reminder.done_event", "例如 medical.paid"),
    ],
)
def test_plan_problem(body, now, field, refused_with):
    problem = plan_problem(body, now)
    if refused_with is None:
        assert problem is None
    else:
        assert problem is not None and problem[0] == field and refused_with in problem[1]


def test_plan_numbers_waves_earliest_first_the_first_being_the_request_itself():
    waves = plan(reminder(days=[2, 14, 7]), FIRST).waves
    assert [(w.number, w.days_before) for w in waves] == [(1, 14), (2, 7), (3, 2)]
    assert [w.send_at.astimezone(BEIJING).date() for w in waves] == [date(2025, 3, 6), date(2025, 3, 13),
                                                                     date(2025, 3, 18)]  # fmt: skip
    assert waves[0].request_id == FIRST
    assert len({w.request_id for w in waves}) == 3
    assert waves[1].request_id == wave_request_id(FIRST, 2)  # derived, so the waves are created once
    assert all(len(w.request_id) == 32 for w in waves)
