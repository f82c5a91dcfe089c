"""The dispatch path through the real handlers on moto, against the carrier simulator:
queued batches sent once per recipient, states recorded, receipts landing in any order."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.sending import message_store, outbox
from sms_platform.sending.messages import FINAL_STATES, MessageState, message_id

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import LaneRunner, push, receipt_for, receipts_event

MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def lanes(aws, carrier_simulator, lambda_context):
    crypto.reset()
    clock = FixedClock(MORNING)
    set_clock(clock)
    yield LaneRunner(aws, clock, lambda_context)
    set_clock(None)
    crypto.reset()


def phones(n: int, start: int = 0) -> list[str]:
    return [f"1380000{i:04d}" for i in range(start, start + n)]


def enqueue(kind: str, source_id: str, numbers, *, params=None, shared=None, template="SMS_100001", **extra):
    return outbox.enqueue(
        kind,
        source_id,
        "city",
        "威海社保",
        template_code=template,
        template_id="tpl-1",
        template_version=1,
        parts=1,
        recipients=[(p, params(p) if params else None) for p in numbers],
        shared_params=shared,
        **extra,
    )


def state_of(source_id: str, phone: str) -> dict:
    return message_store.get(message_id(source_id, crypto.keyed_hash(phone)))


def assert_each_once_and_final(simulator, source_id: str, numbers, allowed=FINAL_STATES | {MessageState.SENT}):
    counts = Counter(m.phone for m in simulator.sent if m.out_id == source_id)
    assert all(c == 1 for c in counts.values()), "a number got the same message twice"
    assert simulator.duplicates() == []
    for phone in numbers:
        assert state_of(source_id, phone)["state"] in allowed


def test_a_queued_batch_reaches_the_carrier_once_per_number_and_is_recorded_sent(lanes, carrier_simulator):
    numbers = phones(3)
    result = enqueue("triggered", "event-1", numbers + [numbers[0]], shared={"name": "张三"})
    assert (result.queued, result.duplicates) == (3, 1)
    assert len(lanes.pending("HighQueue")) == 1  # one SQS message carries the whole batch

    lanes.run()

    assert sorted(m.phone for m in carrier_simulator.sent) == numbers
    assert {m.action for m in carrier_simulator.sent} == {"SendSms"}  # identical texts: one SendSms
    for phone in numbers:
        item = state_of("event-1", phone)
        assert item["state"] == "sent"
        assert item["biz_id"] == carrier_simulator.sent_to(phone)[0].biz_id
        assert item["phone_masked"] == f"{phone[:3]}****{phone[-4:]}"
        assert phone not in str(item)


def test_different_texts_go_as_one_send_batch_sms(lanes, carrier_simulator):
    numbers = phones(4)
    enqueue("targeted", "notice-7", numbers, params=lambda p: {"amount": p[-2:]})
    lanes.run()
    assert {m.action for m in carrier_simulator.sent} == {"SendBatchSms"}
    assert {m.phone: m.params["amount"] for m in carrier_simulator.sent} == {p: p[-2:] for p in numbers}
    assert len({m.biz_id for m in carrier_simulator.sent}) == 1


def test_a_hundred_and_twenty_recipients_make_two_batches_on_the_bulk_lane(lanes, carrier_simulator):
    numbers = phones(120)
    result = enqueue("publicity", "pub-1", numbers)
    assert len(result.batch_ids) == 2
    assert sorted(len(b["message_ids"]) for b in lanes.pending("BulkQueue")) == [20, 100]
    assert lanes.pending("HighQueue") == [] and lanes.pending("NormalQueue") == []
    lanes.run()
    assert len(carrier_simulator.sent) == 120
    assert_each_once_and_final(carrier_simulator, "pub-1", numbers)


def test_the_same_sqs_message_delivered_twice_reaches_each_number_once(lanes, carrier_simulator):
    numbers = phones(5)
    enqueue("triggered", "event-2", numbers)
    url = lanes.provisioned.queue_url("HighQueue")
    event = lanes.receive_event(url)
    lanes.invoke(event, url)
    lanes.invoke(event, url)  # at-least-once delivery: the very same record again

    assert len(carrier_simulator.sent) == 5
    assert_each_once_and_final(carrier_simulator, "event-2", numbers, allowed={MessageState.SENT})


def test_enqueueing_the_same_source_again_queues_nobody_twice(lanes, carrier_simulator):
    numbers = phones(3)
    enqueue("hangup", "call-9", numbers)
    lanes.run()
    again = enqueue("hangup", "call-9", numbers)
    assert (again.queued, again.duplicates) == (0, 3)
    lanes.run()
    assert len(carrier_simulator.sent) == 3


def test_receipts_set_delivered_or_failed_and_repeats_change_nothing(lanes, carrier_simulator):
    numbers = phones(2)
    enqueue("triggered", "event-3", numbers)
    lanes.run()
    first, second = (carrier_simulator.sent_to(p)[0] for p in numbers)
    body = [receipt_for(first), receipt_for(second, success=False, err_code="MK:0001")]

    for _ in range(2):  # the carrier may push the same receipts again
        response = push(receipts_event(body), lanes.context)
        assert response["statusCode"] == 200
        assert '"code":0' in response["body"].replace(" ", "")

    assert state_of("event-3", numbers[0])["state"] == "delivered"
    failed = state_of("event-3", numbers[1])
    assert (failed["state"], failed["error_code"]) == ("failed", "MK:0001")


def test_a_receipt_that_arrives_before_the_sent_write_lands_and_is_kept(lanes, carrier_simulator, monkeypatch):
    numbers = phones(2)
    enqueue("triggered", "event-4", numbers)
    real_mark_sent_many = message_store.mark_sent_many

    def receipt_first(keys, *rest, **named):
        # The carrier's receipts overtake the dispatcher's own writes.
        for key in keys:
            mid = key["pk"]["S"].removeprefix("msg#")
            sent = [m for m in carrier_simulator.sent if message_id("event-4", crypto.keyed_hash(m.phone)) == mid]
            push(receipts_event([receipt_for(sent[0])]), lanes.context)
        return real_mark_sent_many(keys, *rest, **named)

    monkeypatch.setattr(message_store, "mark_sent_many", receipt_first)
    lanes.run()

    for phone in numbers:
        item = state_of("event-4", phone)
        assert item["state"] == "delivered"
        assert item["biz_id"] == carrier_simulator.sent_to(phone)[0].biz_id
    assert len(carrier_simulator.sent) == 2


def test_a_receipt_for_an_unknown_message_is_acknowledged_and_ignored(lanes):
    body = [{"phone_number": "13800009999", "success": True, "out_id": "nobody", "biz_id": "1^0"}]
    response = push(receipts_event(body), lanes.context)
    assert response["statusCode"] == 200
    assert message_store.get(message_id("nobody", crypto.keyed_hash("13800009999"))) is None
