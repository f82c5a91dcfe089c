"""Table tests of the per-carrier totals of the daily statistics: every configured carrier listed,
its parts' cost at the configured prices (fen per part), failure codes by category."""

from __future__ import annotations

import pytest
from sms_platform.reports.daily_statistics import carrier_totals

PRICES = {"alibaba": 4.0, "tencent": 4.5}
ALIBABA = {"sent": 1000, "parts": 1500, "delivered": 950, "failed": 50, "delivery_rate": 0.95,
           "failure_reasons": {"MK:0005": 30, "isv.MOBILE_NUMBER_ILLEGAL": 20}}  # fmt: skip


@pytest.mark.parametrize(
    ("found", "names", "prices", "expected"),
    [
        (
            {"alibaba": ALIBABA},
            ("alibaba", "tencent"),
            PRICES,
            [("alibaba", 1500, 4.0, 60.0), ("tencent", 0, 4.5, 0.0)],
        ),
        ({"alibaba": {**ALIBABA, "parts": 3}}, ("alibaba",), PRICES, [("alibaba", 3, 4.0, 0.12)]),
        (
            {"tencent": {**ALIBABA, "parts": 7}},
            ("alibaba",),
            PRICES,
            [("alibaba", 0, 4.0, 0.0), ("tencent", 7, 4.5, 0.32)],
        ),
        ({"alibaba": ALIBABA}, ("alibaba",), {"alibaba": 3.8}, [("alibaba", 1500, 3.8, 57.0)]),
        ({"alibaba": ALIBABA}, ("alibaba",), {}, [("alibaba", 1500, 0.0, 0.0)]),  # no price: no cost claimed
    ],
)
def test_each_carrier_with_its_cost(found, names, prices, expected):
    rows = carrier_totals(found, names, prices)
    assert [(r.carrier, r.parts, r.price_fen, r.cost_yuan) for r in rows] == expected


def test_names_and_failure_categories_in_chinese():
    [row] = carrier_totals({"alibaba": ALIBABA}, ("alibaba",), PRICES)
    assert row.name == "阿里云短信" and row.delivery_rate == 0.95
    assert sum(row.failure_categories.values()) == 50
    assert all(not code.isascii() for code in row.failure_categories)
