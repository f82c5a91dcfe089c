"""The three intake channels through the local platform, driven from outside as the outside
systems drive them (CONTRACTS §2-§4): requests signed here from the contract's text with the
platform's printed development secrets and API keys, and the SMS looked for where the carrier
receives them (the carrier simulator).

Set-up goes through the staff API: the seeded administrator enrols TOTP and creates the staff
accounts; staff write and review the templates, rules, question bank entries, subscription
items and the address book entry. The platform's own filing poller (every few seconds locally)
makes the templates the carrier approved active within seconds of their approval.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e]

PASSWORD = "Weihai-Intake-2024!"
PERSON = "11010519491231002X"  # the insured person of the business event
PERSON_PHONE = "13700002222"
CALLER = "13800001111"
SUBSCRIBER = "370602198001010012"
SUBSCRIBER_PHONE = "13600003333"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


def totp(secret: str) -> str:
    from tests.staff_fixtures import totp_code

    return totp_code(secret)


@dataclass
class Staff:
    api: str
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, who: str, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return requests.request(method, f"{self.api}/v1/staff{path}", json=body, headers=headers, timeout=60)

    def ok(self, who: str, method: str, path: str, body: Any = None) -> Any:
        answer = self.call(who, method, path, body)
        assert answer.status_code in (200, 201), f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def sign_in(self, username: str, password: str, *, new_password: str | None = None,
                totp_secret: str | None = None) -> dict[str, Any]:  # fmt: skip
        answer = requests.post(f"{self.api}/v1/staff/session", json={"username": username, "password": password},
                               timeout=60).json()  # fmt: skip
        while answer.get("status") == "challenge":
            step = {"username": username, "challenge": answer["challenge"], "session": answer["session"]}
            if answer["challenge"] == "NEW_PASSWORD_REQUIRED":
                step["new_password"] = new_password
            else:
                step["code"] = totp(totp_secret or "")
            answer = requests.post(f"{self.api}/v1/staff/session/challenge", json=step, timeout=60).json()
        assert answer.get("status") == "signed_in", answer
        return answer


@dataclass
class World:
    platform: Any
    staff: Staff
    defaults: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def sent(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.platform.carrier}/_simulator/sent?full=1", timeout=10).json()

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.sent() if m["phone"] == phone]


def sign_in_admin(platform: Any, staff: Staff) -> None:
    """The seeded administrator signs in, enrols TOTP (required of permission administrators)
    and signs in again with it."""
    printed = platform.log_events("sign_in")[0]
    first = staff.sign_in(printed["username"], printed["password"])
    staff.tokens["admin"] = first["access_token"]
    secret = staff.ok("admin", "POST", "/me/totp")["secret_code"]
    staff.ok("admin", "POST", "/me/totp/verification", {"code": totp(secret)})
    staff.tokens["admin"] = staff.sign_in(printed["username"], printed["password"], totp_secret=secret)["access_token"]
    # Functions keep an account's record for a few seconds: wait until they all see the enrolment.
    wait_for("the enrolment to be seen", lambda: staff.call("admin", "GET", "/accounts").status_code == 200)


ACCOUNTS = {
    "operator": ("city", ["city_operator"]),
    "reviewer": ("city", ["city_reviewer"]),
    "manager": ("hotline", ["hotline_manager"]),
    "ops": ("it", ["it_ops"]),
}


def create_accounts(staff: Staff) -> None:
    for number, (name, (office, roles)) in enumerate(ACCOUNTS.items(), start=1):
        created = staff.ok("admin", "POST", "/accounts", {"username": f"intake.{name}", "real_name": f"测试员{number}",
                                                          "staff_number": f"E{number:04d}", "office": office,
                                                          "roles": roles})  # fmt: skip
        signed = staff.sign_in(f"intake.{name}", created["temporary_password"], new_password=PASSWORD)
        staff.tokens[name] = signed["access_token"]


def write_template(staff: Staff, author: str, *, category: str, office: str, name: str, text: str,
                   variables: list[dict[str, Any]] = ()) -> str:  # fmt: skip
    today = datetime.now(UTC).date()
    body = {"name": name, "category": category, "office": office, "text": text, "variables": list(variables),
            "valid_from": (today - timedelta(days=1)).isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat(), "remark": "社保业务短信"}  # fmt: skip
    template_id = staff.ok(author, "POST", "/templates", body)["template_id"]
    staff.ok(author, "POST", f"/templates/{template_id}/versions/1/submission")
    approved = staff.ok("reviewer", "POST", f"/templates/{template_id}/versions/1/approval", {"note": "同意"})
    assert approved["status"] == "filed", approved
    return template_id


# The platform's own filing poller asks the carrier simulator every few seconds: a filed
# template is usable this soon after its approval, with nobody running the poller by hand.
USABLE_WITHIN_SECONDS = 15


def activate(platform: Any, template_ids: list[str]) -> None:
    """Wait until the platform's filing poller has activated every template the carrier approved."""
    from sms_platform.templates import workflow

    with platform.functions_environment():

        def all_active() -> bool:
            return all(workflow.find_template(t).active_version == 1 for t in template_ids)

        wait_for("the platform to activate the filed templates", all_active, timeout=USABLE_WITHIN_SECONDS)


def business_key_id(platform: Any) -> str:
    """The API Gateway id of the business systems' key, as the operator sees it in the console."""
    import boto3

    gateway = boto3.client("apigateway", endpoint_url=platform.moto, region_name="us-east-1")
    keys = gateway.get_api_keys(nameQuery="local-business-api-key")["items"]
    return keys[0]["id"]


@pytest.fixture(scope="module")
def world(local_platform) -> World:
    staff = Staff(local_platform.api)
    defaults = local_platform.log_events("development_defaults")[0]
    world = World(local_platform, staff, defaults)
    sign_in_admin(local_platform, staff)
    create_accounts(staff)
    ids = world.ids

    # Templates: a triggered notice, two hang-up answers, the verification code, a subscribed notice.
    ids["pension"] = write_template(
        staff, "operator", category="triggered", office="city", name="养老金发放通知",
        text="您${month}的养老金${amount}元已发放，请注意查收。",
        variables=[{"name": "month", "type": "text", "max_length": 20},
                   {"name": "amount", "type": "money", "max_length": 12}],
    )  # fmt: skip
    ids["card"] = write_template(staff, "manager", category="hangup", office="hotline", name="社保卡补办",
                                 text="社保卡补办：请携带身份证到就近社保经办窗口办理。")  # fmt: skip
    ids["pension_query"] = write_template(staff, "manager", category="hangup", office="hotline", name="养老金查询",
                                          text="养老金查询：可登录网上服务大厅或拨打12333查询。")  # fmt: skip
    ids["otp"] = write_template(staff, "ops", category="system", office="it", name="订阅验证码",
                                text="您的验证码为${code}，5分钟内有效，请勿告知他人。",
                                variables=[{"name": "code", "type": "code", "max_length": 6}])  # fmt: skip
    ids["medical"] = write_template(staff, "operator", category="subscription", office="city", name="医保报销到账",
                                    text="您订阅的医保报销提醒：本次报销${amount}元已到账。",
                                    variables=[{"name": "amount", "type": "money", "max_length": 12}])  # fmt: skip
    activate(local_platform, [ids["pension"], ids["card"], ids["pension_query"], ids["otp"], ids["medical"]])

    # The business systems' key may send the two event types.
    key_id = business_key_id(local_platform)
    for event_type in ("pension.paid", "medical.reimbursed"):
        staff.ok("ops", "PUT", f"/event-grants/{key_id}/{event_type}")

    # The insured person's number in the address book.
    stored = staff.ok("operator", "POST", "/contacts/batch", {"contacts": [{
        "kind": "person", "id": PERSON, "name": "张三", "district": "huancui",
        "phones": [{"number": PERSON_PHONE, "source": "service_hall", "verified": True}]}]})  # fmt: skip
    assert stored["created"] == 1, stored

    # A trigger rule, approved by a reviewer who did not write it.
    today = datetime.now(UTC).date()
    rule_id = staff.ok("operator", "POST", "/trigger-rules", {
        "name": "养老金发放通知", "event_type": "pension.paid", "condition": 'data["amount"] > 0',
        "template_id": ids["pension"], "recipients": "subject",
        "variables": {"month": "data.month", "amount": "data.amount"},
        "valid_from": f"{(today - timedelta(days=1)).isoformat()}T00:00:00+08:00",
        "valid_until": f"{(today + timedelta(days=365)).isoformat()}T00:00:00+08:00"})["rule_id"]  # fmt: skip
    staff.ok("operator", "POST", f"/trigger-rules/{rule_id}/submission")
    staff.ok("reviewer", "POST", f"/trigger-rules/{rule_id}/approval")

    # Two question-bank entries, chosen into scope by the 12333 centre's manager.
    for key, question in (("card", "社保卡怎么补办"), ("pension_query", "养老金怎么查")):
        faq_id = staff.ok("operator", "POST", "/hotline/entries", {"question": question,
                                                                    "template_id": ids[key]})["faq_id"]  # fmt: skip
        staff.ok("manager", "PUT", f"/hotline/entries/{faq_id}/scope", {"in_scope": True})
        ids[f"faq_{key}"] = faq_id

    # A subscription item sent on each medical reimbursement, and the channels' code template.
    product_id = staff.ok("operator", "POST", "/subscription-items", {
        "name": "医保报销到账提醒", "description": "每次医保报销到账时告知金额", "template_id": ids["medical"],
        "event_type": "medical.reimbursed", "variables": {"amount": "data.amount"},
        "trigger": {"kind": "event"}, "price_fen": 500, "period_months": 12})["product_id"]  # fmt: skip
    staff.ok("operator", "POST", f"/subscription-items/{product_id}/submission")
    staff.ok("reviewer", "POST", f"/subscription-items/{product_id}/approval")
    staff.ok("ops", "PUT", "/subscription-settings", {"otp_template_id": ids["otp"], "reminder_template_id": None})
    ids["product"] = product_id
    return world


# ---------------------------------------------------------------- outside systems


def post_event(world: World, event_id: str, event_type: str, subject: str, data: dict[str, Any]) -> requests.Response:
    body = {"event_id": event_id, "event_type": event_type, "occurred_at": datetime.now(UTC).isoformat(),
            "subject": {"kind": "person", "id": subject}, "data": data}  # fmt: skip
    return requests.post(f"{world.platform.api}/v1/events", json=body,
                         headers={"X-Api-Key": world.defaults["BUSINESS_API_KEY"]}, timeout=60)  # fmt: skip


def hang_up(world: World, body: dict[str, Any]) -> requests.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    secret = world.defaults["HOTLINE_WEBHOOK_SECRET"].encode()
    signature = hmac.new(secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hotline-Timestamp": timestamp,
               "X-Hotline-Signature": signature}  # fmt: skip
    return requests.post(f"{world.platform.api}/v1/hotline/hangups", data=raw, headers=headers, timeout=60)


def channel(world: World, method: str, path: str, body: Any = None) -> requests.Response:
    headers = {"X-Api-Key": world.defaults["CHANNEL_API_KEY"]}
    return requests.request(method, f"{world.platform.api}{path}", json=body, headers=headers, timeout=60)


def notify_payment(world: World, body: dict[str, Any]) -> requests.Response:
    raw = json.dumps(body).encode()
    secret = world.defaults["PAYMENT_WEBHOOK_SECRET"].encode()
    headers = {"Content-Type": "application/json",
               "X-Payment-Signature": hmac.new(secret, raw, hashlib.sha256).hexdigest()}  # fmt: skip
    return requests.post(f"{world.platform.api}/v1/payments/notify", data=raw, headers=headers, timeout=60)


# ---------------------------------------------------------------- the channels


def test_a_business_event_matched_by_an_approved_rule_reaches_the_insured_person(world):
    answer = post_event(world, "e2e-pension-0001", "pension.paid", PERSON, {"month": "2024年5月", "amount": 3120.5})

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"event_id": "e2e-pension-0001", "matched_rules": 1, "messages": 1}
    [sms] = wait_for("the notice at the carrier", lambda: world.sent_to(PERSON_PHONE))
    assert sms["sign_name"] == "威海市社会保险事业中心"
    assert sms["content"].endswith("您2024年5月的养老金3120.5元已发放，请注意查收。")

    repeated = post_event(world, "e2e-pension-0001", "pension.paid", PERSON, {"month": "2024年5月", "amount": 1})
    assert (repeated.status_code, repeated.json()) == (202, answer.json())
    refused = post_event(world, "e2e-pension-0002", "unemployment.paid", PERSON, {"amount": 1})
    assert refused.status_code == 403
    time.sleep(2)
    assert len(world.sent_to(PERSON_PHONE)) == 1


def test_a_hang_up_with_two_entries_sends_two_answers_once(world):
    call = {"call_id": "e2e-call-0001", "caller": CALLER, "agent_id": "A1024",
            "ended_at": datetime.now(UTC).isoformat(),
            "faq_ids": [world.ids["faq_card"], world.ids["faq_pension_query"]]}  # fmt: skip

    answer = hang_up(world, call)

    assert (answer.status_code, answer.json()) == (202, {"call_id": "e2e-call-0001", "status": "queued"})
    received = wait_for("two answers at the carrier", lambda: len(world.sent_to(CALLER)) >= 2 and world.sent_to(CALLER))
    assert sorted(m["content"].split("】", 1)[1] for m in received) == [
        "养老金查询：可登录网上服务大厅或拨打12333查询。",
        "社保卡补办：请携带身份证到就近社保经办窗口办理。",
    ]

    again = hang_up(world, call)
    assert (again.status_code, again.json()) == (202, answer.json())
    forged = dict(call, call_id="e2e-call-0002")
    unsigned = requests.post(f"{world.platform.api}/v1/hotline/hangups", json=forged, timeout=60)
    assert unsigned.status_code == 401
    time.sleep(2)
    assert len(world.sent_to(CALLER)) == 2


def test_a_subscriber_verifies_orders_pays_and_receives_the_subscribed_notice(world):
    products = channel(world, "GET", "/v1/subscriptions/products").json()["products"]
    assert [p["product_id"] for p in products] == [world.ids["product"]]

    asked = channel(world, "POST", "/v1/subscriptions/otp", {"phone": SUBSCRIBER_PHONE})
    assert (asked.status_code, asked.json()) == (202, {"expires_in": 300})
    [code_sms] = wait_for("the verification code at the carrier", lambda: world.sent_to(SUBSCRIBER_PHONE))
    code = code_sms["params"]["code"]
    assert code in code_sms["content"] and len(code) == 6

    ordered = channel(world, "POST", "/v1/subscriptions", {
        "product_id": world.ids["product"], "subscriber": {"kind": "person", "id": SUBSCRIBER, "name": "李四"},
        "phone": SUBSCRIBER_PHONE, "otp": code, "channel_order_id": "app-e2e-0001"})  # fmt: skip
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert (order["status"], order["amount_fen"]) == ("pending_payment", 500)

    payment = {"transaction_id": "txn-e2e-0001", "order_id": order["order_id"], "amount_fen": 500,
               "paid_at": datetime.now(UTC).isoformat()}  # fmt: skip
    assert notify_payment(world, {**payment, "amount_fen": 499}).status_code == 409
    paid = notify_payment(world, payment)
    assert (paid.status_code, paid.json()) == (200, {"order_id": order["order_id"], "status": "paid"})
    found = channel(world, "POST", "/v1/subscriptions/lookup", {"subscriber": {"kind": "person", "id": SUBSCRIBER}})
    assert [s["status"] for s in found.json()["subscriptions"]] == ["active"]

    event = post_event(world, "e2e-medical-0001", "medical.reimbursed", SUBSCRIBER, {"amount": 268.4})
    assert (event.status_code, event.json()["messages"]) == (202, 1)

    def subscribed_notices() -> list[dict[str, Any]]:
        return [m for m in world.sent_to(SUBSCRIBER_PHONE) if m["template_code"] != code_sms["template_code"]]

    notices = wait_for("the subscribed notice", subscribed_notices)
    assert [m["content"].split("】", 1)[1] for m in notices] == ["您订阅的医保报销提醒：本次报销268.4元已到账。"]
