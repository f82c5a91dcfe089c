"""The recipients of sends that are not send requests, through the staff API on moto: a trigger
rule's notices of a Beijing day (whatever event each came from, the subject's name and masked
ID, an undeliverable subject among them) and the 12333 desk's hang-up answers of a day; and the
Chinese reasons wherever else staff see a failure: the desk's "did my message arrive?" lookup
and the daily statistics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.contacts import upserts
from sms_platform.contacts.models import ContactIn
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.foundation.identifiers import mask_id_number
from sms_platform.sources import business_events, hotline, trigger_rules
from sms_platform.sources.trigger_rule_models import RuleDraft
from sms_platform.staff.context import Office, Role

from tests.contacts_support import id_number
from tests.functional.dispatch_support import LaneRunner, push, receipt_for, receipts_event
from tests.staff_calls import call, member
from tests.template_support import CITY_OPERATOR, HOTLINE_MANAGER, active_template

NOW = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
KNOWN, UNKNOWN = id_number(11), id_number(12)
PHONE = "13700002222"
AUTHOR = member("op-1", Office.city, Role.city_operator, real_name="李四")
REVIEWER = member("rev-1", Office.city, Role.city_reviewer)
AGENT = member("ag-1", Office.hotline, Role.hotline_agent)


@pytest.fixture
def clock(aws, carrier_simulator):
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


@pytest.fixture
def rule(clock):
    template_id = active_template(clock, category="triggered", office="city", text="您的养老金${amount}元已发放。",
                                  variables=[{"name": "amount", "type": "money", "max_length": 12}])  # fmt: skip
    phones = [{"number": PHONE, "source": "service_hall", "verified": True}]
    upserts.upsert(ContactIn(kind="person", id=KNOWN, name="张三", district="huancui", phones=phones), at=NOW)
    made = trigger_rules.create(
        AUTHOR,
        RuleDraft(name="养老金发放通知", event_type="pension.paid", condition="", template_id=template_id,
                  recipients="subject", variables={"amount": "data.amount"},
                  valid_from="2024-01-01T00:00:00+08:00", valid_until="2025-01-01T00:00:00+08:00"),
        now=NOW,
    )  # fmt: skip
    trigger_rules.submit(AUTHOR, made.rule_id, now=NOW)
    trigger_rules.approve(REVIEWER, made.rule_id, now=NOW)
    return made


def event(event_id: str, subject: str, at: datetime) -> None:
    body = {"event_id": event_id, "event_type": "pension.paid", "occurred_at": at.isoformat(),
            "subject": {"kind": "person", "id": subject}, "data": {"amount": 3120}}  # fmt: skip
    business_events.process(business_events.parse(body), at)


def rows_of(who, path: str, **query) -> dict:
    answer = call(who, "GET", f"/v1/staff/recipients/{path}", query=query)
    assert answer.status == 200, answer.body
    return answer.body


def test_a_rules_recipients_of_a_day_with_names_masked_ids_and_the_undeliverable(aws, clock, rule, lambda_context):
    event("evt-1", KNOWN, NOW)
    event("evt-2", UNKNOWN, NOW + timedelta(minutes=5))  # not in the address book: no number
    clock.set(NOW + timedelta(days=1))
    event("evt-3", KNOWN, NOW + timedelta(days=1))  # the next day's group
    LaneRunner(aws, clock, lambda_context).run()

    first = rows_of(REVIEWER, f"rule/{rule.rule_id}", period="2024-06-01")
    second = rows_of(REVIEWER, f"rule/{rule.rule_id}", period="2024-06-02")
    undeliverable = rows_of(REVIEWER, f"rule/{rule.rule_id}", period="2024-06-01", state="undeliverable")

    assert first["title"] == "触发规则：养老金发放通知（2024-06-01）"
    assert first["totals"]["all"] == 2 and second["totals"]["all"] == 1
    known = next(r for r in first["rows"] if r["phone_masked"] == "137****2222")
    assert (known["name"], known["id_masked"], known["district_name"]) == ("张三", mask_id_number(KNOWN), "环翠区")
    assert [(r["id_masked"], r["state"], r["reason"], r["reason_code"]) for r in undeliverable["rows"]] == [
        (mask_id_number(UNKNOWN), "undeliverable", "无可用号码", "no_usable_number"),
    ]  # fmt: skip
    assert UNKNOWN not in json.dumps(first, ensure_ascii=False) and PHONE not in json.dumps(first)


def test_the_12333_desks_answers_of_a_day(aws, clock, lambda_context):
    template_id = active_template(clock, category="hangup", office="hotline",
                                  text="社保卡补办：请携带身份证到窗口办理。")  # fmt: skip
    entry = hotline.create_entry(CITY_OPERATOR, "社保卡补办", template_id, now=clock.now())
    hotline.set_scope(HOTLINE_MANAGER, entry.faq_id, True, now=clock.now())
    for number, caller in enumerate(("13800001111", "13800002222")):
        body = {"call_id": f"call-{number}", "caller": caller, "agent_id": "A1", "ended_at": NOW.isoformat(),
                "faq_ids": [entry.faq_id]}  # fmt: skip
        hotline.receive_hangup(hotline.parse_hangup(json.dumps(body).encode()), clock.now())

    page = rows_of(HOTLINE_MANAGER, "hotline", period="2024-06-01")
    empty = rows_of(HOTLINE_MANAGER, "hotline", period="2024-05-31")

    assert page["title"] == "12333挂机短信（2024-06-01）"
    assert sorted(r["phone_masked"] for r in page["rows"]) == ["138****1111", "138****2222"]
    assert {(r["state"], r["name"], r["district"]) for r in page["rows"]} == {("sending", None, None)}
    assert empty["rows"] == [] and empty["totals"]["all"] == 0
    assert call(AGENT, "GET", "/v1/staff/recipients/hotline").status == 403


def test_the_desks_lookup_and_the_daily_statistics_give_reasons_in_chinese(aws, clock, rule, carrier_simulator,
                                                                            lambda_context):  # fmt: skip
    event("evt-1", KNOWN, NOW)
    runner = LaneRunner(aws, clock, lambda_context)
    runner.run()
    receipts = [receipt_for(m, success=False, err_code="DB:0101") for m in carrier_simulator.sent]
    assert push(receipts_event(receipts), lambda_context)["statusCode"] == 200

    found = call(AGENT, "POST", "/v1/staff/message-lookup", {"phone": PHONE}).body
    daily = call(REVIEWER, "GET", "/v1/staff/reports/daily", query={"from": "2024-06-01", "to": "2024-06-01"}).body

    assert [(m["state"], m["reason"], m["reason_code"]) for m in found["messages"]] == [("failed", "空号", "DB:0101")]
    row = next(r for r in daily["rows"] if r["kind"] == "triggered")
    assert (row["failure_reasons"], row["failure_categories"]) == ({"DB:0101": 1}, {"空号": 1})
