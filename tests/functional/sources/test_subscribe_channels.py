"""Paid subscriptions through the real handlers on moto (CONTRACTS §4): products, codes,
orders, signed payment notifications, renewals, lookup, cancellation and scheduled sends.

Payment notifications are signed here from the contract's text: hex HMAC-SHA256 with the
payment secret over the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.audit.chain import time_key
from sms_platform.audit.search import AuditQuery, search
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.sources import subscription_items, subscription_sends, subscription_store, subscriptions
from sms_platform.sources.subscription_models import ItemDraft
from sms_platform.staff.context import Office, Role

from tests.conftest import TEST_SECRETS
from tests.events import api_event, schedule_event
from tests.functional.intake_support import phones_of, queued_batches
from tests.staff_calls import member
from tests.template_support import active_template

PAY_SECRET = json.loads(TEST_SECRETS["WebhookSecret"])["payment_webhook_secret"]
NOW = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)  # 10:00 on 4 June in Beijing
PHONE = "13600003333"
PERSON = "11010519491231002X"
CHANNEL = "key-mobile-app"
OPS = member("ops-1", Office.it, Role.it_ops)
AUTHOR = member("op-1", Office.city, Role.city_operator)
REVIEWER = member("rev-1", Office.city, Role.city_reviewer)


@pytest.fixture
def clock():
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


@pytest.fixture
def templates(aws, carrier_simulator, clock):
    """The verification-code, monthly and reminder templates, active."""
    made = {
        "otp": active_template(clock, category="system", office="it", text="您的验证码为${code}，5分钟内有效。",
                               variables=[{"name": "code", "type": "code", "max_length": 6}]),
        "monthly": active_template(clock, category="subscription", office="city",
                                   text="您的养老金${amount}元已于${month}发放。",
                                   variables=[{"name": "amount", "type": "money", "max_length": 12},
                                              {"name": "month", "type": "text", "max_length": 20}]),
        "remind": active_template(clock, category="subscription", office="city",
                                  text="您订阅的${product}将于${end_date}到期。",
                                  variables=[{"name": "product", "type": "text", "max_length": 40},
                                             {"name": "end_date", "type": "date", "max_length": 10}]),
    }  # fmt: skip
    clock.set(NOW)
    return made


@pytest.fixture
def product(templates):
    subscription_items.set_settings(OPS, templates["otp"], templates["remind"], now=NOW)
    item = subscription_items.create_item(
        AUTHOR,
        ItemDraft(name="养老金到账提醒", description="每月5日告知上月养老金发放金额", template_id=templates["monthly"],
                  event_type="pension.paid", variables={"amount": "data.amount", "month": "data.month"},
                  trigger={"kind": "monthly", "day": 5}, price_fen=300, period_months=12),
        now=NOW,
    )  # fmt: skip
    subscription_items.submit_item(AUTHOR, item.product_id, now=NOW)
    with pytest.raises(Exception, match="自己"):
        subscription_items.approve_item(AUTHOR, item.product_id, now=NOW)
    subscription_items.approve_item(REVIEWER, item.product_id, now=NOW)
    return item


def call(method, path, lambda_context, *, body=None, raw=None, headers=None, key=CHANNEL, params=None):
    import channels

    resource = path
    if params:
        for name, value in params.items():
            resource = resource.replace(value, "{" + name + "}")
    event = api_event(method, path, resource=resource, body=body, raw_body=raw, headers=headers,
                      api_key_id=key, path_parameters=params)  # fmt: skip
    answer = channels.handler(event, lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def latest_code(aws) -> str:
    batches = queued_batches(aws)
    assert [b["kind"] for b in batches] == ["system"]
    assert phones_of(batches) == [PHONE]
    return batches[0]["params"][0]["code"]


def order(lambda_context, code, channel_order_id="app-order-1", **changes):
    body = {"product_id": changes.pop("product_id"), "subscriber": {"kind": "person", "id": PERSON, "name": "张三"},
            "phone": PHONE, "otp": code, "channel_order_id": channel_order_id, **changes}  # fmt: skip
    return call("POST", "/v1/subscriptions", lambda_context, body=body)


def notify(lambda_context, order_id, amount_fen, *, transaction_id="txn-1", secret=PAY_SECRET, signature=None,
           unsigned=False):  # fmt: skip
    raw = json.dumps({"transaction_id": transaction_id, "order_id": order_id, "amount_fen": amount_fen,
                      "paid_at": "2024-06-04T10:05:00+08:00"})  # fmt: skip
    digest = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    headers = {} if unsigned else {"X-Payment-Signature": signature or digest}
    return call("POST", "/v1/payments/notify", lambda_context, raw=raw, key=None, headers=headers)


def subscribed(aws, product, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    status, created = order(lambda_context, latest_code(aws), product_id=product.product_id)
    assert status == 201
    assert notify(lambda_context, created["order_id"], 300)[0] == 200
    return created


def test_products_code_order_and_payment_activate_a_subscription(aws, product, lambda_context):
    assert call("GET", "/v1/subscriptions/products", lambda_context) == (200, {"products": [{
        "product_id": product.product_id, "name": "养老金到账提醒", "description": "每月5日告知上月养老金发放金额",
        "price_fen": 300, "period_months": 12}]})  # fmt: skip

    assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}) == (202, {"expires_in": 300})
    code = latest_code(aws)
    assert len(code) == 6 and code.isdigit()

    status, created = order(lambda_context, code, product_id=product.product_id)
    assert status == 201
    assert created["status"] == "pending_payment" and created["amount_fen"] == 300
    assert datetime.fromisoformat(created["pay_before"]) == NOW + timedelta(minutes=30)

    assert notify(lambda_context, created["order_id"], 300) == (200, {"order_id": created["order_id"],
                                                                     "status": "paid"})  # fmt: skip
    status, found = call("POST", "/v1/subscriptions/lookup", lambda_context,
                         body={"subscriber": {"kind": "person", "id": PERSON}})  # fmt: skip
    assert status == 200
    [subscription] = found["subscriptions"]
    assert (subscription["status"], subscription["phone"]) == ("active", "136****3333")
    assert datetime.fromisoformat(subscription["period_end"]) == datetime(2025, 6, 4, 2, 0, tzinfo=UTC)
    assert PERSON not in json.dumps(found) and PHONE not in json.dumps(found)


def test_the_same_channel_order_gets_the_same_answer(aws, product, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    code = latest_code(aws)
    first = order(lambda_context, code, product_id=product.product_id)
    assert order(lambda_context, code, product_id=product.product_id) == first


@pytest.mark.parametrize(
    ("make_code", "advance", "message"),
    [
        pytest.param(lambda code: "000000" if code != "000000" else "111111", 0, "不正确", id="wrong code"),
        pytest.param(lambda code: code, 6, "过期", id="expired code"),
    ],
)
def test_wrong_or_expired_codes_get_422_and_create_nothing(aws, product, clock, lambda_context, make_code, advance,
                                                           message):  # fmt: skip
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    code = latest_code(aws)
    clock.advance(minutes=advance)
    status, body = order(lambda_context, make_code(code), product_id=product.product_id)

    assert (status, body["error"]["field"]) == (422, "otp")
    assert message in body["error"]["message"]
    assert call("POST", "/v1/subscriptions/lookup", lambda_context,
                body={"subscriber": {"kind": "person", "id": PERSON}})[1] == {"subscriptions": []}  # fmt: skip


def test_five_wrong_tries_void_the_code(aws, product, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    code = latest_code(aws)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert order(lambda_context, wrong, product_id=product.product_id)[0] == 422
    status, body = order(lambda_context, code, product_id=product.product_id)
    assert status == 422 and "失效" in body["error"]["message"]


def test_at_most_five_codes_a_day_per_number(aws, product, clock, lambda_context):
    for _ in range(5):
        assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})[0] == 202
    status, body = call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert len(queued_batches(aws)) == 5
    clock.advance(days=1)
    assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})[0] == 202


@pytest.mark.parametrize("phone", ["1380000", "0631-5201234", "23800001111"])
def test_a_number_that_fails_validation_gets_422_and_no_code(aws, product, lambda_context, phone):
    status, body = call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": phone})
    assert (status, body["error"]["field"]) == (422, "phone")
    assert phone not in json.dumps(body, ensure_ascii=False)
    assert queued_batches(aws) == []


def test_an_unknown_product_gets_422(aws, product, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    status, body = order(lambda_context, latest_code(aws), product_id="sub-unknown")
    assert (status, body["error"]["field"]) == (422, "product_id")


@pytest.mark.parametrize(
    ("subscriber", "field", "message"),
    [
        ({"kind": "person", "id": PERSON, "name": "张\u202e三"}, "subscriber.name", "名称含有不可见的控制字符"),
        ({"kind": "person", "id": PERSON, "name": "张三\x00"}, "subscriber.name", "名称含有不可见的控制字符"),
        ({"kind": "person", "id": f"\u200b{PERSON}", "name": "张三"}, "subscriber.id", "证件号码含有不可见的控制字符"),
    ],
)
def test_a_subscriber_with_invisible_characters_gets_422_and_nothing_is_created(
    aws, product, lambda_context, subscriber, field, message
):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    status, body = order(lambda_context, latest_code(aws), product_id=product.product_id, subscriber=subscriber)

    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "validation_failed", field)
    assert body["error"]["details"] == [{"field": field, "message": message}]
    assert call("POST", "/v1/subscriptions/lookup", lambda_context,
                body={"subscriber": {"kind": "person", "id": PERSON}})[1] == {"subscriptions": []}  # fmt: skip


def test_payment_refusals_change_nothing_and_a_repeat_gets_the_first_answer(aws, product, clock, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    _, created = order(lambda_context, latest_code(aws), product_id=product.product_id)
    order_id = created["order_id"]

    assert notify(lambda_context, order_id, 300, secret="forged")[0] == 401
    assert notify(lambda_context, order_id, 300, unsigned=True)[0] == 401
    assert notify(lambda_context, order_id, 300, signature="0" * 64)[0] == 401
    assert notify(lambda_context, order_id, 299)[0] == 409
    assert notify(lambda_context, "o-unknown", 300)[0] == 404
    assert subscriptions.get_subscription(created["subscription_id"])["status"] == "pending_payment"

    first = notify(lambda_context, order_id, 300)
    assert first == notify(lambda_context, order_id, 300) == (200, {"order_id": order_id, "status": "paid"})
    assert notify(lambda_context, order_id, 300, transaction_id="txn-2")[0] == 409
    assert subscriptions.get_subscription(created["subscription_id"])["applied_orders"] == [order_id]


def lookup(lambda_context) -> list[dict]:
    status, found = call("POST", "/v1/subscriptions/lookup", lambda_context,
                         body={"subscriber": {"kind": "person", "id": PERSON}})  # fmt: skip
    assert status == 200
    return found["subscriptions"]


def test_an_unpaid_order_lapses_after_30_minutes(aws, product, clock, lambda_context):
    call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    code = latest_code(aws)
    _, created = order(lambda_context, code, product_id=product.product_id)
    clock.advance(minutes=29)
    assert [s["status"] for s in lookup(lambda_context)] == ["pending_payment"]
    clock.advance(minutes=2)

    assert [s["status"] for s in lookup(lambda_context)] == ["lapsed"]
    status, again = order(lambda_context, code, product_id=product.product_id)
    assert (status, again["status"], again["order_id"]) == (201, "lapsed", created["order_id"])
    status, body = notify(lambda_context, created["order_id"], 300)
    assert status == 409 and "失效" in body["error"]["message"]
    assert [s["status"] for s in lookup(lambda_context)] == ["lapsed"]


def test_a_period_that_has_ended_reads_ended_before_the_daily_run(aws, product, clock, lambda_context):
    subscribed(aws, product, lambda_context)
    clock.set(datetime(2025, 6, 4, 1, 59, tzinfo=UTC))
    assert [s["status"] for s in lookup(lambda_context)] == ["active"]
    clock.set(datetime(2025, 6, 4, 2, 0, tzinfo=UTC))
    assert [s["status"] for s in lookup(lambda_context)] == ["ended"]


def test_an_item_is_put_on_sale_only_with_an_active_subscription_template(aws, templates, clock):
    from sms_platform.foundation.errors import Conflict

    for template_id in (templates["otp"], "tpl-never-written"):
        item = subscription_items.create_item(
            AUTHOR,
            ItemDraft(name="医保到账提醒", description="医保报销到账时告知金额", template_id=template_id,
                      event_type="medical.reimbursed", trigger={"kind": "event"}, price_fen=100, period_months=1),
            now=NOW,
        )  # fmt: skip
        subscription_items.submit_item(AUTHOR, item.product_id, now=NOW)
        with pytest.raises(Conflict, match="付费订阅类"):
            subscription_items.approve_item(REVIEWER, item.product_id, now=NOW)
        assert subscription_items.get_item(item.product_id).status == "submitted"
    assert subscriptions.products() == []


def test_each_change_of_an_item_or_the_settings_is_audited_by_the_service(aws, templates, product, clock):
    later_on = NOW + timedelta(minutes=5)  # the service's time, not the clock's, dates its entry
    withdrawn = subscription_items.withdraw_item(REVIEWER, product.product_id, now=later_on)

    found = search(AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1))).entries
    entries = {e["action"]: e for e in found if e["action"].startswith("subscription_")}
    target = f"subscription_item:{product.product_id}"
    assert {action: (e["actor"]["account_id"], e["target"], e["office"]) for action, e in entries.items()} == {
        "subscription_settings.update": ("ops-1", "subscription_settings", "it"),
        "subscription_item.create": ("op-1", target, "city"),
        "subscription_item.submit": ("op-1", target, "city"),
        "subscription_item.approve": ("rev-1", target, "city"),
        "subscription_item.withdraw": ("rev-1", target, "city"),
    }
    chosen = entries["subscription_settings.update"]
    assert chosen["before"] == {"otp_template_id": None, "reminder_template_id": None}
    assert chosen["after"] == {"otp_template_id": templates["otp"], "reminder_template_id": templates["remind"]}
    assert (entries["subscription_item.create"]["before"], entries["subscription_item.create"]["after"]) == (
        None, product.snapshot())  # fmt: skip
    approved = entries["subscription_item.approve"]
    assert (approved["before"]["status"], approved["after"]["status"], approved["after"]["reviewer"]) == (
        "submitted", "active", "rev-1")  # fmt: skip
    gone = entries["subscription_item.withdraw"]
    assert (gone["before"], gone["after"], gone["at"]) == (approved["after"], withdrawn.snapshot(), time_key(later_on))


def test_a_renewal_starts_when_the_current_period_ends(aws, product, clock, lambda_context):
    created = subscribed(aws, product, lambda_context)
    sid = created["subscription_id"]
    status, renewal = call("POST", f"/v1/subscriptions/{sid}/renewals", lambda_context,
                           params={"subscription_id": sid})  # fmt: skip
    assert status == 201 and renewal["amount_fen"] == 300
    assert notify(lambda_context, renewal["order_id"], 300, transaction_id="txn-renew")[0] == 200
    assert subscriptions.get_subscription(sid)["period_end"] == datetime(2026, 6, 4, 2, 0, tzinfo=UTC).isoformat()


def test_scheduled_sends_use_the_latest_business_data_or_record_none(aws, product, clock, lambda_context):
    import periodic

    created = subscribed(aws, product, lambda_context)
    sid = created["subscription_id"]
    clock.set(datetime(2024, 6, 5, 1, 0, tzinfo=UTC))  # 09:00 on the 5th in Beijing

    assert periodic.handler(schedule_event(), lambda_context)["no_data"] == 1
    assert queued_batches(aws) == []
    assert [h["outcome"] for h in subscription_store.send_history(sid)] == ["no_data"]

    subscription_sends.remember_event_data("person", PERSON, "pension.paid", {"amount": 3120.5, "month": "5月"},
                                           datetime(2024, 6, 1, tzinfo=UTC))  # fmt: skip
    clock.set(datetime(2024, 7, 5, 1, 0, tzinfo=UTC))
    assert periodic.handler(schedule_event(), lambda_context)["sent"] == 1
    assert periodic.handler(schedule_event(), lambda_context)["sent"] == 0  # a second run sends nothing more
    batches = queued_batches(aws)
    assert [(b["kind"], b["params"][0]) for b in batches] == [("subscription", {"amount": "3120.5", "month": "5月"})]


def test_a_reminder_goes_seven_days_before_the_end(aws, templates, product, clock, lambda_context):
    import periodic

    subscribed(aws, product, lambda_context)
    clock.set(datetime(2025, 5, 28, 1, 0, tzinfo=UTC))
    assert periodic.handler(schedule_event(), lambda_context)["reminders"] == 1
    batches = queued_batches(aws)
    assert batches[0]["template_id"] == templates["remind"]
    assert batches[0]["params"][0] == {"product": "养老金到账提醒", "end_date": "2025-06-04"}


def test_a_cancelled_subscription_gets_no_further_sends(aws, product, clock, lambda_context):
    import periodic

    created = subscribed(aws, product, lambda_context)
    sid = created["subscription_id"]
    assert call("DELETE", f"/v1/subscriptions/{sid}", lambda_context, params={"subscription_id": sid}) == (
        200, {"subscription_id": sid, "status": "cancelled"})  # fmt: skip
    subscription_sends.remember_event_data("person", PERSON, "pension.paid", {"amount": 1, "month": "5月"}, NOW)
    clock.set(datetime(2024, 7, 5, 1, 0, tzinfo=UTC))
    assert periodic.handler(schedule_event(), lambda_context)["sent"] == 0
    assert queued_batches(aws) == []
    assert call("POST", f"/v1/subscriptions/{sid}/renewals", lambda_context, params={"subscription_id": sid})[0] == 409
