"""Routing and failover through the real handlers on moto, against both carrier simulators: a
carrier down in the middle of a broadcast, a timeout settled at its own carrier, receipts from
both carriers for one broadcast, and a template approved at one carrier only. Afterwards every
recipient is in one final state and no number got the message twice (both simulators' logs)."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from sms_platform.carrier import CarrierClient
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.sending import carrier_health_counts, carrier_rotation, message_store, outbox
from sms_platform.sending.lanes import Lane
from sms_platform.sending.messages import message_id
from sms_platform.staff.context import Office
from sms_platform.templates import workflow

from infra.tencent_simulator.receipts import receipt as tencent_receipt
from tests import template_support
from tests.carrier_fixtures import TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET
from tests.events import api_event
from tests.functional.dispatch_support import (
    CALLBACK_TOKEN,
    lanes_with_both_carriers,
    push,
    receipt_for,
    receipts_event,
)

MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=BEIJING)
TEXT = "${unit}提醒您：本年度社保缴费基数申报将于${date}截止，请及时办理。"
VARIABLES = [{"name": "unit", "type": "text", "max_length": 10}, {"name": "date", "type": "date", "max_length": 10}]
VALUES = {"unit": "文登社保", "date": "2025-03-31"}


@pytest.fixture
def lanes(aws, carrier_simulator, tencent_simulator, lambda_context):
    with lanes_with_both_carriers(aws, tencent_simulator, lambda_context, MORNING) as runner:
        yield runner


def template(clock, *, text: str = TEXT) -> tuple[str, str]:
    """An active targeted-notice template filed with both carriers: its id and Alibaba's code."""
    template_id = template_support.active_template(
        clock, category="targeted", office=Office.city, text=text, variables=VARIABLES, name="缴费基数申报提醒"
    )
    version = workflow.find_template(template_id).numbered(1)
    return template_id, version.carrier_code or ""


def phones(n: int, start: int = 0) -> list[str]:
    return [f"1390000{i:04d}" for i in range(start, start + n)]


def enqueue(kind: str, source_id: str, numbers: list[str], template_id: str, code: str):
    return outbox.enqueue(
        kind, source_id, "city", "威海社保", template_code=code, template_id=template_id, template_version=1, parts=1,
        recipients=[(p, None) for p in numbers], shared_params=VALUES,
    )  # fmt: skip


def message_of(source_id: str, phone: str) -> dict:
    return message_store.get(message_id(source_id, crypto.keyed_hash(phone)))


def sent_by(simulator, source_id: str) -> list[str]:
    return [m.phone for m in simulator.sent if m.out_id == source_id]


def assert_once_each(alibaba, tencent, source_id: str, numbers: list[str]) -> tuple[set[str], set[str]]:
    """Every number reached exactly once, through one carrier or the other."""
    by_alibaba, by_tencent = sent_by(alibaba, source_id), sent_by(tencent, source_id)
    assert alibaba.duplicates() == [] and tencent.duplicates() == []
    assert len(by_alibaba) == len(set(by_alibaba)) and len(by_tencent) == len(set(by_tencent))
    assert set(by_alibaba).isdisjoint(by_tencent), "a number got the same message through both carriers"
    assert sorted(by_alibaba + by_tencent) == sorted(numbers)
    return set(by_alibaba), set(by_tencent)


def wait_for_tencent_reports(simulator, source_id: str) -> None:
    deadline = time.monotonic() + 10
    while any(m.status == "waiting" for m in simulator.sent_with(source_id)) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_carrier_down_mid_broadcast_sends_the_rest_through_the_other_each_number_once(
    lanes, carrier_simulator, tencent_simulator, monkeypatch
):
    template_id, code = template(lanes.clock)
    numbers = phones(500)
    enqueue("publicity", "send#failover-1", numbers, template_id, code)
    handed = []
    real_mark_sent_many = message_store.mark_sent_many

    def alibaba_fails_after_two_batches(keys, *rest, **named):
        handed.append(len(keys))
        if len(handed) == 2:  # the middle of the broadcast: Alibaba starts answering 500
            carrier_simulator.set_faults(fail_rate=1.0)
        return real_mark_sent_many(keys, *rest, **named)

    monkeypatch.setattr(message_store, "mark_sent_many", alibaba_fails_after_two_batches)
    lanes.run()

    by_alibaba, by_tencent = assert_once_each(carrier_simulator, tencent_simulator, "send#failover-1", numbers)
    assert (len(by_alibaba), len(by_tencent)) == (200, 300)
    assert all(not r.get("batchItemFailures") for r in lanes.responses)  # taken over at once, no retry
    serials = {m.phone: m.serial_no for m in tencent_simulator.sent}
    for phone in numbers:
        item = message_of("send#failover-1", phone)
        assert item["state"] == "sent"
        if phone in by_tencent:
            assert (item["carrier"], item["carrier_id"]) == ("tencent", serials[phone])
        else:
            assert item["carrier"] == "alibaba" and item["biz_id"]
    # Tencent's messages use its own template id and positional values.
    assert {m.params[0] for m in tencent_simulator.sent} == {VALUES["unit"]}

    # Receipts from both carriers for the one broadcast: every recipient ends delivered.
    alibaba_receipts = [receipt_for(m) for m in carrier_simulator.sent]
    assert push(receipts_event(alibaba_receipts), lanes.context)["statusCode"] == 200
    wait_for_tencent_reports(tencent_simulator, "send#failover-1")
    body = [tencent_receipt(m) for m in tencent_simulator.sent_with("send#failover-1")]
    event = api_event("POST", "/v1/carrier/tencent/receipts", body=body, query={"token": CALLBACK_TOKEN})
    assert push(event, lanes.context)["statusCode"] == 200
    assert {message_of("send#failover-1", p)["state"] for p in numbers} == {"delivered"}

    # The health view's counters: what each carrier took and refused in this minute.
    alibaba = carrier_health_counts.minutes("alibaba", [MORNING])[MORNING]
    tencent = carrier_health_counts.minutes("tencent", [MORNING])[MORNING]
    # Once Alibaba refused, the next batches went to Tencent first instead of waiting for its refusal.
    assert (alibaba["sent"], alibaba["retry"], alibaba["latency_n"]) == (200, 100, 3)
    assert (tencent["sent"], tencent.get("retry", 0), tencent["latency_n"]) == (300, 0, 3)


def test_a_timeout_is_settled_at_its_carrier_and_never_resent_through_the_other(
    lanes, carrier_simulator, tencent_simulator, monkeypatch
):
    import sms_platform.carrier.client as client_module

    template_id, code = template(lanes.clock)
    impatient = CarrierClient(carrier_simulator.url, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, timeout=(1.0, 0.3))
    monkeypatch.setattr(client_module, "carrier_client_from_environment", lambda: impatient)
    numbers = phones(3)
    enqueue("hangup", "call#timeout-1", numbers, template_id, code)
    carrier_simulator.set_faults(hang_rate=1.0, hang_seconds=0.6)  # the send and the first look both time out

    lanes.step()
    assert sent_by(carrier_simulator, "call#timeout-1") == numbers  # Alibaba did take them
    assert {message_of("call#timeout-1", p)["state"] for p in numbers} == {"sending"}
    [settle] = [b for b in lanes.pending("HighQueue") if b.get("action") == "settle"]
    assert settle["carrier"] == "alibaba"

    carrier_simulator.set_faults()
    lanes.run()
    assert tencent_simulator.sent == []  # never resent through Tencent
    assert_once_each(carrier_simulator, tencent_simulator, "call#timeout-1", numbers)
    for phone in numbers:
        item = message_of("call#timeout-1", phone)
        assert (item["state"], item["carrier"]) in {("sent", "alibaba"), ("delivered", "alibaba")}


@pytest.mark.parametrize("only", ["alibaba", "tencent"])
def test_a_template_approved_at_one_carrier_only_never_goes_to_the_other(
    lanes, carrier_simulator, tencent_simulator, only
):
    other = tencent_simulator if only == "alibaba" else carrier_simulator
    used = carrier_simulator if only == "alibaba" else tencent_simulator
    other.reject_words = ("申报",)  # the other carrier's review rejects the text
    template_id, code = template(lanes.clock)
    filings = workflow.find_template(template_id).numbered(1).carrier_filings
    assert {name: f.state for name, f in filings.items()} == {
        only: "approved",
        ("tencent" if only == "alibaba" else "alibaba"): "rejected",
    }
    # The lane weighs the other carrier alone: it still cannot carry this template.
    weights = {"alibaba": 0, "tencent": 100} if only == "alibaba" else {"alibaba": 100, "tencent": 0}
    carrier_rotation.put_lane_weights(Lane.NORMAL, weights, "it-ops", MORNING)
    numbers = phones(150)
    enqueue("targeted", "send#one-carrier", numbers, template_id, code)

    lanes.step()
    assert sorted(sent_by(used, "send#one-carrier")) == numbers
    assert other.sent == []

    # Down at the one carrier that approved it: the batch waits for it, never goes to the other.
    used.set_faults(fail_rate=1.0)
    later = phones(3, start=500)  # numbers of their own: the per-minute limit would only delay the others
    enqueue("targeted", "send#one-carrier-2", later, template_id, code)
    lanes.step()
    assert lanes.responses[-1]["batchItemFailures"]
    assert other.sent == []
    assert {message_of("send#one-carrier-2", p)["state"] for p in later} == {"queued"}
    used.set_faults()
    lanes.run()
    assert other.sent == []
    assert {message_of("send#one-carrier-2", p)["state"] for p in later} == {"sent"}
