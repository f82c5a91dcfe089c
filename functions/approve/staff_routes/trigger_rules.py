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
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import trigger_rules
from sms_platform.sources.trigger_rule_models import EventTypes, Grants, Rule, RuleDraft, RuleList
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["触发规则"]


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("不通过的原因", multiline=True)] = Field(
        min_length=1, max_length=300, description="不通过的原因，将告知编写人"
    )


@router.get("/trigger-rules", summary="触发规则列表（各规则的最新版本）", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def list_rules() -> RuleList:
    return trigger_rules.list_rules()


@router.post("/trigger-rules", summary="新建触发规则（草稿）", tags=TAGS)
@allow(Role.city_operator)
def create_rule(body: Annotated[RuleDraft, Body()]) -> Rule:
    return trigger_rules.create(current_staff(), body, now=get_clock().now())


@router.get("/trigger-rules/<rule_id>", summary="触发规则的全部版本", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def rule_versions(rule_id: str) -> RuleList:
    return trigger_rules.versions(rule_id)


@router.put("/trigger-rules/<rule_id>", summary="修改触发规则（生效中的规则产生新版本）", tags=TAGS)
@allow(Role.city_operator)
def revise_rule(rule_id: str, body: Annotated[RuleDraft, Body()]) -> Rule:
    return trigger_rules.revise(current_staff(), rule_id, body, now=get_clock().now())


@router.post("/trigger-rules/<rule_id>/submission", summary="提交审核", tags=TAGS)
@allow(Role.city_operator)
def submit_rule(rule_id: str) -> Rule:
    return trigger_rules.submit(current_staff(), rule_id, now=get_clock().now())


@router.post("/trigger-rules/<rule_id>/approval", summary="审核通过并启用（审核人不能是编写人）", tags=TAGS)
@allow(Role.city_reviewer)
def approve_rule(rule_id: str) -> Rule:
    return trigger_rules.approve(current_staff(), rule_id, now=get_clock().now())


@router.post("/trigger-rules/<rule_id>/rejection", summary="审核不通过（须说明原因）", tags=TAGS)
@allow(Role.city_reviewer)
def reject_rule(rule_id: str, body: Annotated[ReasonIn, Body()]) -> Rule:
    return trigger_rules.reject(current_staff(), rule_id, body.reason, now=get_clock().now())


@router.post("/trigger-rules/<rule_id>/retirement", summary="停用生效中的版本", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def retire_rule(rule_id: str) -> Rule:
    return trigger_rules.retire(current_staff(), rule_id, now=get_clock().now())


@router.get("/event-types", summary="已授予业务系统的事件类型（编写规则和订阅项目时选择）", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def granted_event_types() -> EventTypes:
    return trigger_rules.event_types()


@router.get("/event-grants/<api_key_id>", summary="业务系统 API 密钥可发送的事件类型", tags=TAGS)
@allow(Role.it_ops)
def list_grants(api_key_id: str) -> Grants:
    return trigger_rules.grants(api_key_id)


@router.put("/event-grants/<api_key_id>/<event_type>", summary="授予事件类型", tags=TAGS)
@allow(Role.it_ops)
def add_grant(api_key_id: str, event_type: str) -> Grants:
    return trigger_rules.grant(current_staff(), api_key_id, event_type, now=get_clock().now())


@router.delete("/event-grants/<api_key_id>/<event_type>", summary="收回事件类型", tags=TAGS)
@allow(Role.it_ops)
def remove_grant(api_key_id: str, event_type: str) -> Grants:
    return trigger_rules.revoke(current_staff(), api_key_id, event_type, now=get_clock().now())
