"""Daily statistics of all five kinds of SMS (R16): per day, kind and office, the messages sent,
delivered, failed and suppressed, parts billed, delivery rate and the main failure reasons,
read from counters kept as messages change state (``sms_platform.sending.daily_stats``).

Readers: the city office, the 12333 centre's manager, IT operations and auditors see every
office; a district operator sees its own district only, whatever it asks for.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]
READERS = (Role.city_operator, Role.city_reviewer, Role.district_operator, Role.hotline_manager, Role.it_ops,
           Role.auditor)  # fmt: skip
DEFAULT_DAYS = 7


class DailyRow(BaseModel):
    day: date
    kind: str = Field(description="短信类别：triggered、targeted、publicity、hangup、subscription、system")
    office: str = Field(description="所属单位")
    sent: int = Field(description="运营商已接收")
    delivered: int
    failed: int
    suppressed: int = Field(description="未发送（退订、频率限制、停止发送、单位暂停）")
    undeliverable: int = Field(description="无可用号码")
    expired: int
    parts: int = Field(description="计费条数")
    delivery_rate: float | None = Field(description="送达 /（送达 + 失败）；无结果时为空")
    failure_reasons: dict[str, int] = Field(description="失败原因（运营商错误码）及条数，多者在前")
    suppress_reasons: dict[str, int] = Field(description="未发送原因及条数，多者在前")


class DailyOut(BaseModel):
    start: date = Field(description="开始日期（即请求的 from）")
    end: date = Field(description="结束日期（即请求的 to）")
    offices: list[Office] = Field(description="统计范围内的单位")
    rows: list[DailyRow]


@router.get("/reports/daily", summary="每日短信统计（按日期、类别、单位）", tags=TAGS)
@allow(*READERS)
def daily(
    start: Annotated[date | None, Query(alias="from", description="开始日期（北京时间），默认 6 天前")] = None,
    end: Annotated[date | None, Query(alias="to", description="结束日期（北京时间），默认今天")] = None,
    office: Annotated[Office | None, Query(description="只看此单位")] = None,
) -> DailyOut:
    from sms_platform.foundation.errors import ValidationFailed
    from sms_platform.sending import daily_stats
    from sms_platform.staff.context import visible_offices

    staff = current_staff()
    end = end or get_clock().now().astimezone(BEIJING).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed("开始日期不能晚于结束日期", field="from")
    if (end - start).days + 1 > daily_stats.MAX_DAYS:
        raise ValidationFailed(f"一次最多查询 {daily_stats.MAX_DAYS} 天", field="to")
    offices = sorted(visible_offices(staff))
    if office is not None:
        if office not in offices:
            from sms_platform.foundation.errors import Forbidden

            raise Forbidden("区县工作人员只能查看本区县的统计", field="office")
        offices = [office]
    rows = daily_stats.report(start, end, offices=[o.value for o in offices])
    return DailyOut(start=start, end=end, offices=offices, rows=[DailyRow(**row) for row in rows])
