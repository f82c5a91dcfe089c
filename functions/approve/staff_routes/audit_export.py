"""An auditor's export of one day's audit trail (R14): the day's chains as JSON lines, the same
serialisation as the nightly archive (``archive.archive_lines``: a header with each chain's length,
head hash and the verification result, then every entry with its ``prev_hash`` and ``hash``), so
a downloaded day can be compared line by line with the archive. The export is audited itself."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from sms_platform.audit import archive, trail
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["审计"]
NDJSON = "application/x-ndjson"


@router.get(
    "/audit/export",
    summary="导出一天的审计记录（JSON Lines，与每日归档格式相同）",
    tags=TAGS,
    responses={
        200: {
            "description": "第一行为链的摘要与校验结果，其后每行一条审计记录",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        }
    },
)
@allow(Role.auditor)
def export(day: Annotated[date, Query(description="日期（北京时间）YYYY-MM-DD")]) -> Response[str]:
    now = get_clock().now()
    if day > now.astimezone(BEIJING).date():
        raise ValidationFailed("不能导出未来日期的审计记录", field="day")
    lines, count, broken = archive.archive_lines(day, now)
    staff = current_staff()
    # Recorded before the answer leaves: an export that could not be audited is not given out.
    trail.record(staff, "audit.export", f"audit-day:{day.isoformat()}", None,
                 {"entries": count, "verified": broken is None}, staff.office)  # fmt: skip
    return Response(
        status_code=200,
        content_type=NDJSON,
        body="\n".join(lines) + "\n",
        headers={"Content-Disposition": f'attachment; filename="audit-{day.isoformat()}.jsonl"'},
    )
