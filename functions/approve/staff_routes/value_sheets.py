"""Personalised lists for targeted notices (R5, R7): a spreadsheet whose columns fill each
recipient's own message, uploaded straight to storage and checked in the background.

Every step is made and audited by ``sms_platform.sources.value_sheets``; a send request takes a
checked list by its ``sheet_id`` (``send_requests``).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from sms_platform.foundation.clock import get_clock
from sms_platform.sources import value_sheets
from sms_platform.sources.value_sheet_models import SheetCreated, SheetIn, SheetReport, SheetView
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["发送申请"]
PROPOSERS = (Role.city_operator, Role.district_operator)
READERS = (Role.city_operator, Role.district_operator, Role.city_reviewer, Role.auditor)


@router.post("/value-sheets", summary="新建个性化名单：取得 CSV 或 XLSX 文件的上传地址", tags=TAGS, status_code=201)
@allow(*PROPOSERS)
def create(body: Annotated[SheetIn, Body()]) -> SheetCreated:
    return value_sheets.create(current_staff(), body, now=get_clock().now())


@router.post("/value-sheets/<sheet_id>/start", summary="文件已上传，开始检查名单", tags=TAGS, status_code=202)
@allow(*PROPOSERS)
def start(sheet_id: str) -> SheetView:
    return value_sheets.start(current_staff(), sheet_id, now=get_clock().now())


@router.get("/value-sheets/<sheet_id>", summary="名单检查进度与结果：预览、最长短信、条数、被拒行", tags=TAGS)
@allow(*READERS)
def detail(sheet_id: str) -> SheetView:
    return value_sheets.view(current_staff(), sheet_id)


@router.get("/value-sheets/<sheet_id>/report", summary="下载被拒行报告（证件号码和手机号已脱敏）", tags=TAGS)
@allow(*READERS)
def report(sheet_id: str) -> SheetReport:
    return value_sheets.report(current_staff(), sheet_id)
