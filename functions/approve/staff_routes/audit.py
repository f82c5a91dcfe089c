"""The audit trail for auditors (R14): search by time, operator, office and template, and the
chain verification of a day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field
from sms_platform.audit import search as audit_search
from sms_platform.audit import trail
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow

router = Router()
TAGS = ["审计"]


class ActorOut(BaseModel):
    account_id: str | None
    username: str | None
    real_name: str | None
    roles: list[str]
    office: str | None


class EntryOut(BaseModel):
    chain: str = Field(description="所在的审计链（日期#分片）")
    seq: int
    at: str
    actor: ActorOut
    action: str
    target: str
    office: str | None
    template_id: str | None = None
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str


class EntriesOut(BaseModel):
    entries: list[EntryOut]
    cursor: str | None = Field(default=None, description="下一页的翻页标记；为空表示没有更多")


class BrokenOut(BaseModel):
    chain: str
    seq: int
    at: str | None
    reason: str
    message: str


class VerificationOut(BaseModel):
    day: date
    intact: bool
    broken: BrokenOut | None = Field(default=None, description="第一条链接断裂的记录")


@router.get("/audit/entries", summary="查询审计记录", tags=TAGS)
@allow(Role.auditor)
def search(
    start: Annotated[datetime, Query(description="开始时间（ISO 8601，带时区）")],
    end: Annotated[datetime, Query(description="结束时间（ISO 8601，带时区）")],
    operator: Annotated[str | None, Query(max_length=128, description="操作人账号 ID")] = None,
    office: Annotated[Office | None, Query(description="单位")] = None,
    template_id: Annotated[str | None, Query(max_length=64, description="模板 ID")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> EntriesOut:
    page = audit_search.search(
        audit_search.AuditQuery(
            start=start,
            end=end,
            operator=operator,
            office=office.value if office else None,
            template_id=template_id,
            limit=limit,
            cursor=cursor,
        )
    )
    return EntriesOut(entries=[EntryOut(**entry) for entry in page.entries], cursor=page.cursor)


@router.get("/audit/verification", summary="校验一天的审计链", tags=TAGS)
@allow(Role.auditor)
def verify(day: Annotated[date, Query(description="日期（北京时间）YYYY-MM-DD")]) -> VerificationOut:
    broken = trail.verify(day)
    return VerificationOut(day=day, intact=broken is None, broken=BrokenOut(**broken.as_dict()) if broken else None)
