"""The 12333 desk: the question bank's scope (hotline manager), entries (city operators write the
question and its answer template; the answer's text is reviewed through the templates routes),
and the agents' picks for calls that hung up without a choice (within 24 hours).

An agent is matched to calls by staff number (``hotline.agent_of``): the telephony system's
``agent_id`` is the agent's staff number. A hotline manager sees and answers the whole centre's
waiting calls. The service audits what staff change here and answers with its own models.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources import hotline
from sms_platform.sources.hotline_models import ActiveEntryList, Call, CallList, Entry, EntryList
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["12333挂机短信"]


class EntryIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"template_id": "答案模板"}))

    question: Annotated[str, Visible("问题标题")] = Field(min_length=1, max_length=100, description="问题标题")
    template_id: str = Field(min_length=1, max_length=64, description="答案所用的挂机短信模板")


class ScopeIn(BaseModel):
    in_scope: bool = Field(description="是否纳入问答库范围")


class PickIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"faq_ids": "问答条目"}))

    faq_ids: list[str] = Field(min_length=1, max_length=hotline.MAX_ENTRIES_PER_CALL)


@router.get("/hotline/entries", summary="问答库条目", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent, Role.city_operator, Role.city_reviewer)
def list_entries() -> EntryList:
    return hotline.list_entries()


@router.get("/hotline/entries/active", summary="当前可发送的问答条目及其答案短信（含签名与条数）", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def active_entries() -> ActiveEntryList:
    return hotline.active_entries(get_clock().now())


@router.post("/hotline/entries", summary="新建问答条目（答案为挂机短信模板）", tags=TAGS)
@allow(Role.city_operator)
def create_entry(body: Annotated[EntryIn, Body()]) -> Entry:
    return hotline.create_entry(current_staff(), body.question, body.template_id, now=get_clock().now())


@router.put("/hotline/entries/<faq_id>/scope", summary="选定或移出问答库范围", tags=TAGS)
@allow(Role.hotline_manager)
def set_scope(faq_id: str, body: Annotated[ScopeIn, Body()]) -> Entry:
    return hotline.set_scope(current_staff(), faq_id, body.in_scope, now=get_clock().now())


@router.get("/hotline/calls/waiting", summary="等待坐席选择问答的来电（24小时内）", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def waiting_calls() -> CallList:
    return hotline.waiting_calls(current_staff(), now=get_clock().now())


@router.post("/hotline/calls/<call_id>/picks", summary="为来电选择问答并发送", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def pick(call_id: str, body: Annotated[PickIn, Body()]) -> Call:
    return hotline.pick(current_staff(), call_id, body.faq_ids, now=get_clock().now())
