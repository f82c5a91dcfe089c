"""Faults on the dispatch path: a crash after the carrier answered, carrier 5xx, throttling,
timeouts after sending, refusals and frequency controls. Afterwards every recipient is in
exactly one final state and no number got the same message twice."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from collections import Counter

import pytest
from sms_platform.carrier import CarrierClient
from sms_platform.foundation import settings as platform_settings
from sms_platform.sending import message_store
from sms_platform.sending.messages import UNSETTLED_CODE, MessageState

from infra.carrier_simulator import CarrierSimulator
from tests.carrier_fixtures import TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import push, receipt_for, receipts_event
from tests.functional.sending.test_dispatch_send import enqueue, lanes, phones, state_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("lanes")


def short_timeouts(monkeypatch, simulator) -> None:
    """The dispatcher's carrier client gives up reading after 0.3 s (the simulator hangs longer)."""
    import sms_platform.carrier.client as client_module

    client = CarrierClient(simulator.url, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, timeout=(1.0, 0.3))
    monkeypatch.setattr(client_module, "carrier_client_from_environment", lambda: client)


def deliver_all_receipts(lanes, simulator) -> None:
    body = [receipt_for(m) for m in simulator.sent]
    assert push(receipts_event(body), lanes.context)["statusCode"] == 200


def assert_settled(simulator, source_id: str, numbers, *, final: set[str]) -> Counter:
    counts = Counter(m.phone for m in simulator.sent if m.out_id == source_id)
    assert simulator.duplicates() == [], "a number got the same message twice"
    assert all(c == 1 for c in counts.values())
    states = Counter(state_of(source_id, p)["state"] for p in numbers)
    assert set(states) <= final, states
    assert sum(states.values()) == len(numbers)
    return states


@pytest.mark.parametrize("hold", [None, "source", "office"], ids=["as-is", "then-stopped", "then-office-suspended"])
def test_a_crash_between_the_carrier_answer_and_the_sent_write_is_settled_not_resent(
    lanes,
    carrier_simulator,
    monkeypatch,
    hold,
):
    numbers = phones(4)
    enqueue("triggered", "event-crash", numbers)
    real_mark_sent_many = message_store.mark_sent_many
    crashes = []

    def crash_once(keys, *rest, **named):
        if not crashes:
            crashes.append(keys)
            raise ConnectionError("the function died before recording the send")
        return real_mark_sent_many(keys, *rest, **named)

    monkeypatch.setattr(message_store, "mark_sent_many", crash_once)
    lanes.step()
    assert lanes.responses[-1]["batchItemFailures"], "the crashed batch is reported failed and redelivered"
    assert {state_of("event-crash", p)["state"] for p in numbers} == {"sending"}
    if hold:  # stopped (or its office suspended) before the redelivery: the numbers already sent still settle
        message_store.place_hold(hold, "event-crash" if hold == "source" else "city", "停止", lanes.clock.now())

    lanes.run()

    assert len(carrier_simulator.sent) == 4  # settled with QuerySendDetails, not sent again
    assert {state_of("event-crash", p)["state"] for p in numbers} <= {"sent", "delivered"}
    deliver_all_receipts(lanes, carrier_simulator)
    assert assert_settled(carrier_simulator, "event-crash", numbers, final={"delivered"}) == {"delivered": 4}
    for phone in numbers:
        assert state_of("event-crash", phone)["biz_id"] == carrier_simulator.sent_to(phone)[0].biz_id


def hourly_counts(lanes, numbers: list[str]) -> list[int]:
    """Each number's count in this hour's window of the template ``enqueue`` uses."""
    from sms_platform.foundation import crypto
    from sms_platform.sending import frequency_limits
    from sms_platform.sending.lanes import SmsKind
    from sms_platform.sending.messages import LimitRules, limit_specs

    specs = limit_specs(LimitRules(), SmsKind.TARGETED, "SMS_100001", lanes.clock.now())
    hour = next(spec for spec in specs if spec.field == "hour")
    return [frequency_limits.usage(hour, crypto.keyed_hash(phone)) for phone in numbers]


@pytest.mark.parametrize("fault", [{"fail_rate": 1.0}, {"throttle_rate": 1.0}], ids=["http-500", "throttling"])
def test_a_transient_carrier_fault_is_retried_with_backoff_and_then_sent_once(lanes, carrier_simulator, fault):
    numbers = phones(3)
    enqueue("targeted", "notice-retry", numbers)
    carrier_simulator.set_faults(**fault)

    lanes.step()
    assert lanes.responses[-1]["batchItemFailures"]
    assert {state_of("notice-retry", p)["state"] for p in numbers} == {"queued"}
    assert 25 <= lanes.earliest_wait_seconds() <= 30  # invisible for the first backoff step, not 180 s
    assert hourly_counts(lanes, numbers) == [0, 0, 0]  # not sent: their frequency counts given back

    carrier_simulator.set_faults()
    lanes.run()
    assert sorted(m.phone for m in carrier_simulator.sent) == numbers
    assert hourly_counts(lanes, numbers) == [1, 1, 1]
    deliver_all_receipts(lanes, carrier_simulator)
    assert_settled(carrier_simulator, "notice-retry", numbers, final={"delivered"})


def test_a_carrier_that_stays_down_sends_the_batch_to_the_dead_letter_queue_unsent(lanes, carrier_simulator):
    numbers = phones(2)
    enqueue("triggered", "event-down", numbers)
    carrier_simulator.set_faults(fail_rate=1.0)
    lanes.run()
    assert carrier_simulator.sent == []
    dead = lanes.dead_letters("HighQueue")
    assert len(dead) == 1 and len(dead[0]["message_ids"]) == 2  # kept for redrive, nothing lost
    assert {state_of("event-down", p)["state"] for p in numbers} == {"queued"}


@pytest.mark.parametrize(
    "body", ["not json", '{"batch_id": "b1", "kind": "targeted"}', "[]"], ids=["not-json", "not-a-batch", "a-list"]
)
def test_a_message_that_is_not_a_batch_fails_alone_and_is_kept_in_the_dead_letter_queue(lanes, carrier_simulator, body):
    from sms_platform import aws

    numbers = phones(2)
    enqueue("targeted", "notice-beside", numbers)
    aws.client("sqs").send_message(QueueUrl=lanes.provisioned.queue_url("NormalQueue"), MessageBody=body)
    lanes.run()
    # The batch received beside it went out once; the message that is not one was kept as it came.
    assert sorted(m.phone for m in carrier_simulator.sent) == numbers
    assert {state_of("notice-beside", p)["state"] for p in numbers} == {"sent"}
    assert lanes.dead_letter_bodies("NormalQueue") == [body]


def test_a_timeout_after_sending_is_settled_by_asking_the_carrier(lanes, carrier_simulator, monkeypatch):
    short_timeouts(monkeypatch, carrier_simulator)
    numbers = phones(3)
    enqueue("hangup", "call-timeout", numbers)
    carrier_simulator.set_faults(hang_rate=1.0, hang_seconds=0.6)  # the send and the first look both time out

    lanes.step()
    assert len(carrier_simulator.sent) == 3  # the carrier did take them
    assert {state_of("call-timeout", p)["state"] for p in numbers} == {"sending"}
    settle_rounds = [b for b in lanes.pending("HighQueue") if b.get("action") == "settle"]
    assert len(settle_rounds) == 1

    carrier_simulator.set_faults()
    lanes.run()
    assert len(carrier_simulator.sent) == 3
    assert {state_of("call-timeout", p)["state"] for p in numbers} <= {"sent", "delivered"}
    deliver_all_receipts(lanes, carrier_simulator)
    assert_settled(carrier_simulator, "call-timeout", numbers, final={"delivered"})


def test_an_outcome_the_carrier_never_records_ends_failed_after_the_settle_rounds(
    lanes,
    carrier_simulator,
    monkeypatch,
):
    numbers = phones(2)
    enqueue("triggered", "event-lost", numbers)
    # The function died after marking the recipients sending, before the carrier was called.
    real_send_sms = CarrierClient.send_sms
    died = []

    def die_once(self, *args, **kwargs):
        if not died:
            died.append(True)
            raise SystemError("the function died")
        return real_send_sms(self, *args, **kwargs)

    monkeypatch.setattr(CarrierClient, "send_sms", die_once)
    lanes.run()
    assert carrier_simulator.sent == []  # never sent blindly: the outcome was unknown
    for phone in numbers:
        item = state_of("event-lost", phone)
        assert (item["state"], item.get("error_code")) == ("failed", UNSETTLED_CODE)


@pytest.mark.parametrize(
    ("shared", "sign_name", "code"),
    [
        ({"link": "www.example.com"}, "威海社保", "isv.PARAM_NOT_SUPPORT_URL"),
        ({"name": "很" * 40}, "威海社保", "isv.PARAM_LENGTH_LIMIT"),
        ({"name": "张三"}, "威", "isv.SMS_SIGNATURE_ILLEGAL"),
    ],
)
def test_a_refused_request_fails_its_recipients_with_the_carrier_code(
    lanes, carrier_simulator, shared, sign_name, code
):
    from sms_platform.sending import outbox

    numbers = phones(2)
    outbox.enqueue(
        "triggered",
        "event-refused",
        "city",
        sign_name,
        template_code="SMS_100001",
        template_id="tpl-1",
        template_version=1,
        parts=1,
        recipients=[(p, None) for p in numbers],
        shared_params=shared,
    )
    lanes.run()
    assert carrier_simulator.sent == []
    assert len(lanes.responses) == 1 and not lanes.responses[0]["batchItemFailures"]  # not retried
    for phone in numbers:
        item = state_of("event-refused", phone)
        assert (item["state"], item["error_code"]) == ("failed", code)


class BusyMessages:
    """The DynamoDB client, but a transaction moving one of ``busy`` (message keys) to
    ``sending`` is cancelled by a conflict, as when another transaction holds the item."""

    def __init__(self, client, busy: set[str]) -> None:
        self.client, self.busy = client, busy

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's name
        from botocore.exceptions import ClientError

        def conflicts(action) -> bool:
            update = action.get("Update", {})
            to = update.get("ExpressionAttributeValues", {}).get(":to")
            return to == {"S": "sending"} and update["Key"]["pk"]["S"] in self.busy

        if any(map(conflicts, TransactItems)):
            reasons = [{"Code": "TransactionConflict" if conflicts(a) else "None"} for a in TransactItems]
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
        return self.client.transact_write_items(TransactItems=TransactItems)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_recipients_left_queued_by_write_conflicts_go_out_again_in_a_fresh_message(
    lanes, carrier_simulator, monkeypatch
):
    from sms_platform import aws as platform_aws
    from sms_platform.foundation import crypto
    from sms_platform.sending.messages import message_id

    numbers = phones(4)
    enqueue("targeted", "notice-busy", numbers)
    busy = {f"msg#{message_id('notice-busy', crypto.keyed_hash(p))}" for p in numbers[2:]}
    real_client = platform_aws.client

    def client(service: str):
        return BusyMessages(real_client(service), busy) if service == "dynamodb" else real_client(service)

    with monkeypatch.context() as patched:
        patched.setattr(platform_aws, "client", client)
        lanes.step()
    assert sorted(m.phone for m in carrier_simulator.sent) == numbers[:2]
    assert [state_of("notice-busy", p)["state"] for p in numbers[2:]] == ["queued", "queued"]
    waiting = lanes.pending("NormalQueue")
    assert len(waiting) == 1 and len(waiting[0]["message_ids"]) == 2  # the two, in a message of their own
    assert not lanes.responses[-1]["batchItemFailures"]  # waiting is a new message, never a failed receive

    lanes.run()
    assert sorted(m.phone for m in carrier_simulator.sent) == numbers  # each once
    assert {state_of("notice-busy", p)["state"] for p in numbers} == {"sent"}


def test_carrier_frequency_control_is_retried_after_a_long_pause(lanes, carrier_simulator, monkeypatch):
    monkeypatch.setenv("LIMIT_SAME_TEMPLATE_PER_MINUTE", "50")
    monkeypatch.setenv("LIMIT_SAME_TEMPLATE_PER_HOUR", "50")
    platform_settings.reset()  # read the changed environment
    phone = phones(1)
    for n in range(6):  # the simulator allows one number five of one template a minute
        enqueue("triggered", f"event-burst-{n}", phone)
    lanes.run()
    assert len(carrier_simulator.sent) == 6
    times = sorted(m.sent_at for m in carrier_simulator.sent)
    assert (times[-1] - times[0]).total_seconds() >= 900  # the sixth waited out the carrier's control
    assert all(state_of(f"event-burst-{n}", phone[0])["state"] == "sent" for n in range(6))


def test_carrier_frequency_control_fails_the_message_after_three_retries(lanes, aws, monkeypatch):
    import sms_platform.carrier.client as client_module

    with CarrierSimulator(access_keys={TEST_ACCESS_KEY_ID: TEST_ACCESS_KEY_SECRET}, per_day_limit=1) as strict:
        client = CarrierClient(strict.url, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET)
        monkeypatch.setattr(client_module, "carrier_client_from_environment", lambda: client)
        phone = phones(1)
        enqueue("triggered", "event-day-1", phone)
        enqueue("triggered", "event-day-2", phone, template="SMS_100002")
        lanes.run()
        assert len(strict.sent) == 1
    item = state_of("event-day-2", phone[0])
    assert (item["state"], item["error_code"]) == (MessageState.FAILED, "isv.DAY_LIMIT_CONTROL")
    assert 2700 <= lanes.advanced_seconds < 3600  # three pauses of fifteen minutes


def test_a_broadcast_through_5xx_throttling_and_timeouts_ends_with_everyone_sent_once(
    lanes,
    carrier_simulator,
    monkeypatch,
):
    short_timeouts(monkeypatch, carrier_simulator)
    numbers = phones(40)
    enqueue("targeted", "notice-storm", numbers[:20], params=lambda p: {"n": p[-3:]})
    enqueue("targeted", "notice-storm", numbers[20:], params=lambda p: {"n": p[-3:]})
    carrier_simulator.set_faults(fail_rate=0.25, throttle_rate=0.25, hang_rate=0.25, hang_seconds=0.4)
    for _ in range(4):
        lanes.step()
    carrier_simulator.set_faults()
    lanes.run()

    deliver_all_receipts(lanes, carrier_simulator)
    states = assert_settled(carrier_simulator, "notice-storm", numbers, final={"delivered", "failed"})
    delivered = len({m.phone for m in carrier_simulator.sent})
    assert states["delivered"] == delivered
    assert states.get("failed", 0) == len(numbers) - delivered
    assert all(
        state_of("notice-storm", p).get("error_code") == UNSETTLED_CODE
        for p in numbers
        if state_of("notice-storm", p)["state"] == "failed"
    )
