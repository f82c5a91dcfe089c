"""The recipients of a send (R16): who got it, who did not and why, in plain Chinese; paged
with totals, and downloaded as CSV or XLSX built in the background.

A send is a send request (``/recipients/send/<request id>``), a trigger rule's notices of a day
(``/recipients/rule/<rule id>?period=YYYY-MM-DD``), a subscription item's sends of a month
(``/recipients/item/<product id>?period=YYYY-MM``) or the 12333 desk's hang-up answers of a day
(``/recipients/hotline?period=YYYY-MM-DD``). Each is read by those who read that kind of send's
reports (``sms_platform.reports.recipients.READERS``); which rows a district office sees, and
the send itself, are checked by the service.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from sms_platform.foundation.clock import get_clock
from sms_platform.reports import recipient_exports, recipients
from sms_platform.reports.recipient_models import ExportIn, RecipientExport, RecipientPage
from sms_platform.sending.recipient_groups import GroupSource
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]
DAY = "日期 YYYY-MM-DD（北京时间），不填为今天"
MONTH = "月份 YYYY-MM（北京时间），不填为本月"
STATE = "逗号分隔：delivered、failed、undeliverable、suppressed、sending；不填为全部"
CURSOR = "上一页返回的翻页标记"

State = Annotated[str | None, Query(max_length=80, title="状态", description=STATE)]
Cursor = Annotated[str | None, Query(max_length=4096, description=CURSOR)]
Limit = Annotated[int, Query(ge=1, le=200, description="每页行数")]


def _page(source: GroupSource, ident: str | None, period: str | None, state: str | None, cursor: str | None,
          limit: int) -> RecipientPage:  # fmt: skip
    return recipients.page(current_staff(), source, ident, period, state, cursor=cursor, limit=limit,
                           now=get_clock().now())  # fmt: skip


@router.get("/recipients/send/<request_id>", summary="发送申请的收件人明细（按状态筛选、分页、中文原因）", tags=TAGS)
@allow(*recipients.READERS[GroupSource.send])
def send_recipients(request_id: str, state: State = None, cursor: Cursor = None, limit: Limit = 50) -> RecipientPage:
    return _page(GroupSource.send, request_id, None, state, cursor, limit)


@router.get("/recipients/rule/<rule_id>", summary="触发规则某日发出短信的收件人明细", tags=TAGS)
@allow(*recipients.READERS[GroupSource.rule])
def rule_recipients(
    rule_id: str,
    period: Annotated[str | None, Query(max_length=10, description=DAY)] = None,
    state: State = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RecipientPage:
    return _page(GroupSource.rule, rule_id, period, state, cursor, limit)


@router.get("/recipients/item/<product_id>", summary="订阅项目某月发出短信的收件人明细", tags=TAGS)
@allow(*recipients.READERS[GroupSource.item])
def item_recipients(
    product_id: str,
    period: Annotated[str | None, Query(max_length=10, description=MONTH)] = None,
    state: State = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RecipientPage:
    return _page(GroupSource.item, product_id, period, state, cursor, limit)


@router.get("/recipients/hotline", summary="12333挂机短信某日的收件人明细", tags=TAGS)
@allow(*recipients.READERS[GroupSource.hotline])
def hotline_recipients(
    period: Annotated[str | None, Query(max_length=10, description=DAY)] = None,
    state: State = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RecipientPage:
    return _page(GroupSource.hotline, None, period, state, cursor, limit)


@router.post("/recipient-exports", summary="导出收件人明细（CSV 或 XLSX，后台生成）", tags=TAGS, status_code=202)
@allow(*recipients.ALL_READERS)
def request_export(body: Annotated[ExportIn, Body()]) -> RecipientExport:
    return recipient_exports.request_export(current_staff(), body, now=get_clock().now())


@router.get("/recipient-exports/<export_id>", summary="导出进度；生成完成后给出临时下载链接", tags=TAGS)
@allow(*recipients.ALL_READERS)
def export_status(export_id: str) -> RecipientExport:
    return recipient_exports.status(current_staff(), export_id, now=get_clock().now())
