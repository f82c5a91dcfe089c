"""Tencent's pushes through the platform's routes (CONTRACTS §8): receipts find their message by
the SerialNo its send recorded and land as Alibaba's do; replies opt numbers out (§1's words) or
go to the inbox; the token rule, the answer, and a receipt that comes before its send's answer."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime

import pytest
from sms_platform.carrier.base import CarrierTemplate
from sms_platform.carrier.tencent import TencentClient
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.sending import inbox, message_store, optouts, outbox
from sms_platform.sending.messages import message_id

from infra.tencent_simulator.receipts import receipt
from tests.events import api_event
from tests.functional.dispatch_support import CALLBACK_TOKEN, _moto_queue, push, record_queued_pushes
from tests.tencent_fixtures import TEST_SDK_APP_ID, TEST_SECRET_ID, TEST_SECRET_KEY

MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=BEIJING)
TEMPLATE = CarrierTemplate("1001", ("name",))
ACCEPTED = {"result": 0, "errmsg": "OK"}


@pytest.fixture
def platform(aws, tencent_simulator, lambda_context):
    crypto.reset()
    clock = FixedClock(MORNING)
    set_clock(clock)
    tencent_simulator.file_template("1001", "{1}您好，您的养老金已发放。")
    tencent_simulator.receipt_delay = 0.02
    client = TencentClient(tencent_simulator.url, TEST_SECRET_ID, TEST_SECRET_KEY, TEST_SDK_APP_ID)
    yield tencent_simulator, client, lambda_context
    client.close()
    set_clock(None)
    crypto.reset()


def phones(n: int) -> list[str]:
    return [f"1390000{i:04d}" for i in range(n)]


def send_through_tencent(client, source_id: str, numbers: list[str], *, record_ids: bool = True) -> dict[str, str]:
    """Queue the messages and hand them to Tencent as the dispatcher does: ``queued → sending``,
    the send, ``sent`` with each number's SerialNo recorded. The message id of each number."""
    outbox.enqueue("publicity", source_id, "city", "威海社保", template_code="1001", template_id="tpl-1",
                   template_version=1, parts=1, recipients=[(p, None) for p in numbers],
                   shared_params={"name": "张三"})  # fmt: skip
    now = datetime.now(BEIJING)
    mids = {p: message_id(source_id, crypto.keyed_hash(p)) for p in numbers}
    for mid in mids.values():
        assert message_store.mark_sending(mid, uuid.uuid4().hex, source_id, now)
    result = client.send(numbers, "威海社保", TEMPLATE, {"name": "张三"}, source_id)
    assert result.ok
    for mid in mids.values():
        message_store.mark_sent(mid, None, now)
    if record_ids:
        ids = result.carrier_ids()
        message_store.record_carrier_ids("tencent", {mids[p]: ids[p] for p in numbers}, now)
    return mids


def receipts_of(simulator, source_id: str) -> list[dict]:
    deadline = time.monotonic() + 5
    while any(m.status == "waiting" for m in simulator.sent_with(source_id)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [receipt(m) for m in simulator.sent_with(source_id)]


def tencent_push(kind: str, items, context, token: str = CALLBACK_TOKEN) -> dict:
    event = api_event("POST", f"/v1/carrier/tencent/{kind}", body=items, query={"token": token})
    return push(event, context)


def test_receipts_find_their_messages_by_serial_and_land_once(platform):
    simulator, client, context = platform
    numbers = phones(3)
    simulator.set_undelivered({numbers[2]: "DB:0101"})
    mids = send_through_tencent(client, "send#tc-1", numbers)
    items = receipts_of(simulator, "send#tc-1")

    for _ in range(2):  # pushed twice: the second changes nothing
        answer = tencent_push("receipts", items, context)
        assert (answer["statusCode"], json.loads(answer["body"])) == (200, ACCEPTED)
    states = {p: message_store.get(mids[p]) for p in numbers}
    assert [states[p]["state"] for p in numbers] == ["delivered", "delivered", "failed"]
    assert (states[numbers[2]]["error_code"], states[numbers[2]]["error_message"]) == ("DB:0101", "用户短信未送达")
    by_phone = {m.phone: m.serial_no for m in simulator.sent}
    assert {p: (states[p]["carrier"], states[p]["carrier_id"]) for p in numbers} == {
        p: ("tencent", by_phone[p]) for p in numbers
    }


def test_a_receipt_before_its_send_is_recorded_waits_and_then_lands(platform):
    simulator, client, context = platform
    [number] = phones(1)
    mids = send_through_tencent(client, "send#tc-2", [number], record_ids=False)
    items = receipts_of(simulator, "send#tc-2")
    assert tencent_push("receipts", items, context)["statusCode"] == 200
    assert message_store.get(mids[number])["state"] == "sent"  # not found yet: queued again, later

    message_store.record_carrier_ids("tencent", {mids[number]: simulator.sent[0].serial_no}, datetime.now(BEIJING))
    for waiting in _moto_queue(os.environ["PUSH_QUEUE_URL"])._messages:
        waiting.delayed_until = 0  # the minute it waits has passed
    assert record_queued_pushes(context) == 1
    assert message_store.get(mids[number])["state"] == "delivered"


def test_a_receipt_no_message_was_sent_with_is_ignored(platform):
    _, _, context = platform
    item = {"user_receive_time": "2024-05-06 10:00:05", "nationcode": "86", "mobile": "13900000001",
            "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功",
            "sid": "2433:404"}  # fmt: skip
    assert tencent_push("receipts", [item], context)["statusCode"] == 200
    for _ in range(3):  # queued again twice, then given up
        for waiting in _moto_queue(os.environ["PUSH_QUEUE_URL"])._messages:
            waiting.delayed_until = 0
        record_queued_pushes(context)
    assert _moto_queue(os.environ["PUSH_QUEUE_URL"])._messages == []


@pytest.mark.parametrize("content", ["退订", " td ", "R", "t"])
def test_an_opt_out_reply_opts_the_number_out(platform, content):
    _, _, context = platform
    number = "13900001234"
    item = {"extend": "", "mobile": number, "nationcode": "86", "sign": "威海社保", "text": content, "time": 1714960800}
    answer = tencent_push("inbound", [item], context)
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, ACCEPTED)
    assert optouts.is_opted_out(crypto.keyed_hash(number))


def test_other_replies_land_in_the_inbox_once_with_the_number_masked(platform):
    _, _, context = platform
    number = "13900005678"
    item = {"extend": "01", "mobile": number, "nationcode": "86", "sign": "威海社保",
            "text": "请问养老金什么时候发放？", "time": 1714960800}  # fmt: skip
    for _ in range(2):
        assert tencent_push("inbound", [item], context)["statusCode"] == 200
    replies, _ = inbox.list_replies("2024-05")
    assert [(r["phone_masked"], r["content"], r["send_time"], r["dest_code"]) for r in replies] == [
        ("139****5678", "请问养老金什么时候发放？", "2024-05-06 10:00:00", "01")
    ]
    assert not optouts.is_opted_out(crypto.keyed_hash(number))


@pytest.mark.parametrize("kind", ["receipts", "inbound"])
def test_a_push_without_the_right_token_is_refused_and_queues_nothing(platform, kind):
    _, _, context = platform
    answer = tencent_push(kind, [], context, token="wrong")
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"]["message"] == "回调令牌无效"
    assert _moto_queue(os.environ["PUSH_QUEUE_URL"])._messages == []


@pytest.mark.parametrize(
    ("kind", "item"),
    [
        ("receipts", {"mobile": "13900000001", "report_status": "MAYBE", "sid": "2433:1"}),
        ("receipts", {"mobile": "13900000001", "report_status": "SUCCESS"}),
        ("inbound", {"text": "TD"}),
    ],
)
def test_a_malformed_push_is_422_and_queues_nothing(platform, kind, item):
    _, _, context = platform
    assert tencent_push(kind, [item], context)["statusCode"] == 422
    assert _moto_queue(os.environ["PUSH_QUEUE_URL"])._messages == []
