"""Daily statistics of all five kinds of SMS (R16) as a staff member may read them: per day, kind
and office, from the counters ``sending.daily_stats`` keeps as messages change state.

The city office, the 12333 centre's manager, IT operations and auditors see every office; a
district operator sees its own district only, whatever it asks for. Beside the rows, the same
range's totals per carrier (messages, parts, delivery rate, failure categories) and what its
parts cost at the configured prices (``CARRIER_PRICES``, fen per part).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sms_platform.carrier import configured
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.reports import reasons
from sms_platform.reports.models import CarrierTotals, DailyRow, DailyStatistics
from sms_platform.sending import daily_stats
from sms_platform.staff.context import Office, StaffContext, visible_offices

DEFAULT_DAYS = 7
CARRIER_NAMES: dict[str, str] = {"alibaba": "阿里云短信", "tencent": "腾讯云短信"}


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
    rows, carriers = daily_stats.report_with_carriers(start, end, offices=[o.value for o in offices])
    return DailyStatistics(
        start=start,
        end=end,
        offices=offices,
        rows=[DailyRow(**row, failure_categories=reasons.categories(row["failure_reasons"])) for row in rows],
        carriers=carrier_totals(carriers, configured.configured_names(), settings().carrier_prices),
    )


def carrier_totals(
    found: dict[str, dict[str, Any]], names: Iterable[str], prices: Mapping[str, float]
) -> list[CarrierTotals]:
    """Each configured carrier's totals (zeros when it carried nothing) and any other carrier that
    carried messages in the range, with its parts' cost at ``prices`` (fen per part)."""
    empty = {"sent": 0, "parts": 0, "delivered": 0, "failed": 0, "delivery_rate": None, "failure_reasons": {}}
    listed = list(dict.fromkeys([*names, *found]))
    totals = []
    for carrier in listed:
        figures = found.get(carrier, empty)
        price = float(prices.get(carrier, 0))
        totals.append(
            CarrierTotals(
                carrier=carrier, name=CARRIER_NAMES.get(carrier, carrier), **figures,
                failure_categories=reasons.categories(figures["failure_reasons"]),
                price_fen=price, cost_yuan=round(figures["parts"] * price / 100, 2),
            )
        )  # fmt: skip
    return totals
