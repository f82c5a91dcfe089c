"""The number-health loop through the real handlers on moto: sends, the carrier simulator, its
receipts through the push route and worker, the dispatcher.

A number that fails permanently (空号, 停机) twice across sends is marked for verification and
later sends end it ``undeliverable`` (号码待核实) without paying the carrier; other failures never
mark a number; a blocked number is sent nothing, whatever sends to it, until it is unblocked."""

from __future__ import annotations

from collections import Counter

import pytest
from sms_platform.foundation import crypto
from sms_platform.sending import message_store, number_health, outbox
from sms_platform.sending.messages import message_id

from tests.contacts_support import mobile
from tests.functional.dispatch_support import push, receipt_for, receipts_event
from tests.functional.sends_support import (
    HUANCUI,
    WENDENG,
    active_template,
    add_people,
    approved_request,
    detail,
    sends,  # noqa: F401
)
from tests.staff_calls import call

EMPTY, SUSPENDED, SWITCHED_OFF = "DB:0101", "UNDELIV", "MI:0024"


def send_once(world, template_id: str) -> str:
    """A send request to every Wendeng contact, approved, released and dispatched."""
    request_id = approved_request(world, template_id)
    world.release()
    world.pump.run()
    return request_id


def report(world, request_id: str, codes: dict[str, str]) -> None:
    """The carrier's receipts for one send: the numbers in ``codes`` fail with their code."""
    sent = [m for m in world.simulator.sent if m.out_id == f"send:{request_id}"]
    receipts = [receipt_for(m, success=m.phone not in codes, err_code=codes.get(m.phone, "DELIVERED")) for m in sent]
    assert push(receipts_event(receipts), world.pump.context)["statusCode"] == 200


def reached(world, request_id: str) -> set[str]:
    return {m.phone for m in world.simulator.sent if m.out_id == f"send:{request_id}"}


def state_of(request_id: str, phone: str) -> dict:
    item = message_store.get(message_id(f"send:{request_id}", crypto.keyed_hash(phone)))
    assert item is not None
    return item


def test_two_permanent_failures_across_sends_hold_a_number_and_later_sends_do_not_pay_for_it(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(4)
    codes = {mobile(0): EMPTY, mobile(1): SWITCHED_OFF, mobile(2): SUSPENDED}

    first = send_once(sends, template_id)
    report(sends, first, codes)
    after_one = {phone: number_health.state(crypto.keyed_hash(phone)) for phone in codes}
    # A receipt the carrier pushes again changes nothing more.
    report(sends, first, codes)
    second = send_once(sends, template_id)
    report(sends, second, {mobile(0): EMPTY, mobile(1): SWITCHED_OFF, mobile(2): EMPTY})
    third = send_once(sends, template_id)

    assert all(not (state or {}).get("unverified") for state in after_one.values())  # one failure is not enough
    assert reached(sends, first) == reached(sends, second) == {mobile(i) for i in range(4)}
    # 空号 then 空号, and 停机 then 空号, mark; 关机 twice does not.
    assert reached(sends, third) == {mobile(1), mobile(3)}
    for phone in (mobile(0), mobile(2)):
        item = state_of(third, phone)
        assert (item["state"], item["reason"]) == ("undeliverable", "number_unverified")
        assert "biz_id" not in item and "sending_at" not in item  # never handed to the carrier
    held = number_health.state(crypto.keyed_hash(mobile(0)))
    assert held["unverified"] and held["phone_masked"] == "139****0000"
    assert [f["source_id"] for f in held["failures"]] == [f"send:{first}", f"send:{second}"]
    assert [f["error_code"] for f in held["failures"]] == [EMPTY, EMPTY]
    progress = detail(third)["progress"]
    assert progress["states"]["undeliverable"] == 2 and progress["sent"] == 2
    assert Counter(m.phone for m in sends.simulator.sent)[mobile(0)] == 2  # paid for twice, never again


def test_the_mark_waits_for_the_configured_number_of_failures(sends, monkeypatch):  # noqa: F811
    from sms_platform.foundation import settings as platform_settings

    monkeypatch.setenv("NUMBER_CHECK_FAILURES", "3")
    platform_settings.reset()
    template_id = active_template(sends.clock)
    add_people(2)
    for _ in range(2):
        report(sends, send_once(sends, template_id), {mobile(0): EMPTY})
    third = send_once(sends, template_id)
    held_before_third = number_health.state(crypto.keyed_hash(mobile(0))) or {}
    report(sends, third, {mobile(0): EMPTY})
    fourth = send_once(sends, template_id)

    assert not held_before_third.get("unverified")
    assert mobile(0) in reached(sends, third)
    assert reached(sends, fourth) == {mobile(1)}


def queue(kind: str, source: str, phone: str) -> None:
    """A message of ``kind`` for ``phone`` queued as every channel queues (the outbox)."""
    outbox.enqueue(kind, source, "city", "威海市社会保险事业中心", template_code="SMS_1", template_id="t1",
                   template_version=1, parts=1, recipients=[(phone, None)])  # fmt: skip


def test_a_blocked_number_is_sent_nothing_from_any_source_until_unblocked(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(3)
    blocked = call(
        WENDENG, "POST", "/v1/staff/number-blocks", {"phone": mobile(1), "reason": "本人投诉骚扰，要求不再发送"}
    )
    again = call(WENDENG, "POST", "/v1/staff/number-blocks", {"phone": mobile(1), "reason": "重复操作"})

    request_id = send_once(sends, template_id)
    for kind in ("triggered", "hangup", "subscription", "system", "publicity"):
        queue(kind, f"{kind}-src-1", mobile(1))
    sends.pump.run()
    elsewhere = call(HUANCUI, "POST", "/v1/staff/number-blocks/release", {"phone": mobile(1), "reason": "误操作"})
    released = call(
        WENDENG, "POST", "/v1/staff/number-blocks/release", {"phone": mobile(1), "reason": "本人来电要求恢复"}
    )
    queue("triggered", "triggered-src-2", mobile(1))
    sends.pump.run()

    assert blocked.status == 200, blocked.body
    assert blocked.body["phone_masked"] == "139****0001" and blocked.body["blocked"] and blocked.body["applied"]
    assert blocked.body["office_name"] == "文登区" and blocked.body["reason"] == "本人投诉骚扰，要求不再发送"
    assert again.status == 200 and again.body["applied"] is False
    assert reached(sends, request_id) == {mobile(0), mobile(2)}
    item = state_of(request_id, mobile(1))
    assert (item["state"], item["suppress_reason"]) == ("suppressed", "blocked")
    for kind in ("triggered", "hangup", "subscription", "system", "publicity"):
        held = message_store.get(message_id(f"{kind}-src-1", crypto.keyed_hash(mobile(1))))
        assert (held["state"], held["suppress_reason"]) == ("suppressed", "blocked"), kind
    assert elsewhere.status == 403 and elsewhere.error["message"] == "只能解除本单位列入黑名单的号码"
    assert released.status == 200 and released.body["blocked"] is False and released.body["applied"]
    assert [m.out_id for m in sends.simulator.sent if m.phone == mobile(1)] == ["triggered-src-2"]


def test_a_hang_up_answer_still_reaches_a_number_held_for_verification(sends):  # noqa: F811
    # The caller has just called from it; a verification code is how a number proves itself.
    number_health.note_failure(_failed(mobile(5), "send:a"), at=sends.clock.now(), threshold=2)
    number_health.note_failure(_failed(mobile(5), "send:b"), at=sends.clock.now(), threshold=2)
    for kind in ("hangup", "system", "triggered"):
        queue(kind, f"{kind}-held-1", mobile(5))
    sends.pump.run()

    assert sorted(m.out_id for m in sends.simulator.sent) == ["hangup-held-1", "system-held-1"]
    held = message_store.get(message_id("triggered-held-1", crypto.keyed_hash(mobile(5))))
    assert (held["state"], held["reason"]) == ("undeliverable", "number_unverified")


def _failed(phone: str, source: str) -> dict:
    phone_hash = crypto.keyed_hash(phone)
    return {
        "message_id": message_id(source, phone_hash), "phone_hash": phone_hash, "phone_masked": phone[:3] + "****",
        "source_id": source, "kind": "targeted", "template_id": "t1", "error_code": EMPTY, "state": "failed",
        "created_at": "2025-03-01T10:00:00+08:00",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("who", "body", "status", "message"),
    [
        (WENDENG, {"phone": mobile(1), "reason": "x"}, 422, None),
        (WENDENG, {"phone": "1390000", "reason": "号码有误"}, 422, "手机号码格式不正确"),
        (WENDENG, {"reason": "缺少号码"}, 422, None),
        (HUANCUI, {"phone": mobile(1), "reason": "不是本区县的号码"}, 403, "只能将本区县通讯录中的号码列入黑名单"),
    ],
)
def test_blocking_refuses_bad_input_and_other_districts_numbers(sends, who, body, status, message):  # noqa: F811
    add_people(2)
    answer = call(who, "POST", "/v1/staff/number-blocks", body)

    assert answer.status == status, answer.body
    if message:
        assert answer.error["message"].startswith(message)
    assert not (number_health.state(crypto.keyed_hash(mobile(1))) or {}).get("blocked")
    assert mobile(1) not in str(answer.body)
