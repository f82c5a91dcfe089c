"""The pure rules of send requests: timing, who reviews, cancels and stops, chunking, reports."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.reports import delivery_reports
from sms_platform.sources import send_request_models
from sms_platform.staff.context import Office, Role, StaffContext

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)


def staff(account_id: str, office: Office, *roles: Role) -> StaffContext:
    return StaffContext(account_id, account_id, account_id, account_id, office, frozenset(roles))


REVIEWER = staff("rev", Office.city, Role.city_reviewer)
OPERATOR = staff("op", Office.city, Role.city_operator)
DISTRICT = staff("wd", Office.wendeng, Role.district_operator)


@pytest.mark.parametrize(
    ("kind", "send_at", "refused_with"),
    [
        ("publicity", None, None),
        ("publicity", datetime(2025, 3, 4, 8, 0, tzinfo=BEIJING), None),
        ("publicity", datetime(2025, 3, 3, 20, 59, 59, tzinfo=BEIJING), None),
        ("publicity", datetime(2025, 3, 3, 21, 0, tzinfo=BEIJING), "例如 2025-03-04 08:00"),
        ("publicity", datetime(2025, 3, 4, 7, 59, tzinfo=BEIJING), "例如 2025-03-04 08:00"),
        ("publicity", datetime(2025, 3, 3, 23, 0, tzinfo=BEIJING), "例如 2025-03-04 08:00"),
        ("publicity", datetime(2025, 3, 4, 5, 30, tzinfo=BEIJING), "例如 2025-03-04 08:00"),
        ("targeted", datetime(2025, 3, 3, 23, 0, tzinfo=BEIJING), None),
        ("targeted", NOW - timedelta(seconds=30), None),
        ("targeted", NOW - timedelta(minutes=5), "发送时间已过"),
        ("publicity", datetime(2025, 3, 3, 4, 0, tzinfo=BEIJING), "发送时间已过"),
    ],
)
def test_timing_problem(kind, send_at, refused_with):
    problem = send_request_models.timing_problem(kind, send_at, NOW)
    if refused_with is None:
        assert problem is None
    else:
        assert problem is not None and refused_with in problem


@pytest.mark.parametrize(
    ("kind", "send_at", "now", "expected"),
    [
        ("publicity", None, datetime(2025, 3, 3, 22, 0, tzinfo=BEIJING), datetime(2025, 3, 4, 8, 0, tzinfo=BEIJING)),
        ("publicity", None, datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING), datetime(2025, 3, 3, 9, 0, tzinfo=BEIJING)),
        ("targeted", None, datetime(2025, 3, 3, 22, 0, tzinfo=BEIJING), datetime(2025, 3, 3, 22, 0, tzinfo=BEIJING)),
        ("targeted", datetime(2025, 3, 5, 6, 0, tzinfo=BEIJING), NOW, datetime(2025, 3, 5, 6, 0, tzinfo=BEIJING)),
    ],
)
def test_starts_at(kind, send_at, now, expected):
    assert send_request_models.starts_at(kind, send_at, now) == expected


@pytest.mark.parametrize(
    ("who", "author", "refused"),
    [
        (REVIEWER, "op", None),
        (REVIEWER, "rev", "不能审核自己"),
        (OPERATOR, "wd", "只有市社保中心的审核员"),
        (staff("x", Office.wendeng, Role.district_operator), "wd", "只有市社保中心的审核员"),
        (staff("it", Office.it, Role.it_ops), "wd", "只有市社保中心的审核员"),
    ],
)
def test_review_refusal(who, author, refused):
    answer = send_request_models.review_refusal(who, author)
    assert answer == refused if refused is None else refused in answer


@pytest.mark.parametrize(
    ("who", "status", "refused"),
    [
        (DISTRICT, "submitted", None),
        (DISTRICT, "approved", None),
        (REVIEWER, "approved", None),
        (OPERATOR, "approved", "只有申请人"),
        (DISTRICT, "sending", "可以停止发送"),
        (DISTRICT, "cancelled", "已不能取消"),
    ],
)
def test_cancel_refusal(who, status, refused):
    answer = send_request_models.cancel_refusal(who, "wd", status)
    assert answer == refused if refused is None else refused in answer


@pytest.mark.parametrize(
    ("who", "status", "refused"),
    [
        (REVIEWER, "sending", None),
        (REVIEWER, "fanned_out", None),
        (REVIEWER, "approved", "不在发送中"),
        (DISTRICT, "sending", "只有市社保中心的审核员"),
    ],
)
def test_stop_refusal(who, status, refused):
    answer = send_request_models.stop_refusal(who, status)
    assert answer == refused if refused is None else refused in answer


@pytest.mark.parametrize(("size", "chunks"), [(1, 1), (5000, 1), (5001, 2), (40_000, 8), (2_000_000, 50)])
def test_chunk_count(size, chunks):
    assert send_request_models.chunk_count(size) == chunks


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {"messages": 0, "sent": 0, "delivery_rate": None, "parts_used": 0, "failure_reasons": {}}),
        (
            [
                {"state": "delivered", "parts": 2, "biz_id": "b"},
                {"state": "delivered", "parts": 2, "biz_id": "b"},
                {"state": "failed", "parts": 2, "error_code": "MK:0001", "receipt_at": "t", "biz_id": "b"},
                {"state": "failed", "parts": 2, "error_code": "isv.MOBILE_NUMBER_ILLEGAL"},  # never taken
                {"state": "suppressed", "parts": 2, "suppress_reason": "opt_out"},
                {"state": "queued", "parts": 2},
            ],
            {
                "messages": 6,
                "sent": 3,
                "delivery_rate": 0.5,
                "parts_used": 6,
                "failure_reasons": {"MK:0001": 1, "isv.MOBILE_NUMBER_ILLEGAL": 1},
            },
        ),
    ],
)
def test_summarize(items, expected):
    summary = delivery_reports.summarize(items)
    assert {k: summary[k] for k in expected} == expected
    assert sum(summary["states"].values()) == len(items)
