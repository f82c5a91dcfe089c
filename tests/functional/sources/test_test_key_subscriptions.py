"""A service channel's test key on the subscription routes (CONTRACTS §7), through the real
handlers on moto: every answer is its live twin's, with ``"test": true``; its codes never reach
the carrier simulator and touch neither the number's live code nor its five a day; its orders,
renewals, cancellations and their payments are checked as live ones and write nothing."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

from sms_platform import aws as platform_aws
from sms_platform.foundation.settings import settings
from sms_platform.sources import caller_keys, subscription_items, subscription_store, subscription_test_orders

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import LaneRunner
from tests.functional.intake_support import queued_batches
from tests.functional.sources.test_subscribe_channels import (  # noqa: F401 - fixtures named as arguments
    CHANNEL,
    NOW,
    OPS,
    PERSON,
    PHONE,
    call,
    clock,
    latest_code,
    lookup,
    notify,
    order,
    product,
    subscribed,
    templates,
)

TEST_CHANNEL = "key-mobile-app-test"


def twin_test_key() -> None:
    caller_keys.register(OPS, TEST_CHANNEL, kind="test", name="mobile-app", twin=CHANNEL, now=NOW)


def order_with_test_key(lambda_context, code, channel_order_id="app-test-1", **changes):
    body = {"product_id": changes.pop("product_id"), "subscriber": {"kind": "person", "id": PERSON, "name": "张三"},
            "phone": PHONE, "otp": code, "channel_order_id": channel_order_id, **changes}  # fmt: skip
    return call("POST", "/v1/subscriptions", lambda_context, body=body, key=TEST_CHANNEL)


def kept() -> list[dict]:
    """Everything the subscriptions table holds but verification codes: subscriptions and orders."""
    items = platform_aws.table(settings().subscriptions_table).scan()["Items"]
    codes = ("otp#", "otptest#")
    return sorted((item for item in items if not str(item["pk"]).startswith(codes)), key=lambda i: (i["pk"], i["sk"]))


def test_a_test_keys_codes_leave_the_numbers_live_code_and_its_five_a_day_alone(aws, product, clock, lambda_context):
    twin_test_key()
    assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}) == (202, {"expires_in": 300})
    live_code = latest_code(aws)

    answers = [call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}, key=TEST_CHANNEL)
               for _ in range(6)]  # fmt: skip

    # The test key's own five a day, answered as the live key's would be.
    assert answers[:5] == [(202, {"expires_in": 300, "test": True})] * 5
    assert answers[5][0] == 429 and answers[5][1]["error"]["message"] == "每天最多获取 5 次验证码，请明天再试"
    # The citizen's code still orders, and the number has four live codes left today, each sent.
    status, created = order(lambda_context, live_code, product_id=product.product_id)
    assert status == 201 and created["order_id"].startswith("o") and "test" not in created
    more = [call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})[0] for _ in range(5)]
    assert more == [202, 202, 202, 202, 429]
    batches = queued_batches(aws)
    assert sorted(bool(batch.get("test")) for batch in batches) == [False] * 4 + [True] * 5  # the first was read


def test_a_test_keys_order_is_checked_as_a_live_one_answered_and_never_stored(aws, carrier_simulator, product, clock,
                                                                             lambda_context):  # fmt: skip
    twin_test_key()
    before = kept()
    assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}, key=TEST_CHANNEL)[0] == 202
    (batch,) = queued_batches(aws)
    assert batch["test"] is True and batch["params"][0]["code"] == subscription_test_orders.TEST_CODE

    code = subscription_test_orders.TEST_CODE
    wrong = order_with_test_key(lambda_context, "000000", product_id=product.product_id)
    unknown = order_with_test_key(lambda_context, code, product_id="p-none")
    status, created = order_with_test_key(lambda_context, code, product_id=product.product_id)

    assert wrong == (422, {"error": {"code": "validation_failed", "message": "验证码不正确", "field": "otp"}})
    assert unknown[0] == 422 and unknown[1]["error"]["field"] == "product_id"
    assert status == 201
    assert (created["status"], created["amount_fen"], created["test"]) == ("pending_payment", 300, True)
    assert set(created) == {"subscription_id", "order_id", "status", "amount_fen", "pay_before", "test"}
    assert created["pay_before"] == (NOW + timedelta(minutes=30)).isoformat()
    # Nothing stored: no subscription, no order, and the subscriber has none to look up.
    assert kept() == before
    assert subscription_store.subscription(created["subscription_id"]) is None
    assert lookup(lambda_context) == []
    LaneRunner(aws, clock, lambda_context).run()
    assert carrier_simulator.sent == []

    # Its payment notification is checked as a live order's and activates nothing.
    order_id = created["order_id"]
    assert notify(lambda_context, order_id, 299)[0] == 409
    forged = order_id.replace("t300-", "t299-", 1)
    assert notify(lambda_context, forged, 299, transaction_id="txn-forged")[0] == 404
    paid = notify(lambda_context, order_id, 300)
    assert paid == notify(lambda_context, order_id, 300)
    assert paid == (200, {"order_id": order_id, "status": "paid", "test": True})
    assert kept() == before and lookup(lambda_context) == []
    clock.set(NOW + timedelta(minutes=31))
    assert notify(lambda_context, order_id, 300, transaction_id="txn-late")[0] == 409


def test_a_test_keys_renewal_and_cancelling_are_answered_and_change_nothing(aws, product, clock, lambda_context):
    twin_test_key()
    created = subscribed(aws, product, lambda_context)
    sid = created["subscription_id"]
    before = kept()
    params = {"subscription_id": sid}

    status, renewal = call("POST", f"/v1/subscriptions/{sid}/renewals", lambda_context, params=params,
                           key=TEST_CHANNEL)  # fmt: skip
    paid = notify(lambda_context, renewal["order_id"], 300, transaction_id="txn-test-renewal")
    cancelled = call("DELETE", f"/v1/subscriptions/{sid}", lambda_context, params=params, key=TEST_CHANNEL)
    found = call("POST", "/v1/subscriptions/lookup", lambda_context,
                 body={"subscriber": {"kind": "person", "id": PERSON}}, key=TEST_CHANNEL)  # fmt: skip
    products = call("GET", "/v1/subscriptions/products", lambda_context, key=TEST_CHANNEL)
    missing = call("DELETE", "/v1/subscriptions/s-none", lambda_context, params={"subscription_id": "s-none"},
                   key=TEST_CHANNEL)  # fmt: skip

    assert status == 201 and set(renewal) == {"order_id", "amount_fen", "pay_before", "test"}
    assert renewal["amount_fen"] == 300 and renewal["test"] is True
    assert paid == (200, {"order_id": renewal["order_id"], "status": "paid", "test": True})
    assert cancelled == (200, {"subscription_id": sid, "status": "cancelled", "test": True})
    assert found == (200, {"subscriptions": lookup(lambda_context), "test": True})
    assert products[1]["test"] is True and [p["product_id"] for p in products[1]["products"]] == [product.product_id]
    assert missing[0] == 404
    # The subscription is as it was: active, one period, no renewal order.
    assert kept() == before
    assert [s["status"] for s in lookup(lambda_context)] == ["active"]
    live_renewal = call("POST", f"/v1/subscriptions/{sid}/renewals", lambda_context, params=params)
    assert live_renewal[0] == 201 and live_renewal[1]["order_id"].startswith("o")


def test_a_channel_without_test_keys_settings_is_refused_its_code_as_the_live_key_is(aws, templates, lambda_context):
    twin_test_key()
    subscription_items.set_settings(OPS, None, templates["remind"], now=NOW)

    live = call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE})
    test = call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}, key=TEST_CHANNEL)

    assert live[0] == test[0] == 409 and live[1] == test[1]
    assert queued_batches(aws) == []
