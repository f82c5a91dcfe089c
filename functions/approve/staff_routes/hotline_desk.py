"""The 12333 desk: the question bank's scope (hotline manager), entries (city operators write the
question and its answer template; the answer's text is reviewed through the templates routes),
and the agents' picks for calls that hung up without a choice (within 24 hours).

An agent is matched to calls by staff number: the telephony system's ``agent_id`` is the agent's
staff number. A hotline manager sees and answers the whole centre's waiting calls.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.audit import trail
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import hotline
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["12333挂机短信"]


class EntryIn(BaseModel):
    question: Annotated[str, Visible("问题标题")] = Field(min_length=1, max_length=100, description="问题标题")
    template_id: str = Field(min_length=1, max_length=64, description="答案所用的挂机短信模板")


class Entry(BaseModel):
    faq_id: str
    question: str
    template_id: str
    in_scope: bool
    created_by: str | None = None
    created_at: str | None = None
    scope_by: str | None = None
    scope_at: str | None = None


class EntryList(BaseModel):
    entries: list[Entry]


class ActiveEntry(Entry):
    template_version: int = Field(description="答案模板的启用版本")
    text: str = Field(description="审核通过的答案内容（不含签名）")
    signature: str = Field(description="12333服务中心的签名（不含括号）")
    message: str = Field(description="来电人手机上显示的短信（含签名）")
    characters: int = Field(description="含签名的字数")
    parts: int = Field(description="计费条数")


class ActiveEntryList(BaseModel):
    entries: list[ActiveEntry]


class ScopeIn(BaseModel):
    in_scope: bool = Field(description="是否纳入问答库范围")


class Call(BaseModel):
    call_id: str
    agent_id: str
    caller: str = Field(description="主叫号码（已脱敏）")
    ended_at: str
    status: str
    faq_ids: list[str]
    pick_before: str
    picked_by: str | None = None


class CallList(BaseModel):
    calls: list[Call]


class PickIn(BaseModel):
    faq_ids: list[str] = Field(min_length=1, max_length=hotline.MAX_ENTRIES_PER_CALL)


@router.get("/hotline/entries", summary="问答库条目", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent, Role.city_operator, Role.city_reviewer)
def list_entries() -> EntryList:
    return EntryList(entries=[Entry(**entry) for entry in hotline.list_entries()])


@router.get("/hotline/entries/active", summary="当前可发送的问答条目及其答案短信（含签名与条数）", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def active_entries() -> ActiveEntryList:
    return ActiveEntryList(entries=[ActiveEntry(**entry) for entry in hotline.active_entries(get_clock().now())])


@router.post("/hotline/entries", summary="新建问答条目（答案为挂机短信模板）", tags=TAGS)
@allow(Role.city_operator)
def create_entry(body: Annotated[EntryIn, Body()]) -> Entry:
    staff = current_staff()
    entry = hotline.create_entry(body.question, body.template_id, actor=staff.account_id, now=get_clock().now())
    trail.record(staff, "hotline_entry.create", f"faq:{entry['faq_id']}", None, entry, staff.office)
    return Entry(**entry)


@router.put("/hotline/entries/<faq_id>/scope", summary="选定或移出问答库范围", tags=TAGS)
@allow(Role.hotline_manager)
def set_scope(faq_id: str, body: Annotated[ScopeIn, Body()]) -> Entry:
    staff = current_staff()
    before, after = hotline.set_scope(faq_id, body.in_scope, actor=staff.account_id, now=get_clock().now())
    trail.record(staff, "hotline_entry.scope", f"faq:{faq_id}", before, after, staff.office)
    return Entry(**after)


def _agent_filter() -> str | None:
    staff = current_staff()
    return None if staff.has(Role.hotline_manager) else (staff.staff_number or staff.username)


@router.get("/hotline/calls/waiting", summary="等待坐席选择问答的来电（24小时内）", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def waiting_calls() -> CallList:
    return CallList(calls=[Call(**call) for call in hotline.waiting_calls(get_clock().now(), _agent_filter())])


@router.post("/hotline/calls/<call_id>/picks", summary="为来电选择问答并发送", tags=TAGS)
@allow(Role.hotline_manager, Role.hotline_agent)
def pick(call_id: str, body: Annotated[PickIn, Body()]) -> Call:
    staff = current_staff()
    call = hotline.pick(call_id, body.faq_ids, agent_id=_agent_filter(), actor=staff.account_id,
                        now=get_clock().now())  # fmt: skip
    trail.record(staff, "hotline_call.pick", f"call:{call_id}", {"status": "awaiting_agent"},
                 {"status": call["status"], "faq_ids": call["faq_ids"]}, staff.office)  # fmt: skip
    return Call(**call)
