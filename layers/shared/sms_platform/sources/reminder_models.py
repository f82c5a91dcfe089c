"""Reminder waves as values: a targeted notice tied to a deadline, sent again in waves (e.g. 7
and 2 days before it), each later wave skipping the subjects whose "done" business event (e.g.
``medical.paid``) arrived since the waves were approved.

The first wave is the request itself (its send time is the first wave's); each later wave is a
request of its own, created approved when the first is approved (the reviewer approves the waves
once), carrying ``WaveOf``. Nothing here reads or writes a table (``reminders`` does).

The answers below have no docstrings: pydantic would put them into the OpenAPI document.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources.trigger_rule_models import EVENT_TYPE_PATTERN

MAX_WAVES = 5
MIN_WAVES = 2
MAX_DAYS_BEFORE = 60
MAX_AHEAD = timedelta(days=366)  # a deadline further off is a typing slip, not a reminder plan
DEFAULT_AT = time(9, 0)
PAST_TOLERANCE = timedelta(minutes=1)


class ReminderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", field_title_generator=labels({"days_before": "提前天数", "at": "发送时刻"})
    )

    deadline: date = Field(description="截止日期（北京时间）")
    done_event: str = Field(max_length=64, description="表示已办理的业务事件类型，例如 medical.paid")
    days_before: list[int] = Field(max_length=20, description="每轮提醒在截止日期前几天发送，例如 [7, 2]")
    at: time = Field(default=DEFAULT_AT, description="每轮提醒当天的发送时刻（北京时间），默认 09:00")


class Wave(BaseModel):
    number: int = Field(description="第几轮，从 1 起")
    days_before: int = Field(description="截止日期前几天")
    send_at: datetime = Field(description="本轮发送时间")
    request_id: str = Field(description="本轮的发送申请编号（第 1 轮即本申请）")


class Reminder(BaseModel):
    deadline: date
    done_event: str
    at: time
    waves: list[Wave]


class WaveOf(BaseModel):
    first_request_id: str = Field(description="第 1 轮的发送申请编号")
    number: int
    of: int = Field(description="共几轮")
    done_event: str
    deadline: date
    since: datetime = Field(description="此后收到完成事件的对象不再提醒（审核通过的时间）")


class WaveView(BaseModel):
    number: int
    days_before: int
    send_at: datetime
    request_id: str
    status: str
    status_name: str
    targeted: int = Field(default=0, description="本轮对象（号码）数，含因已办理而跳过的")
    skipped_done: int = Field(default=0, description="因已办理（收到完成事件）而跳过的")
    sent: int = 0
    delivered: int = 0
    failed: int = 0


# ---------------------------------------------------------------------------- pure rules


def wave_time(deadline: date, days_before: int, at: time) -> datetime:
    """When the wave ``days_before`` days before the deadline goes out (Beijing time of day)."""
    return datetime.combine(deadline - timedelta(days=days_before), at, tzinfo=BEIJING)


def wave_request_id(first_request_id: str, number: int) -> str:
    """A later wave's request id: derived from the first, so creating the waves twice creates them once."""
    if number == 1:
        return first_request_id
    return hashlib.sha256(f"{first_request_id}#wave{number}".encode()).hexdigest()[:32]


def _days_problem(days: list[int]) -> str | None:
    if len(days) < MIN_WAVES:
        return f"分轮提醒至少设置 {MIN_WAVES} 轮"
    if len(days) > MAX_WAVES:
        return f"分轮提醒最多设置 {MAX_WAVES} 轮"
    if len(set(days)) != len(days):
        return "各轮提醒的提前天数不能重复"
    if any(d < 1 or d > MAX_DAYS_BEFORE for d in days):
        return f"每轮提醒须在截止日期前 1 至 {MAX_DAYS_BEFORE} 天发送"
    return None


def plan_problem(body: ReminderIn, now: datetime) -> tuple[str, str] | None:
    """Why these waves cannot be accepted, as (field, Chinese message); None when they can."""
    if not re.match(EVENT_TYPE_PATTERN, body.done_event):
        return "reminder.done_event", "完成事件类型格式不正确，应为小写英文加点，例如 medical.paid"
    problem = _days_problem(body.days_before)
    if problem:
        return "reminder.days_before", problem
    today = now.astimezone(BEIJING).date()
    if body.deadline <= today:
        return "reminder.deadline", "截止日期须晚于今天"
    if body.deadline > today + MAX_AHEAD:
        return "reminder.deadline", "截止日期须在一年之内"
    for number, days in enumerate(sorted(body.days_before, reverse=True), start=1):
        at = wave_time(body.deadline, days, body.at)
        if at < now - PAST_TOLERANCE:
            return "reminder.days_before", (
                f"第 {number} 轮提醒（截止日期前 {days} 天，{at:%Y-%m-%d %H:%M}）的发送时间已过，"
                "请调整提前天数或截止日期"
            )
    return None


def plan(body: ReminderIn, first_request_id: str) -> Reminder:
    """The waves, earliest first, each with its send time and request id."""
    waves = [
        Wave(number=number, days_before=days, send_at=wave_time(body.deadline, days, body.at),
             request_id=wave_request_id(first_request_id, number))
        for number, days in enumerate(sorted(body.days_before, reverse=True), start=1)
    ]  # fmt: skip
    return Reminder(deadline=body.deadline, done_event=body.done_event, at=body.at, waves=waves)
