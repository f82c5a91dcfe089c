"""What the 12333 hang-up answers are made of (``hotline``): the checked hang-up and the answer the
telephony system gets, the question bank's entries (with the answer an agent would send), and the
calls waiting for an agent.

Imported only when a hang-up or a desk request is handled, never with the webhook's cold import
(pydantic is not loaded until then).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Hangup(BaseModel):
    """A hang-up body, checked field by field (``hotline.parse_hangup``); the caller's number as given."""

    call_id: str
    caller: str
    agent_id: str
    ended_at: datetime
    faq_ids: list[str]


class HangupAnswer(BaseModel):
    """The contract's answer to a hang-up: the first one given for the call, whatever came of it since."""

    call_id: str
    status: str


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


class AnswerPreview(BaseModel):
    """The SMS an entry sends, exactly as the caller's phone shows it."""

    message: str = Field(description="来电人手机上显示的短信（含签名）")
    characters: int = Field(description="含签名的字数")
    parts: int = Field(description="计费条数")


class ActiveEntry(Entry):
    template_version: int = Field(description="答案模板的启用版本")
    text: str = Field(description="审核通过的答案内容（不含签名）")
    signature: str = Field(description="12333服务中心的签名（不含括号）")
    message: str = Field(description="来电人手机上显示的短信（含签名）")
    characters: int = Field(description="含签名的字数")
    parts: int = Field(description="计费条数")


class ActiveEntryList(BaseModel):
    entries: list[ActiveEntry]


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
