"""The staff side of the three intake channels through API Gateway and the staff authorizer
(``staff`` fixture): trigger rules and their review, event grants, the 12333 question bank and
agent picks, subscription items and the channel settings. Each refusal is a 4xx that changes
nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.staff.context import Role

from tests.conftest import TEST_SECRETS
from tests.events import api_event
from tests.functional.intake_support import phones_of, queued_batches
from tests.template_support import active_template

HOTLINE_SECRET = json.loads(TEST_SECRETS["WebhookSecret"])["hotline_webhook_secret"]
BUSINESS_KEY = "key-pension-system"
PERSON = "11010519491231002X"
CALLER = "13800001111"
PENSION_TEXT = "您${month}的养老金${amount}元已发放。"
PENSION_VARS = [
    {"name": "month", "type": "text", "max_length": 20},
    {"name": "amount", "type": "money", "max_length": 12},
]


def rule_body(template_id: str, staff_clock, **changes: Any) -> dict[str, Any]:
    today = staff_clock.now().astimezone(BEIJING).date()
    return {
        "name": "养老金发放通知",
        "event_type": "pension.paid",
        "condition": 'data["amount"] > 0',
        "template_id": template_id,
        "recipients": "subject",
        "variables": {"month": "data.month", "amount": "data.amount"},
        "valid_from": f"{today.isoformat()}T00:00:00+08:00",
        "valid_until": f"{(today + timedelta(days=365)).isoformat()}T00:00:00+08:00",
        **changes,
    }


def post_event(lambda_context, event_type: str = "pension.paid", *, key: str = BUSINESS_KEY, event_id: str = "evt-1"):
    import events_intake

    body = {"event_id": event_id, "event_type": event_type, "occurred_at": "2024-06-01T09:00:00+08:00",
            "subject": {"kind": "person", "id": PERSON}, "data": {"month": "2024年5月", "amount": 3120.5}}  # fmt: skip
    answer = events_intake.handler(api_event("POST", "/v1/events", body=body, api_key_id=key), lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def hang_up(staff_clock, lambda_context, *, agent_id: str, call_id: str = "call-0001", faq_ids=None):
    import hangups

    body = {"call_id": call_id, "caller": CALLER, "agent_id": agent_id, "ended_at": staff_clock.now().isoformat()}
    if faq_ids is not None:
        body["faq_ids"] = faq_ids
    raw = json.dumps(body)
    timestamp = str(int(staff_clock.now().timestamp()))
    signature = hmac.new(HOTLINE_SECRET.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}
    answer = hangups.handler(api_event("POST", "/v1/hotline/hangups", raw_body=raw, headers=headers), lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


# ---------------------------------------------------------------- trigger rules


@pytest.fixture
def pension_template(staff, carrier_simulator, staff_clock):
    return active_template(staff_clock, category="triggered", office="city", text=PENSION_TEXT, variables=PENSION_VARS)


def test_a_rule_is_written_submitted_and_approved_by_a_reviewer_who_did_not_write_it(
    staff, pension_template, staff_clock
):
    author = staff.account(Role.city_operator, Role.city_reviewer)
    reviewer = staff.account(Role.city_reviewer)

    created = staff.call("POST", "/v1/staff/trigger-rules", token=author.token,
                         body=rule_body(pension_template, staff_clock))  # fmt: skip
    assert created.status == 200, created.text
    rule_id = created.json["rule_id"]
    assert (created.json["status"], created.json["version"]) == ("draft", 1)
    assert (
        staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/submission", token=author.token).json["status"]
        == "submitted"
    )

    own = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/approval", token=author.token)
    assert (own.status, own.error_code) == (403, "forbidden")
    assert "自己" in own.json["error"]["message"]
    approved = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/approval", token=reviewer.token)
    assert approved.status == 200, approved.text
    assert approved.json["status"] == "active"

    listed = staff.call("GET", "/v1/staff/trigger-rules", token=reviewer.token).json["rules"]
    assert [(r["rule_id"], r["status"]) for r in listed] == [(rule_id, "active")]


def test_a_revision_can_be_rejected_with_a_reason_and_every_version_stays_readable(
    staff, pension_template, staff_clock
):
    author = staff.account(Role.city_operator)
    reviewer = staff.account(Role.city_reviewer)
    rule_id = staff.call("POST", "/v1/staff/trigger-rules", token=author.token,
                         body=rule_body(pension_template, staff_clock)).json["rule_id"]  # fmt: skip
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/submission", token=author.token)
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/approval", token=reviewer.token)

    revised = staff.call("PUT", f"/v1/staff/trigger-rules/{rule_id}", token=author.token,
                         body=rule_body(pension_template, staff_clock, condition='data["amount"] > 5000'))  # fmt: skip
    assert (revised.status, revised.json["version"], revised.json["status"]) == (200, 2, "draft")
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/submission", token=author.token)
    no_reason = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/rejection", token=reviewer.token,
                           body={"reason": ""})  # fmt: skip
    assert no_reason.status == 422
    rejected = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/rejection", token=reviewer.token,
                          body={"reason": "金额门槛过高，会漏发通知"})  # fmt: skip
    assert (rejected.status, rejected.json["reject_reason"]) == (200, "金额门槛过高，会漏发通知")

    versions = staff.call("GET", f"/v1/staff/trigger-rules/{rule_id}", token=author.token).json["rules"]
    assert [(r["version"], r["status"], r["condition"]) for r in versions] == [
        (1, "active", 'data["amount"] > 0'),
        (2, "rejected", 'data["amount"] > 5000'),
    ]

    retired = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/retirement", token=reviewer.token)
    assert (retired.status, retired.json["version"], retired.json["status"]) == (200, 1, "retired")
    again = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/retirement", token=reviewer.token)
    assert again.status == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"condition": "data.__class__"}, "condition"),
        ({"condition": "__import__('os')"}, "condition"),
        ({"event_type": "Pension Paid"}, "event_type"),
        ({"variables": {"amount": "data._secret"}}, "variables"),
        ({"recipients": "everyone"}, "recipients"),
        ({"valid_until": "2020-01-01T00:00:00+08:00"}, None),
    ],
)
def test_a_bad_rule_gets_422_and_nothing_is_created(staff, pension_template, staff_clock, change, field):
    author = staff.account(Role.city_operator)
    answer = staff.call("POST", "/v1/staff/trigger-rules", token=author.token,
                        body=rule_body(pension_template, staff_clock, **change))  # fmt: skip

    assert (answer.status, answer.error_code) == (422, "validation_failed")
    if field:
        assert field in json.dumps(answer.json)
    assert staff.call("GET", "/v1/staff/trigger-rules", token=author.token).json == {"rules": []}


def test_a_rule_whose_template_is_not_active_cannot_be_approved(staff, staff_clock):
    author = staff.account(Role.city_operator)
    reviewer = staff.account(Role.city_reviewer)
    rule_id = staff.call("POST", "/v1/staff/trigger-rules", token=author.token,
                         body=rule_body("tpl-not-active", staff_clock)).json["rule_id"]  # fmt: skip
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/submission", token=author.token)

    answer = staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/approval", token=reviewer.token)
    assert (answer.status, answer.error_code) == (409, "conflict")
    versions = staff.call("GET", f"/v1/staff/trigger-rules/{rule_id}", token=author.token).json["rules"]
    assert [r["status"] for r in versions] == ["submitted"]


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        (Role.hotline_manager, "POST", "/v1/staff/trigger-rules"),
        (Role.city_reviewer, "POST", "/v1/staff/trigger-rules"),
        (Role.district_operator, "GET", "/v1/staff/trigger-rules"),
        (Role.city_operator, "PUT", "/v1/staff/event-grants/key-1/pension.paid"),
    ],
)
def test_other_roles_are_refused(staff, staff_clock, role, method, path):
    member = staff.account(role)
    answer = staff.call(method, path, token=member.token, body=rule_body("tpl-x", staff_clock))
    assert answer.status == 403


# ---------------------------------------------------------------- event grants


def test_it_operations_grant_and_withdraw_event_types_for_a_business_systems_key(
    staff, pension_template, staff_clock, lambda_context
):
    ops = staff.account(Role.it_ops)
    author, reviewer = staff.account(Role.city_operator), staff.account(Role.city_reviewer)
    rule_id = staff.call("POST", "/v1/staff/trigger-rules", token=author.token,
                         body=rule_body(pension_template, staff_clock)).json["rule_id"]  # fmt: skip
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/submission", token=author.token)
    staff.call("POST", f"/v1/staff/trigger-rules/{rule_id}/approval", token=reviewer.token)
    assert post_event(lambda_context)[0] == 403

    granted = staff.call("PUT", f"/v1/staff/event-grants/{BUSINESS_KEY}/pension.paid", token=ops.token)
    assert granted.json == {"api_key_id": BUSINESS_KEY, "event_types": ["pension.paid"]}
    assert staff.call("GET", f"/v1/staff/event-grants/{BUSINESS_KEY}", token=ops.token).json == granted.json
    assert post_event(lambda_context) == (202, {"event_id": "evt-1", "matched_rules": 1, "messages": 0})

    bad = staff.call("PUT", f"/v1/staff/event-grants/{BUSINESS_KEY}/Pension", token=ops.token)
    assert (bad.status, bad.error_code) == (422, "validation_failed")
    withdrawn = staff.call("DELETE", f"/v1/staff/event-grants/{BUSINESS_KEY}/pension.paid", token=ops.token)
    assert withdrawn.json == {"api_key_id": BUSINESS_KEY, "event_types": []}
    assert post_event(lambda_context, event_id="evt-2")[0] == 403


# ---------------------------------------------------------------- 12333 question bank and picks


def test_the_question_bank_needs_an_approved_text_and_the_managers_scope(staff, carrier_simulator, staff_clock):
    from sms_platform.templates import filing

    manager = staff.account(Role.hotline_manager)
    operator = staff.account(Role.city_operator)
    reviewer = staff.account(Role.city_reviewer)
    agent = staff.account(Role.hotline_agent)
    today = staff_clock.now().astimezone(BEIJING).date()
    draft = {"name": "社保卡补办", "category": "hangup", "office": "hotline",
             "text": "社保卡补办：请携带身份证到就近社保经办窗口办理。", "variables": [],
             "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=365)).isoformat(),
             "remark": "12333 挂机短信答案"}  # fmt: skip
    template_id = staff.call("POST", "/v1/staff/templates", token=manager.token, body=draft).json["template_id"]
    staff.call("POST", f"/v1/staff/templates/{template_id}/versions/1/submission", token=manager.token)
    refused = staff.call("POST", f"/v1/staff/templates/{template_id}/versions/1/approval", token=manager.token,
                         body={"note": "同意"})  # fmt: skip
    assert refused.status == 403
    approved = staff.call("POST", f"/v1/staff/templates/{template_id}/versions/1/approval", token=reviewer.token,
                          body={"note": "同意"})  # fmt: skip
    assert approved.json["status"] == "filed"

    entry = staff.call("POST", "/v1/staff/hotline/entries", token=operator.token,
                       body={"question": "社保卡怎么补办", "template_id": template_id})  # fmt: skip
    assert (entry.status, entry.json["in_scope"]) == (200, False)
    faq_id = entry.json["faq_id"]

    def active_ids() -> list[str]:
        return [e["faq_id"] for e in staff.call("GET", "/v1/staff/hotline/entries/active", token=agent.token).json[
            "entries"]]  # fmt: skip

    for who in (reviewer, agent, operator):
        assert staff.call("PUT", f"/v1/staff/hotline/entries/{faq_id}/scope", token=who.token,
                          body={"in_scope": True}).status == 403  # fmt: skip
    scoped = staff.call("PUT", f"/v1/staff/hotline/entries/{faq_id}/scope", token=manager.token,
                        body={"in_scope": True})  # fmt: skip
    assert (scoped.status, scoped.json["in_scope"]) == (200, True)
    assert active_ids() == []  # in scope, but the carrier has not approved the text yet

    staff_clock.advance(seconds=5)
    filing.poll_filings()
    assert active_ids() == [faq_id]
    staff.call("PUT", f"/v1/staff/hotline/entries/{faq_id}/scope", token=manager.token, body={"in_scope": False})
    assert active_ids() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "", "template_id": "x"}, "question"),
        ({"question": "养老金发放", "template_id": "notice"}, "template_id"),  # not a hang-up template
        ({"question": "养老金发放", "template_id": "tpl-never-written"}, "template_id"),
    ],
)
def test_an_entry_must_answer_with_a_hang_up_template(staff, carrier_simulator, staff_clock, body, field):
    operator = staff.account(Role.city_operator)
    if body["template_id"] == "notice":
        body = {**body, "template_id": active_template(staff_clock, category="triggered", office="city",
                                                       text="您的养老金已发放，请注意查收。")}  # fmt: skip
    answer = staff.call("POST", "/v1/staff/hotline/entries", token=operator.token, body=body)

    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert field in json.dumps(answer.json)
    assert staff.call("GET", "/v1/staff/hotline/entries", token=operator.token).json == {"entries": []}


@pytest.fixture
def bank(staff, carrier_simulator, staff_clock):
    from sms_platform.sources import hotline

    from tests.template_support import CITY_OPERATOR, HOTLINE_MANAGER

    ids = []
    for name in ("社保卡补办", "养老金查询"):
        template_id = active_template(staff_clock, category="hangup", office="hotline",
                                      text=f"{name}：请携带身份证到就近社保经办窗口办理。")  # fmt: skip
        entry = hotline.create_entry(CITY_OPERATOR, name, template_id, now=staff_clock.now())
        hotline.set_scope(HOTLINE_MANAGER, entry.faq_id, True, now=staff_clock.now())
        ids.append(entry.faq_id)
    return ids


def test_an_agent_picks_entries_for_their_own_waiting_call_once(staff, bank, staff_clock, lambda_context, aws):
    agent, other = staff.account(Role.hotline_agent), staff.account(Role.hotline_agent)
    manager = staff.account(Role.hotline_manager)
    agent_id = staff.call("GET", "/v1/staff/me", token=agent.token).json["staff_number"]
    assert hang_up(staff_clock, lambda_context, agent_id=agent_id) == (202, {"call_id": "call-0001",
                                                                              "status": "awaiting_agent"})  # fmt: skip

    waiting = staff.call("GET", "/v1/staff/hotline/calls/waiting", token=agent.token).json["calls"]
    assert [(c["call_id"], c["caller"], c["status"]) for c in waiting] == [("call-0001", "138****1111",
                                                                            "awaiting_agent")]  # fmt: skip
    assert CALLER not in json.dumps(waiting)
    assert staff.call("GET", "/v1/staff/hotline/calls/waiting", token=other.token).json == {"calls": []}
    assert len(staff.call("GET", "/v1/staff/hotline/calls/waiting", token=manager.token).json["calls"]) == 1

    not_theirs = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=other.token,
                            body={"faq_ids": bank})  # fmt: skip
    assert not_theirs.status == 403
    too_many = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=agent.token,
                          body={"faq_ids": [*bank, "faq-x", "faq-y"]})  # fmt: skip
    unknown = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=agent.token,
                         body={"faq_ids": ["faq-unknown"]})  # fmt: skip
    assert (too_many.status, unknown.status) == (422, 422)
    assert queued_batches(aws) == []

    picked = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=agent.token, body={"faq_ids": bank})
    assert (picked.status, picked.json["status"]) == (200, "queued")
    assert phones_of(queued_batches(aws)) == [CALLER, CALLER]
    again = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=agent.token, body={"faq_ids": bank})
    assert again.status == 409
    assert staff.call("GET", "/v1/staff/hotline/calls/waiting", token=agent.token).json == {"calls": []}
    assert queued_batches(aws) == []


def test_a_call_not_picked_within_24_hours_reads_expired_and_sends_nothing(
    staff, bank, staff_clock, lambda_context, aws
):
    from sms_platform.sources import hotline

    manager = staff.account(Role.hotline_manager)
    hang_up(staff_clock, lambda_context, agent_id="A1024")
    staff_clock.advance(hours=24, minutes=1)
    staff.sign_in(manager)  # a fresh token: the platform's clock moved a day on

    assert staff.call("GET", "/v1/staff/hotline/calls/waiting", token=manager.token).json == {"calls": []}
    late = staff.call("POST", "/v1/staff/hotline/calls/call-0001/picks", token=manager.token, body={"faq_ids": bank})
    assert (late.status, late.error_code) == (410, "gone")
    assert hotline.get_call("call-0001")["status"] == "expired"
    assert queued_batches(aws) == []


# ---------------------------------------------------------------- subscription items


def item_body(template_id: str, **changes: Any) -> dict[str, Any]:
    return {"name": "养老金到账提醒", "description": "每月5日告知上月养老金发放金额", "template_id": template_id,
            "event_type": "pension.paid", "variables": {"amount": "data.amount", "month": "data.month"},
            "trigger": {"kind": "monthly", "day": 5}, "price_fen": 300, "period_months": 12, **changes}  # fmt: skip


@pytest.fixture
def monthly_template(staff, carrier_simulator, staff_clock):
    return active_template(staff_clock, category="subscription", office="city",
                           text="您的养老金${amount}元已于${month}发放。", variables=PENSION_VARS)  # fmt: skip


def products(lambda_context) -> list[dict[str, Any]]:
    import channels

    event = api_event("GET", "/v1/subscriptions/products", api_key_id="key-mobile-app")
    return json.loads(channels.handler(event, lambda_context)["body"])["products"]


def test_an_item_goes_on_sale_once_a_reviewer_who_did_not_write_it_approves(staff, monthly_template, lambda_context):
    author = staff.account(Role.city_operator, Role.city_reviewer)
    reviewer = staff.account(Role.city_reviewer)
    created = staff.call("POST", "/v1/staff/subscription-items", token=author.token, body=item_body(monthly_template))
    assert (created.status, created.json["status"]) == (200, "draft")
    product_id = created.json["product_id"]
    staff.call("POST", f"/v1/staff/subscription-items/{product_id}/submission", token=author.token)
    assert products(lambda_context) == []

    own = staff.call("POST", f"/v1/staff/subscription-items/{product_id}/approval", token=author.token)
    assert own.status == 403
    approved = staff.call("POST", f"/v1/staff/subscription-items/{product_id}/approval", token=reviewer.token)
    assert (approved.status, approved.json["status"]) == (200, "active")
    assert products(lambda_context) == [{"product_id": product_id, "name": "养老金到账提醒",
                                         "description": "每月5日告知上月养老金发放金额", "price_fen": 300,
                                         "period_months": 12}]  # fmt: skip

    withdrawn = staff.call("POST", f"/v1/staff/subscription-items/{product_id}/withdrawal", token=reviewer.token)
    assert withdrawn.json["status"] == "withdrawn"
    assert products(lambda_context) == []


def test_a_rejected_item_carries_its_reason_and_can_be_corrected(staff, monthly_template, lambda_context):
    author, reviewer = staff.account(Role.city_operator), staff.account(Role.city_reviewer)
    product_id = staff.call("POST", "/v1/staff/subscription-items", token=author.token,
                            body=item_body(monthly_template)).json["product_id"]  # fmt: skip
    staff.call("POST", f"/v1/staff/subscription-items/{product_id}/submission", token=author.token)
    rejected = staff.call("POST", f"/v1/staff/subscription-items/{product_id}/rejection", token=reviewer.token,
                          body={"reason": "价格需经物价部门核定"})  # fmt: skip
    assert (rejected.json["status"], rejected.json["reject_reason"]) == ("rejected", "价格需经物价部门核定")

    corrected = staff.call("PUT", f"/v1/staff/subscription-items/{product_id}", token=author.token,
                           body=item_body(monthly_template, price_fen=200))  # fmt: skip
    assert (corrected.json["status"], corrected.json["price_fen"], corrected.json["reject_reason"]) == (
        "draft", 200, None)  # fmt: skip
    assert products(lambda_context) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_fen": 0}, "price_fen"),
        ({"period_months": 0}, "period_months"),
        ({"trigger": {"kind": "monthly"}}, "trigger"),
        ({"trigger": {"kind": "monthly", "day": 31}}, "day"),
        ({"variables": {"amount": "data._hidden"}}, "variables"),
        ({"event_type": "pension"}, "event_type"),
    ],
)
def test_a_bad_item_gets_422_and_nothing_is_created(staff, monthly_template, change, field):
    author = staff.account(Role.city_operator)
    answer = staff.call("POST", "/v1/staff/subscription-items", token=author.token,
                        body=item_body(monthly_template, **change))  # fmt: skip

    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert field in json.dumps(answer.json)
    assert staff.call("GET", "/v1/staff/subscription-items", token=author.token).json == {"items": []}


def test_an_item_whose_template_is_not_a_subscription_template_stays_off_sale(staff, carrier_simulator, staff_clock):
    author, reviewer = staff.account(Role.city_operator), staff.account(Role.city_reviewer)
    notice = active_template(staff_clock, category="triggered", office="city", text=PENSION_TEXT,
                             variables=PENSION_VARS)  # fmt: skip
    product_id = staff.call("POST", "/v1/staff/subscription-items", token=author.token,
                            body=item_body(notice)).json["product_id"]  # fmt: skip
    staff.call("POST", f"/v1/staff/subscription-items/{product_id}/submission", token=author.token)

    answer = staff.call("POST", f"/v1/staff/subscription-items/{product_id}/approval", token=reviewer.token)
    assert (answer.status, answer.error_code) == (409, "conflict")
    item = staff.call("GET", f"/v1/staff/subscription-items/{product_id}", token=author.token).json
    assert item["status"] == "submitted"


def test_it_operations_choose_the_channels_system_templates(staff, monthly_template, staff_clock):
    ops, operator = staff.account(Role.it_ops), staff.account(Role.city_operator)
    otp = active_template(staff_clock, category="system", office="it", text="您的验证码为${code}，5分钟内有效。",
                          variables=[{"name": "code", "type": "code", "max_length": 6}])  # fmt: skip
    body = {"otp_template_id": otp, "reminder_template_id": monthly_template}
    empty = {"otp_template_id": None, "reminder_template_id": None}

    assert staff.call("PUT", "/v1/staff/subscription-settings", token=operator.token, body=body).status == 403
    for wrong in ({**body, "otp_template_id": monthly_template}, {**body, "reminder_template_id": otp},
                  {**body, "otp_template_id": "tpl-never-written"}):  # fmt: skip
        refused = staff.call("PUT", "/v1/staff/subscription-settings", token=ops.token, body=wrong)
        assert (refused.status, refused.error_code) == (422, "validation_failed")
        assert staff.call("GET", "/v1/staff/subscription-settings", token=ops.token).json == empty
    assert staff.call("PUT", "/v1/staff/subscription-settings", token=ops.token, body=body).json == body
    assert staff.call("GET", "/v1/staff/subscription-settings", token=ops.token).json == body
    assert staff.call("GET", "/v1/staff/subscription-settings", token=operator.token).status == 403
