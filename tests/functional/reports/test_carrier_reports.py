"""Per-carrier reports through the staff API on moto: the daily statistics (GET /reports/daily)
list each configured carrier's messages, parts, delivery rate, failure categories and the cost of
its parts at CARRIER_PRICES, counted by the statistics store as messages move; a receipt's move
also counts for its carrier's health (GET /carriers: receipts still missing after the wait)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sms_platform.foundation import settings
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.sending import daily_stats
from sms_platform.staff.context import Office, Role

from tests.staff_calls import call, member

IT_OPS = member("ops1", Office.it, Role.it_ops)
REVIEWER = member("rev1", Office.city, Role.city_reviewer)
WENDENG = member("wdop", Office.wendeng, Role.district_operator)
SENT_AT = datetime(2025, 3, 3, 9, 30, tzinfo=BEIJING)


@pytest.fixture
def reports(aws, monkeypatch):
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "1400000001")
    monkeypatch.setenv("CARRIER_PRICES", '{"alibaba": 4, "tencent": 4.5}')
    settings.reset()
    clock = FixedClock(SENT_AT + timedelta(minutes=20))
    set_clock(clock)
    yield clock
    set_clock(None)


def handed(n: int, carrier: str, office: str, *, parts: int = 2) -> dict:
    return {"message_id": f"{n:04x}", "kind": "targeted", "office": office, "parts": parts, "carrier": carrier,
            "state": "sending", "sending_at": SENT_AT.isoformat(), "created_at": SENT_AT.isoformat()}  # fmt: skip


def receipt(message: dict, delivered: bool, code: str = "DELIVERED") -> dict:
    state = {"state": "delivered"} if delivered else {"state": "failed", "error_code": code}
    return {**message, **state, "receipt_at": (SENT_AT + timedelta(seconds=5)).isoformat()}


def send_and_receive(carrier: str, office: str, outcomes: list[bool | None], start: int, code: str) -> None:
    """Messages handed to ``carrier`` as the dispatcher does (a batch's sent moves at once), then
    their receipts one by one (None: no receipt yet)."""
    messages = [handed(start + i, carrier, office) for i in range(len(outcomes))]
    daily_stats.count_sent(messages[0]["message_id"], "targeted", office, 2, SENT_AT, len(messages), carrier=carrier)
    for message, outcome in zip(messages, outcomes, strict=True):
        sent = {**message, "state": "sent", "biz_id": "B"}
        if outcome is not None:
            daily_stats.count_move(sent, receipt(sent, outcome, code))


def test_each_carrier_with_its_messages_delivery_failures_and_cost(reports):
    send_and_receive("alibaba", "city", [True, True, True, False], 0, "MK:0005")
    send_and_receive("tencent", "wendeng", [True, False, None], 100, "LimitExceeded.PhoneNumberDailyLimit")

    answer = call(REVIEWER, "GET", "/v1/staff/reports/daily", query={"from": "2025-03-03", "to": "2025-03-03"})

    assert answer.status == 200, answer.body
    carriers = {c["carrier"]: c for c in answer.body["carriers"]}
    alibaba, tencent = carriers["alibaba"], carriers["tencent"]
    assert (alibaba["name"], alibaba["sent"], alibaba["parts"], alibaba["delivered"], alibaba["failed"]) == (
        "阿里云短信", 4, 8, 3, 1)  # fmt: skip
    assert alibaba["delivery_rate"] == 0.75 and alibaba["failure_reasons"] == {"MK:0005": 1}
    assert (alibaba["price_fen"], alibaba["cost_yuan"]) == (4.0, 0.32)
    assert (tencent["sent"], tencent["parts"], tencent["delivered"], tencent["failed"]) == (3, 6, 1, 1)
    assert (tencent["price_fen"], tencent["cost_yuan"]) == (4.5, 0.27)
    assert list(tencent["failure_categories"].values()) == [1]
    # the office rows are those of before: carriers are counted beside them
    assert sum(row["sent"] for row in answer.body["rows"]) == 7

    # A district sees its own district's messages only, and so its carriers' share of them.
    own = call(WENDENG, "GET", "/v1/staff/reports/daily", query={"from": "2025-03-03", "to": "2025-03-03"})
    assert {c["carrier"]: c["sent"] for c in own.body["carriers"]} == {"alibaba": 0, "tencent": 3}


def test_receipts_count_for_the_carriers_health(reports):
    from sms_platform.sending import carrier_health_counts

    for carrier in ("tencent", "alibaba"):  # the dispatcher's count of each hand-over
        carrier_health_counts.add_hand_over(carrier, SENT_AT, {"ok": 25}, latency_ms=120)
    send_and_receive("tencent", "city", [True] * 5 + [None] * 20, 0, "")
    send_and_receive("alibaba", "city", [True] * 24 + [False], 200, "MK:0005")

    seen = {c["carrier"]: c["health"] for c in call(IT_OPS, "GET", "/v1/staff/carriers").body["carriers"]}

    # Handed over 20 minutes ago (the wait is 10): Tencent has receipts for 5 of 25.
    assert (seen["tencent"]["receipts_sent"], seen["tencent"]["receipts_missing"]) == (25, 0.8)
    assert seen["tencent"]["problems"] == ["发送 10 分钟后仍无回执 80%，超过上限 50%"]
    assert (seen["alibaba"]["receipts_sent"], seen["alibaba"]["receipts_missing"]) == (25, 0.0)
    assert seen["alibaba"]["healthy"] is True
