"""An auditor's export of one day's audit trail (R14): the day's chains as JSON lines, the same
serialisation as the nightly archive (``archive.archive_lines``: a header with each chain's length,
head hash and the verification result, then every entry with its ``prev_hash`` and ``hash``), so
a downloaded day can be compared line by line with the archive. The export is audited itself, by
``archive.export``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from sms_platform.audit import archive
from sms_platform.foundation.clock import get_clock
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
    exported = archive.export(current_staff(), day, now=get_clock().now())
    return Response(
        status_code=200,
        content_type=NDJSON,
        body=exported.body,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
