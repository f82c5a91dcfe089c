"""Daily statistics of all five kinds of SMS (R16): per day, kind and office, the messages sent,
delivered, failed and suppressed, parts billed, delivery rate and the main failure reasons,
read from counters kept as messages change state (``sms_platform.sending.daily_stats``) by the
service ``sms_platform.reports.daily_statistics``.

Readers: the city office, the 12333 centre's manager, IT operations and auditors see every
office; a district operator sees its own district only, whatever it asks for.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from sms_platform.foundation.clock import get_clock
from sms_platform.reports.models import DailyStatistics
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]
READERS = (Role.city_operator, Role.city_reviewer, Role.district_operator, Role.hotline_manager, Role.it_ops,
           Role.auditor)  # fmt: skip


@router.get("/reports/daily", summary="每日短信统计（按日期、类别、单位）", tags=TAGS)
@allow(*READERS)
def daily(
    start: Annotated[date | None, Query(alias="from", description="开始日期（北京时间），默认 6 天前")] = None,
    end: Annotated[date | None, Query(alias="to", description="结束日期（北京时间），默认今天")] = None,
    office: Annotated[Office | None, Query(title="单位", description="只看此单位")] = None,
) -> DailyStatistics:
    from sms_platform.reports import daily_statistics

    return daily_statistics.daily_statistics(current_staff(), start, end, office, now=get_clock().now())
