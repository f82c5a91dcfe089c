"""The local platform's queue pollers and EventBridge rules over moto, with a scripted function
in place of a real one: what gets deleted, retried, dead-lettered and delivered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.eventbridge import EventRoute
from infra.local.lambdas import Invocation, InvocationError
from infra.local.pollers import Poller
from infra.template_model import EventRule, QueueSource

REGION = "us-east-1"


class ScriptedFunction:
    """Answers each invocation with ``answer(event, call_number)`` and records what it saw."""

    def __init__(self, answer: Callable[[dict[str, Any], int], Any]) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Invocation:
        with self._lock:
            self.events.append(event)
            call = len(self.events)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            result = self.answer(event, call)
        finally:
            with self._lock:
                self.running -= 1
        if isinstance(result, InvocationError):
            raise result
        return Invocation(result, 1)

    def bodies(self) -> list[str]:
        with self._lock:
            return [record["body"] for event in self.events for record in event.get("Records", [])]


def wait_until(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def make_queue(sqs: Any, name: str, *, visibility: int = 1, max_receives: int = 2) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility), "RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def dead_letters(sqs: Any, url: str) -> list[str]:
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [message["Body"] for message in answer.get("Messages", [])]


def start_poller(sqs: Any, name: str, url: str, arn: str, function: ScriptedFunction, **source: Any) -> Poller:
    settings = {"batch_size": 10, "report_item_failures": True, "max_concurrency": None, "batching_window": 0}
    settings.update(source)
    mapping = QueueSource(logical_id=name, function="Fn", queue=name, **settings)
    poller = Poller(mapping, url, arn, function, sqs, REGION, settings["max_concurrency"] or 2)
    poller.start()
    return poller


def stop(*items: Any) -> None:
    for item in items:
        item.stop()
    for item in items:
        item.join(10)


def test_reported_failures_come_back_and_end_in_the_dead_letter_queue_the_rest_is_deleted(sqs):
    url, arn, dlq = make_queue(sqs, "high", visibility=1, max_receives=2)

    def answer(event: dict[str, Any], _: int) -> dict[str, Any]:
        failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": failed}

    function = ScriptedFunction(answer)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(["a", "bad", "b"])]
    )
    poller = start_poller(sqs, "high", url, arn, function)
    try:
        wait_until("the bad message to be dead-lettered", lambda: count(sqs, url) == 0 and count(sqs, dlq) == 1)
    finally:
        stop(poller)

    assert sorted(function.bodies()) == ["a", "b", "bad", "bad"]  # tried once more after its visibility timeout
    assert dead_letters(sqs, dlq) == ["bad"]


def test_a_function_error_deletes_nothing_and_the_batch_is_tried_again(sqs):
    url, arn, dlq = make_queue(sqs, "normal", visibility=1, max_receives=5)
    function = ScriptedFunction(lambda event, call: InvocationError("RuntimeError", "boom") if call == 1 else None)
    sqs.send_message(QueueUrl=url, MessageBody="one")
    poller = start_poller(sqs, "normal", url, arn, function)
    try:
        wait_until("the retried batch to be deleted", lambda: len(function.events) == 2 and count(sqs, url) == 0)
    finally:
        stop(poller)

    assert function.bodies() == ["one", "one"]
    assert function.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert count(sqs, dlq) == 0


def test_the_batch_size_is_honoured(sqs):
    url, arn, _ = make_queue(sqs, "bulk-size", visibility=30)
    function = ScriptedFunction(lambda event, call: None)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(7)])
    poller = start_poller(sqs, "bulk-size", url, arn, function, batch_size=3)
    try:
        wait_until("every message", lambda: len(function.bodies()) == 7 and count(sqs, url) == 0)
    finally:
        stop(poller)

    assert max(len(event["Records"]) for event in function.events) <= 3


def test_a_busy_bulk_lane_never_holds_up_the_high_lane_and_keeps_to_its_cap(sqs):
    bulk_url, bulk_arn, _ = make_queue(sqs, "bulk", visibility=60)
    high_url, high_arn, _ = make_queue(sqs, "high-lane", visibility=60)
    release = threading.Event()

    def stuck(event: dict[str, Any], call: int) -> None:
        release.wait(15)

    bulk = ScriptedFunction(stuck)
    high = ScriptedFunction(lambda event, call: None)
    sqs.send_message_batch(QueueUrl=bulk_url, Entries=[{"Id": str(i), "MessageBody": f"p{i}"} for i in range(8)])
    pollers = [
        start_poller(sqs, "bulk", bulk_url, bulk_arn, bulk, batch_size=1, max_concurrency=2),
        start_poller(sqs, "high-lane", high_url, high_arn, high),
    ]
    try:
        wait_until("bulk to be busy", lambda: bulk.running == 2)
        sqs.send_message(QueueUrl=high_url, MessageBody="hang-up answer")
        wait_until("the high lane's message", lambda: high.bodies() == ["hang-up answer"], timeout=5)
        assert bulk.running == 2  # still stuck, and never more than its cap
    finally:
        release.set()
        wait_until("bulk to drain", lambda: count(sqs, bulk_url) == 0)
        stop(*pollers)

    assert bulk.most_at_once == 2
    assert sorted(bulk.bodies()) == [f"p{i}" for i in range(8)]


def test_an_event_put_on_the_default_bus_reaches_the_rules_function_only_when_it_matches(sqs):
    events = boto3.client("events", region_name=REGION)
    function = ScriptedFunction(lambda event, call: None)
    rule = EventRule("TriggerBusinessEvents", "TriggerEventsFunction", {"source": ["weihai.si.business"]})
    route = EventRoute(rule, events, sqs, function, "test")
    route.start()
    try:
        events.put_events(
            Entries=[
                {"Source": "other.system", "DetailType": "x", "Detail": json.dumps({"event_id": "ignored"})},
                {
                    "Source": "weihai.si.business",
                    "DetailType": "pension.paid",
                    "Detail": json.dumps({"event_id": "e1"}),
                },
            ]
        )
        wait_until("the matching event", lambda: len(function.events) == 1)
        time.sleep(1.5)  # a second poll finds nothing more
    finally:
        stop(route)

    (event,) = function.events
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "weihai.si.business",
        "pension.paid",
        {"event_id": "e1"},
    )
