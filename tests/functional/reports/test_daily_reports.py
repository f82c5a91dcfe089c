"""Daily statistics through the real dispatch and receipt handlers on moto, read through the
staff API (GET /v1/staff/reports/daily): counters follow the messages' state moves, a repeated
receipt counts once, and a district operator sees its own district only."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.reports import delivery_reports
from sms_platform.sending import message_store, outbox
from sms_platform.sending.message_items import NewMessage
from sms_platform.sending.messages import MessageState, message_id
from sms_platform.staff.context import Office, Role

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import LaneRunner, push, receipt_for, receipts_event


@pytest.fixture
def lanes(staff, staff_clock, carrier_simulator, aws, lambda_context):
    crypto.reset()
    yield LaneRunner(aws, staff_clock, lambda_context)
    crypto.reset()


def enqueue(kind: str, source_id: str, office: str, numbers: list[str]) -> None:
    outbox.enqueue(kind, source_id, office, "威海社保", template_code="SMS_100001", template_id="tpl-1",
                   template_version=1, parts=2, recipients=[(p, None) for p in numbers])  # fmt: skip


def push_receipts(lanes, receipts) -> None:
    answer = push(receipts_event(receipts), lanes.context)
    assert answer["statusCode"] == 200, answer


def rows_by_key(answer) -> dict:
    return {(r["kind"], r["office"]): r for r in answer.json["rows"]}


def test_counts_follow_each_message_and_a_repeated_receipt_counts_once(staff, lanes, carrier_simulator):
    city = [f"1380000{i:04d}" for i in range(3)]
    wendeng = [f"1390000{i:04d}" for i in range(2)]
    enqueue("triggered", "event-stats-1", "city", city)
    enqueue("targeted", "notice-stats-1", "wendeng", wendeng)
    # A suspended office's queued message is suppressed by the dispatcher.
    message_store.place_hold("office", "rongcheng", "暂停", lanes.clock.now())
    enqueue("targeted", "notice-stats-2", "rongcheng", ["13700000001"])
    lanes.run()
    outcome = {city[0]: False}
    receipts = [receipt_for(m, success=outcome.get(m.phone, True), err_code="DELIVERED" if outcome.get(m.phone, True)
                            else "MK:0005") for m in carrier_simulator.sent]  # fmt: skip
    push_receipts(lanes, receipts)
    push_receipts(lanes, receipts)  # the carrier pushes the same receipts again

    reviewer = staff.account(Role.city_reviewer)
    today = lanes.clock.now().astimezone(BEIJING).date().isoformat()
    answer = staff.call("GET", "/v1/staff/reports/daily", token=reviewer.token, query={"from": today, "to": today})

    assert answer.status == 200, answer.text
    rows = rows_by_key(answer)
    assert set(rows) == {("triggered", "city"), ("targeted", "wendeng"), ("targeted", "rongcheng")}
    city_row = rows["triggered", "city"]
    assert (city_row["sent"], city_row["delivered"], city_row["failed"], city_row["parts"]) == (3, 2, 1, 6)
    assert city_row["delivery_rate"] == round(2 / 3, 4)
    assert city_row["failure_reasons"] == {"MK:0005": 1}
    assert (rows["targeted", "wendeng"]["delivered"], rows["targeted", "wendeng"]["failed"]) == (2, 0)
    assert rows["targeted", "rongcheng"]["suppressed"] == 1
    assert rows["targeted", "rongcheng"]["suppress_reasons"] == {"suspended_office": 1}
    assert rows["targeted", "rongcheng"]["sent"] == 0
    assert {r["day"] for r in answer.json["rows"]} == {today}

    # The counters say what the messages themselves say.
    for source, numbers, key in (("event-stats-1", city, ("triggered", "city")),
                                 ("notice-stats-1", wendeng, ("targeted", "wendeng"))):  # fmt: skip
        items = [message_store.get(message_id(source, crypto.keyed_hash(p))) for p in numbers]
        truth = delivery_reports.summarize(items)
        assert rows[key]["sent"] == truth["sent"]
        assert rows[key]["delivered"] == truth["states"]["delivered"]
        assert rows[key]["failed"] == truth["states"]["failed"]
        assert rows[key]["parts"] == truth["parts_used"]


def test_a_district_operator_sees_its_own_district_only(staff, lanes, carrier_simulator):
    enqueue("targeted", "notice-stats-3", "wendeng", ["13900000001"])
    enqueue("targeted", "notice-stats-4", "huancui", ["13900000002", "13900000003"])
    lanes.run()
    operator = staff.account(Role.district_operator, office=Office.wendeng)

    own = staff.call("GET", "/v1/staff/reports/daily", token=operator.token)
    other = staff.call("GET", "/v1/staff/reports/daily", token=operator.token, query={"office": "huancui"})
    city = staff.call("GET", "/v1/staff/reports/daily", token=staff.account(Role.city_operator).token,
                      query={"office": "huancui"})  # fmt: skip

    assert own.status == 200
    assert [(r["office"], r["sent"]) for r in own.json["rows"]] == [("wendeng", 1)]
    assert own.json["offices"] == ["wendeng"]
    assert other.status == 403 and other.error_code == "forbidden"
    assert [(r["office"], r["sent"]) for r in city.json["rows"]] == [("huancui", 2)]


def test_a_receipt_overturning_a_settled_outcome_moves_the_count(aws, staff_clock):
    crypto.reset()
    now = staff_clock.now()
    new = NewMessage(
        message_id="f00d" * 8, kind="hangup", source_id="call#c1#faq-1", office="hotline", batch_id="b1",
        sign_name="威海12333", template_code="SMS_1", template_id="t1", template_version=1, parts=1,
        phone_hash="h1", phone_masked="138****0000",
    )  # fmt: skip
    message_store.record(new, MessageState.QUEUED, now)
    assert message_store.mark_sending(new.message_id, "a1", "call#c1#faq-1", now)
    assert message_store.mark_delivered(new.message_id, now)  # settled by asking the carrier
    failed = message_store.apply_receipt(new.message_id, success=False, err_code="MK:0001", err_msg="", biz_id="B9",
                                         report_time=None, at=now)  # fmt: skip
    again = message_store.apply_receipt(new.message_id, success=False, err_code="MK:0001", err_msg="", biz_id="B9",
                                        report_time=None, at=now)  # fmt: skip
    from sms_platform.sending import daily_stats

    day = now.astimezone(BEIJING).date()
    rows = daily_stats.report(day, day)

    assert failed is not None and failed["state"] == "failed" and again is None
    assert [(r["kind"], r["sent"], r["delivered"], r["failed"], r["failure_reasons"]) for r in rows] == [
        ("hangup", 1, 0, 1, {"MK:0001": 1})
    ]


def test_a_message_counts_on_the_day_it_was_sent_and_one_never_sent_on_the_day_it_was_created(lanes, carrier_simulator):
    from sms_platform.sending import daily_stats

    # Queued half a minute before Beijing midnight, handed to the carrier just after it.
    today = lanes.clock.now().astimezone(BEIJING).date()
    midnight = datetime.combine(today + timedelta(days=1), time(0), BEIJING)
    lanes.clock.set(midnight - timedelta(seconds=30))
    numbers = ["13800001111", "13800002222"]
    enqueue("triggered", "event-midnight", "city", numbers)
    message_store.place_hold("office", "rongcheng", "暂停", lanes.clock.now())
    enqueue("targeted", "notice-midnight", "rongcheng", ["13700001111"])
    lanes.advance(60)
    lanes.run()
    push_receipts(lanes, [receipt_for(m) for m in carrier_simulator.sent])

    rows = daily_stats.report(today, today + timedelta(days=2))
    found = {(r["day"], r["kind"]): (r["sent"], r["parts"], r["delivered"], r["suppressed"]) for r in rows}
    assert found == {
        (midnight.date().isoformat(), "triggered"): (2, 4, 2, 0),  # sent, and delivered, on the new day
        (today.isoformat(), "targeted"): (0, 0, 0, 1),  # never handed over: the day it was created
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-03-05", "to": "2025-03-01"}, "from"),
        ({"from": "2025-01-01", "to": "2025-03-01"}, "to"),
        ({"from": "2025-13-01"}, None),
        ({"office": "atlantis"}, None),
    ],
)
def test_a_bad_range_gets_422_naming_it(staff, query, field):
    reviewer = staff.account(Role.city_reviewer)
    answer = staff.call("GET", "/v1/staff/reports/daily", token=reviewer.token, query=query)
    assert answer.status == 422, answer.text
    assert answer.json["error"]["message"]
    if field:
        assert answer.json["error"]["field"] == field


def test_the_default_is_the_last_seven_days(staff, staff_clock):
    answer = staff.call("GET", "/v1/staff/reports/daily", token=staff.account(Role.it_ops).token)
    today = staff_clock.now().astimezone(BEIJING).date()
    assert answer.status == 200
    assert (answer.json["start"], answer.json["end"]) == ((today - timedelta(days=6)).isoformat(), today.isoformat())
    assert answer.json["rows"] == []
    assert Counter(answer.json["offices"]) == Counter(o.value for o in Office)


def test_the_daily_delivery_report_is_of_yesterday_by_default(aws, staff_clock):
    report = delivery_reports.daily_report(None, now=staff_clock.now())

    assert report.day == staff_clock.now().astimezone(BEIJING).date() - timedelta(days=1)
    assert report.offices == []
