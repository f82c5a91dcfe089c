"""Paid subscriptions as values (R8): the items on sale and what triggers their sends, the
channel settings, and the pure rules of periods, orders and reminders. Money is in fen (integers).

An item is defined by the city office and approved by a city reviewer who is not its author;
an approved item is on sale:

    draft → submitted → active (on sale) → withdrawn
    submitted → rejected → draft (edited again)

It names a template, a linked business event type whose latest data fills each send
(``variables`` map template variables to paths such as ``data.amount``), what triggers a send
(``monthly`` on a given day, or ``event``: each such event), a price per period in fen and a
period length in months.

Nothing here reads or writes a table: ``subscription_store`` does.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources.trigger_conditions import check_path

PAY_WINDOW = timedelta(minutes=30)
REMINDER_BEFORE = timedelta(days=7)

ItemStatus = Literal["draft", "submitted", "active", "rejected", "withdrawn"]


# ---------------------------------------------------------------- pure rules


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` later in Beijing, the day clamped to the month's end."""
    local = moment.astimezone(BEIJING)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(moment.tzinfo)


def monthly_send_due(day_of_month: int, now: datetime) -> bool:
    """Whether a ``monthly`` item sends today (Beijing date)."""
    return now.astimezone(BEIJING).day == day_of_month


def reminder_due(period_end: datetime, now: datetime) -> bool:
    """Whether the period ends within the next seven days (by Beijing dates), and has not ended."""
    days_left = (period_end.astimezone(BEIJING).date() - now.astimezone(BEIJING).date()).days
    return now < period_end and days_left <= REMINDER_BEFORE.days


def order_state(order: dict[str, Any], now: datetime) -> str:
    """``paid``, ``lapsed`` or ``pending_payment`` (an unpaid order past its deadline is lapsed)."""
    if order["status"] == "pending_payment" and now > datetime.fromisoformat(order["pay_before"]):
        return "lapsed"
    return order["status"]


def subscription_state(subscription: dict[str, Any], now: datetime, first_order: dict[str, Any] | None = None) -> str:
    """What a subscription reads as now, before any sweep has written it down: waiting for a
    first payment whose order lapsed reads ``lapsed``; active past its period's end reads ``ended``."""
    status = subscription["status"]
    if status == "pending_payment" and first_order is not None and order_state(first_order, now) == "lapsed":
        return "lapsed"
    period_end = subscription.get("period_end")
    if status == "active" and period_end and now >= datetime.fromisoformat(period_end):
        return "ended"
    return status


def in_period(subscription: dict[str, Any], now: datetime) -> bool:
    """Whether an active subscription's paid period holds ``now`` (its sends go out)."""
    if subscription["status"] != "active" or not subscription.get("period_end"):
        return False
    return (
        datetime.fromisoformat(subscription["period_start"]) <= now < datetime.fromisoformat(subscription["period_end"])
    )


# ---------------------------------------------------------------- items


class Trigger(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"kind": "发送时机", "day": "每月发送日"}))

    kind: Literal["monthly", "event"]
    day: int | None = Field(default=None, ge=1, le=28, description="Day of the month (1-28) for monthly sends")

    @model_validator(mode="after")
    def _day(self) -> Trigger:
        if self.kind == "monthly" and self.day is None:
            raise ValueError("按月发送需要指定每月的日期（1-28）")
        return self


class ItemDraft(BaseModel):
    model_config = ConfigDict(
        field_title_generator=labels(
            {
                "event_type": "业务事件类型",
                "period_months": "订阅期（月）",
                "price_fen": "价格（分）",
                "trigger": "发送时机",
                "variables": "变量取值",
            }
        )
    )

    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=40)
    description: Annotated[str, Visible("说明", multiline=True)] = Field(min_length=1, max_length=300)
    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    event_type: str = Field(max_length=64, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    variables: dict[str, str] = Field(default_factory=dict)
    trigger: Trigger
    price_fen: int = Field(gt=0, le=10_000_000)
    period_months: int = Field(ge=1, le=36)

    @field_validator("variables")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            check_path(path)
        return value


class Item(ItemDraft):
    product_id: str
    status: ItemStatus
    author: str
    reviewer: str | None = None
    reject_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    def product(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "name": self.name, "description": self.description,
                "price_fen": self.price_fen, "period_months": self.period_months}  # fmt: skip

    def snapshot(self) -> dict[str, Any]:
        """The item as the audit trail keeps it, before or after a change."""
        return self.model_dump(mode="json")


class ItemList(BaseModel):
    items: list[Item]


# ---------------------------------------------------------------- channel settings


class ChannelSettings(BaseModel):
    """The templates the channels use (None when not chosen)."""

    otp_template_id: str | None = Field(default=None, description="验证码短信模板（含变量 code）")
    reminder_template_id: str | None = Field(default=None, description="续订提醒模板（含变量 product、end_date）")
