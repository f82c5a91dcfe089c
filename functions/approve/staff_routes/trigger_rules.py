"""Trigger rules for business-triggered notices (R4), and which event types each business
system's API key may send.

City operators write rules; a city reviewer who did not write a rule approves it, which makes
it active (its template must be active). IT operations grant event types to API keys.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.audit import trail
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import trigger_rules
from sms_platform.sources.trigger_rules import Rule, RuleDraft
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["触发规则"]


class RuleList(BaseModel):
    rules: list[Rule]


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("驳回理由", multiline=True)] = Field(
        min_length=1, max_length=300, description="驳回理由"
    )


class GrantsOut(BaseModel):
    api_key_id: str
    event_types: list[str]


def _snapshot(rule: Rule | None) -> dict | None:
    return rule.model_dump(mode="json") if rule else None


@router.get("/trigger-rules", summary="触发规则列表（各规则的最新版本）", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def list_rules() -> RuleList:
    return RuleList(rules=trigger_rules.list_rules())


@router.post("/trigger-rules", summary="新建触发规则（草稿）", tags=TAGS)
@allow(Role.city_operator)
def create_rule(body: Annotated[RuleDraft, Body()]) -> Rule:
    staff = current_staff()
    rule = trigger_rules.create(body, author=staff.account_id, author_name=staff.real_name, now=get_clock().now())
    trail.record(staff, "trigger_rule.create", f"trigger_rule:{rule.rule_id}", None, _snapshot(rule), staff.office)
    return rule


@router.get("/trigger-rules/<rule_id>", summary="触发规则的全部版本", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def rule_versions(rule_id: str) -> RuleList:
    return RuleList(rules=trigger_rules.versions(rule_id))


@router.put("/trigger-rules/<rule_id>", summary="修改触发规则（生效中的规则产生新版本）", tags=TAGS)
@allow(Role.city_operator)
def revise_rule(rule_id: str, body: Annotated[RuleDraft, Body()]) -> Rule:
    staff = current_staff()
    before = trigger_rules.get(rule_id)
    rule = trigger_rules.revise(rule_id, body, author=staff.account_id, author_name=staff.real_name,
                                now=get_clock().now())  # fmt: skip
    trail.record(staff, "trigger_rule.revise", f"trigger_rule:{rule_id}", _snapshot(before), _snapshot(rule),
                 staff.office)  # fmt: skip
    return rule


@router.post("/trigger-rules/<rule_id>/submission", summary="提交审核", tags=TAGS)
@allow(Role.city_operator)
def submit_rule(rule_id: str) -> Rule:
    staff = current_staff()
    rule = trigger_rules.submit(rule_id, actor=staff.account_id, now=get_clock().now())
    trail.record(staff, "trigger_rule.submit", f"trigger_rule:{rule_id}", {"status": "draft"}, _snapshot(rule),
                 staff.office)  # fmt: skip
    return rule


@router.post("/trigger-rules/<rule_id>/approval", summary="审核通过并启用（审核人不能是编写人）", tags=TAGS)
@allow(Role.city_reviewer)
def approve_rule(rule_id: str) -> Rule:
    staff = current_staff()
    now = get_clock().now()
    rule, replaced = trigger_rules.approve(rule_id, reviewer=staff.account_id, now=now)
    trail.record(staff, "trigger_rule.approve", f"trigger_rule:{rule_id}", _snapshot(replaced), _snapshot(rule),
                 staff.office)  # fmt: skip
    return rule


@router.post("/trigger-rules/<rule_id>/rejection", summary="驳回", tags=TAGS)
@allow(Role.city_reviewer)
def reject_rule(rule_id: str, body: Annotated[ReasonIn, Body()]) -> Rule:
    staff = current_staff()
    rule = trigger_rules.reject(rule_id, reviewer=staff.account_id, reason=body.reason, now=get_clock().now())
    trail.record(staff, "trigger_rule.reject", f"trigger_rule:{rule_id}", {"status": "submitted"},
                 _snapshot(rule), staff.office)  # fmt: skip
    return rule


@router.post("/trigger-rules/<rule_id>/retirement", summary="停用生效中的版本", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def retire_rule(rule_id: str) -> Rule:
    staff = current_staff()
    rule = trigger_rules.retire(rule_id, now=get_clock().now())
    trail.record(staff, "trigger_rule.retire", f"trigger_rule:{rule_id}", {"status": "active"}, _snapshot(rule),
                 staff.office)  # fmt: skip
    return rule


@router.get("/event-grants/<api_key_id>", summary="业务系统 API 密钥可发送的事件类型", tags=TAGS)
@allow(Role.it_ops)
def list_grants(api_key_id: str) -> GrantsOut:
    return GrantsOut(api_key_id=api_key_id, event_types=trigger_rules.grants(api_key_id))


@router.put("/event-grants/<api_key_id>/<event_type>", summary="授予事件类型", tags=TAGS)
@allow(Role.it_ops)
def add_grant(api_key_id: str, event_type: str) -> GrantsOut:
    staff = current_staff()
    before = trigger_rules.grants(api_key_id)
    trigger_rules.grant(api_key_id, event_type, by=staff.account_id, now=get_clock().now())
    after = trigger_rules.grants(api_key_id)
    trail.record(staff, "event_grant.add", f"api_key:{api_key_id}", {"event_types": before},
                 {"event_types": after}, staff.office)  # fmt: skip
    return GrantsOut(api_key_id=api_key_id, event_types=after)


@router.delete("/event-grants/<api_key_id>/<event_type>", summary="收回事件类型", tags=TAGS)
@allow(Role.it_ops)
def remove_grant(api_key_id: str, event_type: str) -> GrantsOut:
    staff = current_staff()
    before = trigger_rules.grants(api_key_id)
    trigger_rules.revoke(api_key_id, event_type)
    after = trigger_rules.grants(api_key_id)
    trail.record(staff, "event_grant.remove", f"api_key:{api_key_id}", {"event_types": before},
                 {"event_types": after}, staff.office)  # fmt: skip
    return GrantsOut(api_key_id=api_key_id, event_types=after)
