"""Operations (R14, R16): dead-letter queues for IT operations, the daily delivery report, and
the per-citizen lookup the 12333 desk uses to answer "did my message arrive?".

The citizen's number travels in the request body, never in a URL (URLs are logged), and comes
back masked.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.validation_messages import labels
from sms_platform.reports import dead_letters as dead_letter_queues
from sms_platform.reports.models import CitizenMessages, DailyDelivery, DeadLetterDepths, DeadLetterPage, Redriven
from sms_platform.sending.dlq import PEEK_LIMIT, Lane
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]


class RedriveIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"max_messages": "条数"}))

    max_messages: int = Field(default=100, ge=1, le=10_000)


class LookupIn(BaseModel):
    phone: str = Field(min_length=11, max_length=20, description="来电人手机号")


@router.get("/dead-letters", summary="各死信队列的积压数量", tags=TAGS)
@allow(Role.it_ops)
def dead_letter_depths() -> DeadLetterDepths:
    return dead_letter_queues.depths()


@router.get("/dead-letters/<lane>", summary="查看死信队列中的消息（不含号码）", tags=TAGS)
@allow(Role.it_ops)
def dead_letters(lane: Lane, limit: Annotated[int, Query(ge=1, le=PEEK_LIMIT)] = 10) -> DeadLetterPage:
    return dead_letter_queues.page(lane, limit)


@router.post("/dead-letters/<lane>/redrive", summary="将死信重新投递回原队列", tags=TAGS)
@allow(Role.it_ops)
def redrive(lane: Lane, body: Annotated[RedriveIn, Body()]) -> Redriven:
    return dead_letter_queues.redrive(current_staff(), lane, body.max_messages, now=get_clock().now())


@router.get("/delivery-reports/daily", summary="每日送达报告（按单位汇总）", tags=TAGS)
@allow(Role.city_reviewer, Role.auditor, Role.it_ops)
def daily(day: Annotated[date | None, Query(description="北京时间日期，默认昨天")] = None) -> DailyDelivery:
    from sms_platform.reports import delivery_reports  # heavy (message models): loaded only where used

    return delivery_reports.daily_report(day, now=get_clock().now())


@router.post("/message-lookup", summary="查询某手机号近期短信的发送状态（12333 坐席答复来电人）", tags=TAGS)
@allow(Role.hotline_agent, Role.hotline_manager, Role.it_ops)
def lookup(body: Annotated[LookupIn, Body()]) -> CitizenMessages:
    from sms_platform.reports import delivery_reports

    return delivery_reports.citizen_messages(current_staff(), body.phone, now=get_clock().now())
