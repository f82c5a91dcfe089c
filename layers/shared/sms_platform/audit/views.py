"""What auditors read: a page of entries and the check of a day, as the staff API answers them.

``search`` and ``trail.verify`` work on stored entries (plain mappings, as hashed); these are
their answers for people, one model each.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, computed_field

from sms_platform.audit import search, trail
from sms_platform.audit.vocabulary import action_name, target_name


class Actor(BaseModel):
    account_id: str | None
    username: str | None
    real_name: str | None
    roles: list[str]
    office: str | None


class Entry(BaseModel):
    chain: str = Field(description="所在的审计链（日期#分片）")
    seq: int
    at: str
    actor: Actor
    action: str
    target: str
    office: str | None
    template_id: str | None = None
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str
    template_name: str | None = Field(default=None, description="所涉模板的名称")

    @computed_field(description="操作（中文）")  # type: ignore[prop-decorator]
    @property
    def action_name(self) -> str:
        return action_name(self.action)

    @computed_field(description="对象（中文）")  # type: ignore[prop-decorator]
    @property
    def target_name(self) -> str:
        return target_name(self.target)


class Entries(BaseModel):
    entries: list[Entry]
    cursor: str | None = Field(default=None, description="下一页的翻页标记；为空表示没有更多")


class Break(BaseModel):
    chain: str
    seq: int
    at: str | None
    reason: str
    message: str


class Verification(BaseModel):
    day: date
    intact: bool
    broken: Break | None = Field(default=None, description="第一条链接断裂的记录")


def entries(query: search.AuditQuery) -> Entries:
    """A page of the entries ``query`` asks for."""
    page = search.search(query)
    return Entries(entries=[Entry.model_validate(entry) for entry in page.entries], cursor=page.cursor)


def verification(day: date) -> Verification:
    """Whether that day's chains hold, and their first broken entry when one does not."""
    broken = trail.verify(day)
    return Verification(day=day, intact=broken is None, broken=Break(**broken.as_dict()) if broken else None)
