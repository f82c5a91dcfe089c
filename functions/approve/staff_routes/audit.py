"""The audit trail for auditors (R14): search by time, operator (by name or username), office and
template, each entry's action and target in Chinese; the accounts to choose an operator from; and
the chain verification of a day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from sms_platform.audit import views
from sms_platform.audit.search import AuditQuery
from sms_platform.reports import audit_entries
from sms_platform.staff import operator_names
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow

router = Router()
TAGS = ["审计"]


@router.get("/audit/entries", summary="查询审计记录", tags=TAGS)
@allow(Role.auditor)
def search(
    start: Annotated[datetime, Query(description="开始时间（ISO 8601，带时区）")],
    end: Annotated[datetime, Query(description="结束时间（ISO 8601，带时区）")],
    operator: Annotated[str | None, Query(max_length=128, description="操作人：姓名（或其中一部分）或用户名")] = None,
    office: Annotated[Office | None, Query(description="单位")] = None,
    template_id: Annotated[str | None, Query(max_length=64, description="模板 ID")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> views.Entries:
    office_code = office.value if office else None
    username = operator_names.resolve(operator) if operator and operator.strip() else None
    return audit_entries.entries(AuditQuery(start, end, username, office_code, template_id, limit, cursor))


@router.get("/audit/operators", summary="可按姓名查询的操作人（全部账号）", tags=TAGS)
@allow(Role.auditor)
def operators() -> operator_names.Operators:
    return operator_names.operators()


@router.get("/audit/verification", summary="校验一天的审计链", tags=TAGS)
@allow(Role.auditor)
def verify(day: Annotated[date, Query(description="日期（北京时间）YYYY-MM-DD")]) -> views.Verification:
    return views.verification(day)
