"""Daily statistics of all five kinds of SMS (R16) as a staff member may read them: per day, kind
and office, from the counters ``sending.daily_stats`` keeps as messages change state.

The city office, the 12333 centre's manager, IT operations and auditors see every office; a
district operator sees its own district only, whatever it asks for.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.reports import reasons
from sms_platform.reports.models import DailyRow, DailyStatistics
from sms_platform.sending import daily_stats
from sms_platform.staff.context import Office, StaffContext, visible_offices

DEFAULT_DAYS = 7


def daily_statistics(
    ctx: StaffContext, start: date | None, end: date | None, office: Office | None, *, now: datetime
) -> DailyStatistics:
    """From ``start`` to ``end`` (Beijing days; by default the last ``DEFAULT_DAYS`` up to today),
    for ``office`` or every office ``ctx`` may see."""
    end = end or now.astimezone(BEIJING).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed("开始日期不能晚于结束日期", field="from")
    if (end - start).days + 1 > daily_stats.MAX_DAYS:
        raise ValidationFailed(f"一次最多查询 {daily_stats.MAX_DAYS} 天", field="to")
    offices = sorted(visible_offices(ctx))
    if office is not None:
        if office not in offices:
            raise Forbidden("区县工作人员只能查看本区县的统计", field="office")
        offices = [office]
    rows = daily_stats.report(start, end, offices=[o.value for o in offices])
    return DailyStatistics(
        start=start,
        end=end,
        offices=offices,
        rows=[DailyRow(**row, failure_categories=reasons.categories(row["failure_reasons"])) for row in rows],
    )
