"""The recipients of a send (R16): who got it, who did not and why, in plain Chinese; paged
with totals, and downloaded as CSV or XLSX built in the background.

A send is a send request (``source=send``, ``id`` its request), a trigger rule's notices of a
day (``rule``, the rule and ``period`` YYYY-MM-DD), a subscription item's sends of a month
(``item``, the item and YYYY-MM) or the 12333 desk's hang-up answers of a day (``hotline``).
Who may read each kind, and which rows a district office sees, is decided by
``sms_platform.reports.recipients``; the route allows anyone who may read one of them.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from sms_platform.foundation.clock import get_clock
from sms_platform.reports import recipient_exports, recipients
from sms_platform.reports.recipient_models import ExportIn, RecipientExport, RecipientPage
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]
SOURCE = "send（发送申请）、rule（触发规则）、item（订阅项目）或 hotline（12333挂机短信）"
IDENT = "发送申请、触发规则或订阅项目的编号"
PERIOD = "日期 YYYY-MM-DD（触发规则、挂机短信）或月份 YYYY-MM（订阅项目），不填为今天或本月"
STATE = "逗号分隔：delivered、failed、undeliverable、suppressed、sending；不填为全部"


@router.get("/recipients", summary="一次发送的收件人明细：按状态筛选、分页，含合计与中文原因", tags=TAGS)
@allow(*recipients.ALL_READERS)
def list_recipients(
    source: Annotated[str, Query(max_length=16, description=SOURCE)],
    ident: Annotated[str | None, Query(alias="id", max_length=64, description=IDENT)] = None,
    period: Annotated[str | None, Query(max_length=10, description=PERIOD)] = None,
    state: Annotated[str | None, Query(max_length=80, description=STATE)] = None,
    cursor: Annotated[str | None, Query(max_length=4096, description="上一页返回的翻页标记")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecipientPage:
    return recipients.page(current_staff(), source, ident, period, state, cursor=cursor, limit=limit,
                           now=get_clock().now())  # fmt: skip


@router.post("/recipient-exports", summary="导出收件人明细（CSV 或 XLSX，后台生成）", tags=TAGS, status_code=202)
@allow(*recipients.ALL_READERS)
def request_export(body: Annotated[ExportIn, Body()]) -> RecipientExport:
    return recipient_exports.request_export(current_staff(), body, now=get_clock().now())


@router.get("/recipient-exports/<export_id>", summary="导出进度；生成完成后给出临时下载链接", tags=TAGS)
@allow(*recipients.ALL_READERS)
def export_status(export_id: str) -> RecipientExport:
    return recipient_exports.status(current_staff(), export_id, now=get_clock().now())
