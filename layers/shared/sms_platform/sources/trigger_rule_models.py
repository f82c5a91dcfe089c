"""Trigger rules as values (R4): what a city operator writes, the versions it becomes, and the
event types an API key may send.

A rule says: when an event of this type arrives and its condition holds, send this template to
the subject person (their current verified number) or to the unit's contact people, filling the
template's variables from the event's data (``trigger_conditions`` holds the condition language
and the variable paths).

Nothing here reads or writes a table: ``trigger_rule_store`` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources.trigger_conditions import (
    MAX_CONDITION_LENGTH,
    check_condition,
    check_path,
    condition_holds,
    condition_names,
)

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"

RuleStatus = Literal["draft", "submitted", "active", "rejected", "retired"]
Recipients = Literal["subject", "unit_contacts"]


class RuleDraft(BaseModel):
    """What a city operator writes."""

    model_config = ConfigDict(
        field_title_generator=labels(
            {
                "event_type": "业务事件类型",
                "recipients": "接收对象",
                "valid_from": "有效期开始",
                "valid_until": "有效期结束",
                "variables": "变量取值",
            }
        )
    )

    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=60)
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=64)
    # A direction override inside a condition's string could make it read unlike what it does.
    condition: Annotated[str, Visible("触发条件", multiline=True)] = Field(default="", max_length=MAX_CONDITION_LENGTH)
    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    recipients: Recipients = "subject"
    variables: dict[str, str] = Field(default_factory=dict)
    valid_from: datetime
    valid_until: datetime

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        return check_condition(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            check_path(path)
        return value

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)

    @model_validator(mode="after")
    def _period(self) -> RuleDraft:
        if self.valid_until <= self.valid_from:
            raise ValueError("有效期结束时间必须晚于开始时间")
        return self


class Rule(RuleDraft):
    rule_id: str
    version: int
    status: RuleStatus
    author: str
    author_name: str = ""
    office: str = "city"
    reviewer: str | None = None
    reject_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    def in_force(self, now: datetime) -> bool:
        return self.status == "active" and self.valid_from <= now < self.valid_until

    def snapshot(self) -> dict[str, Any]:
        """The rule as the audit trail keeps it, before or after a change."""
        return self.model_dump(mode="json")


class RuleList(BaseModel):
    rules: list[Rule]


class Grants(BaseModel):
    """The event types one business system's API key may send."""

    api_key_id: str
    event_types: list[str]


class GrantedEventType(BaseModel):
    event_type: str
    api_keys: int = Field(description="可发送该类事件的业务系统 API 密钥数")


class EventTypes(BaseModel):
    event_types: list[GrantedEventType] = Field(description="已授予业务系统的事件类型，按名称排列")


def matching_rules(rules: list[Rule], event: dict[str, Any], now: datetime) -> list[Rule]:
    """The newest active version of each rule that is in force and whose condition holds."""
    newest: dict[str, Rule] = {}
    for rule in rules:
        if rule.event_type != event["event_type"] or not rule.in_force(now):
            continue
        if rule.rule_id not in newest or rule.version > newest[rule.rule_id].version:
            newest[rule.rule_id] = rule
    names = condition_names(event["event_type"], event["subject"]["kind"], event.get("data") or {})
    return [rule for _, rule in sorted(newest.items()) if condition_holds(rule.condition, names)]
