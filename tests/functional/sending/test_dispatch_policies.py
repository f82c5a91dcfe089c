"""What the dispatcher checks before the carrier: opt-outs, frequency limits, the publicity
window, stopped sends and suspended offices; and the carrier's pushes: token, replies, inbox."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import inbox, message_store, optouts
from sms_platform.sending.message_items import MessageGroup

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import CALLBACK_TOKEN, push, receipts_event, replies_event
from tests.functional.sending.test_dispatch_send import MORNING, enqueue, lanes, phones, state_of  # noqa: F401


def reply(phone: str, content: str, sequence_id: int = 1) -> dict:
    return {
        "phone_number": phone,
        "send_time": "2024-05-06 10:00:00",
        "content": content,
        "sign_name": "威海社保",
        "dest_code": "1234",
        "sequence_id": sequence_id,
    }


def push_replies(lanes, items, token=CALLBACK_TOKEN):
    return push(replies_event(items, token), lanes.context)


@pytest.mark.parametrize("content", [" td ", "退订"])
def test_an_opt_out_reply_stops_publicity_but_not_transactional_messages(lanes, carrier_simulator, content):
    phone = phones(1)
    response = push_replies(lanes, [reply(phone[0], content)])
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"code": 0, "msg": "成功"}
    assert optouts.is_opted_out(crypto.keyed_hash(phone[0]))

    enqueue("publicity", "pub-opt", phone)
    enqueue("triggered", "event-opt", phone)
    lanes.run()

    publicity = state_of("pub-opt", phone[0])
    assert (publicity["state"], publicity["suppress_reason"]) == ("suppressed", "opt_out")
    assert state_of("event-opt", phone[0])["state"] == "sent"
    assert [m.out_id for m in carrier_simulator.sent] == ["event-opt"]


def test_other_replies_land_in_the_inbox_once_with_the_number_masked(lanes):
    phone = phones(1)[0]
    for _ in range(2):  # pushed twice
        assert push_replies(lanes, [reply(phone, "请问养老金什么时候发放？", 42)])["statusCode"] == 200
    replies, cursor = inbox.list_replies("2024-05")
    assert cursor is None
    assert replies == [
        {
            "reply_id": "42",
            "phone_masked": f"{phone[:3]}****{phone[-4:]}",
            "content": "请问养老金什么时候发放？",
            "sign_name": "威海社保",
            "dest_code": "1234",
            "send_time": "2024-05-06 10:00:00",
            "received_at": "2024-05-06T02:00:00+00:00",
        }
    ]
    assert not optouts.is_opted_out(crypto.keyed_hash(phone))


def test_a_push_without_the_right_token_is_refused_and_changes_nothing(lanes):
    from tests.events import api_event

    phone = phones(1)[0]
    for path, body in [
        ("inbound", [reply(phone, "TD")]),
        ("receipts", [{"phone_number": phone, "success": True, "out_id": "x"}]),
    ]:
        for token in (None, "", "wrong-token", CALLBACK_TOKEN + "x"):
            query = None if token is None else {"token": token}
            event = api_event("POST", f"/v1/carrier/{path}", body=body, query=query)
            response = push(event, lanes.context)
            assert response["statusCode"] == 401, (path, token)
            assert json.loads(response["body"])["error"]["code"] == "unauthenticated"
    assert not optouts.is_opted_out(crypto.keyed_hash(phone))


def test_a_malformed_push_body_is_a_clear_error(lanes):
    from tests.events import api_event

    cases = [("not json", 422), ('{"phone_number": "13800000000"}', 422), ('[{"success": true}]', 422), ("", 400)]
    for raw, status in cases:
        for path in ("receipts", "inbound"):
            event = api_event("POST", f"/v1/carrier/{path}", raw_body=raw, query={"token": CALLBACK_TOKEN})
            response = push(event, lanes.context)
            assert response["statusCode"] == status, (path, raw)
            error = json.loads(response["body"])["error"]
            assert set(error) >= {"code", "message"} and "13800000000" not in error["message"]


def test_the_same_template_to_the_same_number_waits_a_minute(lanes, carrier_simulator):
    phone = phones(1)
    enqueue("triggered", "event-a", phone)
    enqueue("triggered", "event-b", phone)
    lanes.run()
    times = sorted(m.sent_at for m in carrier_simulator.sent)
    assert len(times) == 2
    assert times[1] - times[0] >= timedelta(seconds=1)
    assert times[1].astimezone(BEIJING).minute != times[0].astimezone(BEIJING).minute
    assert all(not r["batchItemFailures"] for r in lanes.responses)  # waiting never counts as a failure


def test_the_same_template_at_most_five_times_an_hour(lanes, carrier_simulator):
    phone = phones(1)
    for n in range(6):
        enqueue("subscription", f"sub-{n}", phone)
    lanes.run()
    times = sorted(m.sent_at for m in carrier_simulator.sent)
    assert len(times) == 6
    first_hour = MORNING.replace(minute=0) + timedelta(hours=1)
    assert sum(t < first_hour for t in times) == 5  # the sixth waited for the next hour


def test_a_fourth_publicity_message_in_a_day_is_suppressed(lanes, carrier_simulator):
    phone = phones(1)
    for n in range(4):
        enqueue("publicity", f"pub-day-{n}", phone, template=f"SMS_20000{n}")
    lanes.run()
    assert len(carrier_simulator.sent) == 3
    states = [state_of(f"pub-day-{n}", phone[0]) for n in range(4)]
    suppressed = [s for s in states if s["state"] == "suppressed"]
    assert len(suppressed) == 1 and suppressed[0]["suppress_reason"] == "frequency_limit"


def test_publicity_outside_the_window_waits_for_eight_in_the_morning(lanes, carrier_simulator):
    lanes.clock.set(datetime(2024, 5, 6, 22, 30, tzinfo=BEIJING))
    numbers = phones(3)
    enqueue("publicity", "pub-night", numbers)
    enqueue("hangup", "call-night", phones(1, start=50))  # transactional: no window
    lanes.run()

    by_source = {m.out_id: m for m in carrier_simulator.sent}
    assert by_source["call-night"].sent_at.astimezone(BEIJING).hour == 22
    night = [m.sent_at.astimezone(BEIJING) for m in carrier_simulator.sent if m.out_id == "pub-night"]
    assert len(night) == 3
    opening = datetime(2024, 5, 7, 8, 0, tzinfo=BEIJING)
    assert all(opening <= t < opening + timedelta(minutes=16) for t in night)
    assert all(not r["batchItemFailures"] for r in lanes.responses)  # rescheduled, never retried


@pytest.mark.parametrize(
    ("scope", "key", "reason"), [("source", "pub-stop", "stopped_send"), ("office", "city", "suspended_office")]
)
def test_a_stopped_send_or_suspended_office_suppresses_what_is_still_queued(
    lanes, carrier_simulator, scope, key, reason
):
    numbers = phones(3)
    enqueue("publicity", "pub-stop", numbers)
    message_store.place_hold(scope, key, "审核人停止发送", MORNING)
    lanes.run()
    assert carrier_simulator.sent == []
    assert {(state_of("pub-stop", p)["state"], state_of("pub-stop", p)["suppress_reason"]) for p in numbers} == {
        ("suppressed", reason)
    }


def test_a_number_is_never_logged_in_clear(lanes, carrier_simulator, caplog):
    numbers = phones(2)
    enqueue("triggered", "event-log", numbers)
    lanes.run()
    body = [{"phone_number": numbers[0], "success": True, "out_id": "event-log", "biz_id": "1^0"}]
    push(receipts_event(body), lanes.context)
    push_replies(lanes, [reply(numbers[1], "你好", 7)])
    # Raw records (before the redacting formatter): nothing may rely on the safety net.
    logs = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "carrier call" in logs
    assert not any(p in logs for p in numbers)
    assert CALLBACK_TOKEN not in logs


def test_a_recipient_of_a_sealed_batch_over_a_limit_waits_alone_with_only_its_number(lanes, carrier_simulator):
    from sms_platform.sending import outbox
    from sms_platform.sending.messages import MessageState, QueuedBatch, message_id

    busy, free = phones(2)
    enqueue("targeted", "notice-first", [busy])
    lanes.step()  # busy has had this template this minute
    group = MessageGroup(
        kind="targeted", source_id="notice-sealed", office="city", batch_id="b-sealed", sign_name="威海社保",
        template_code="SMS_100001", template_id="tpl-1", template_version=1, parts=1,
    )  # fmt: skip
    hashes = [crypto.keyed_hash(p) for p in (busy, free)]
    mids = [message_id("notice-sealed", h) for h in hashes]
    created = message_store.record_many(group, list(zip(mids, hashes, ["m1", "m2"], strict=True)), "queued", MORNING)
    assert created == [None, None]
    again = message_store.record_many(group, list(zip(mids, hashes, ["m1", "m2"], strict=True)), "queued", MORNING)
    assert again == [MessageState.QUEUED, MessageState.QUEUED]  # found, not written twice
    batch = QueuedBatch(
        batch_id="b-sealed", kind="targeted", source_id="notice-sealed", office="city", sign_name="威海社保",
        template_code="SMS_100001", template_id="tpl-1", template_version=1, parts=1,
        message_ids=mids, phone_hashes=hashes,
        phones=crypto.seal_many([busy, free]),
    )  # fmt: skip
    outbox.send_batches([batch])

    lanes.step()
    assert [m.phone for m in carrier_simulator.sent if m.out_id == "notice-sealed"] == [free]
    waiting = lanes.pending("NormalQueue")
    assert len(waiting) == 1 and waiting[0]["message_ids"] == [mids[0]]
    assert crypto.open_many(waiting[0]["phones"]) == [busy]
    assert busy not in json.dumps(waiting[0])

    lanes.run()
    assert sorted(m.phone for m in carrier_simulator.sent if m.out_id == "notice-sealed") == sorted([busy, free])
    assert {state_of("notice-sealed", p)["state"] for p in (busy, free)} == {"sent"}


def test_a_redelivered_batch_leaves_a_finished_message_alone_even_when_its_window_is_full(lanes, carrier_simulator):
    """A batch is not read before its moves: a message no longer queued is recognised by its
    refused move, never delayed or counted because its number's window happens to be full."""
    from sms_platform.sending import outbox
    from sms_platform.sending.messages import QueuedBatch, SuppressReason, message_id

    busy, free = phones(2)
    enqueue("targeted", "notice-busy", [busy])
    lanes.step()  # busy has had this template this minute: its window is full
    hashes = [crypto.keyed_hash(p) for p in (busy, free)]
    mids = [message_id("notice-late", h) for h in hashes]
    group = MessageGroup(
        kind="targeted", source_id="notice-late", office="city", batch_id="b-late", sign_name="威海社保",
        template_code="SMS_100001", template_id="tpl-1", template_version=1, parts=1,
    )  # fmt: skip
    message_store.record_many(group, list(zip(mids, hashes, ["m1", "m2"], strict=True)), "queued", MORNING)
    assert message_store.suppress(mids[0], SuppressReason.STOPPED_SEND, MORNING)  # busy's ended before its turn
    batch = QueuedBatch(
        batch_id="b-late", kind="targeted", source_id="notice-late", office="city", sign_name="威海社保",
        template_code="SMS_100001", template_id="tpl-1", template_version=1, parts=1,
        message_ids=mids, phone_hashes=hashes, phones=crypto.seal_many([busy, free]),
    )  # fmt: skip
    outbox.send_batches([batch])

    lanes.step()
    assert [m.phone for m in carrier_simulator.sent if m.out_id == "notice-late"] == [free]
    assert state_of("notice-late", busy)["state"] == "suppressed"
    assert lanes.pending() == []  # nothing waits for busy's window to pass
