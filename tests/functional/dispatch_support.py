"""Running the dispatch lanes on moto the way Lambda's SQS event source mapping does.

``LaneRunner`` receives real messages from the lane queues (real receipt handles, receive counts
and redrive), hands them to ``sender.handler`` in the SQS event shape, deletes what succeeded
and leaves reported failures on the queue. When nothing is ready it moves time forward: the
test's ``FixedClock`` and moto's delay and visibility timers together, so delayed messages
(limits, the publicity window, settle rounds, backoff) come due without waiting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LANES = ("HighQueue", "NormalQueue", "BulkQueue")
CALLBACK_TOKEN = "test-callback-token"


def _moto_queue(url: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    return sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues[url.rsplit("/", 1)[-1]]


def _now_ms() -> float:
    return datetime.now(UTC).timestamp() * 1000


@dataclass
class LaneRunner:
    provisioned: Any
    clock: Any
    context: Any
    responses: list[dict[str, Any]] = field(default_factory=list)
    advanced_seconds: float = 0.0

    def urls(self) -> list[str]:
        return [self.provisioned.queue_url(name) for name in LANES]

    def pending(self, lane: str = "", *, include_dead: bool = False) -> list[dict[str, Any]]:
        """Bodies of messages waiting on a lane (or all lanes), delayed ones included."""
        names = [lane] if lane else list(LANES)
        if include_dead:
            names += [n.replace("Queue", "DeadLetterQueue") for n in names]
        bodies = []
        for name in names:
            bodies += [json.loads(m.body) for m in _moto_queue(self.provisioned.queue_url(name))._messages]
        return bodies

    def dead_letters(self, lane: str) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.dead_letter_bodies(lane)]

    def dead_letter_bodies(self, lane: str) -> list[str]:
        """The bodies on a lane's dead-letter queue, as they are (one may not be JSON)."""
        url = self.provisioned.queue_url(lane.replace("Queue", "DeadLetterQueue"))
        return [m.body for m in _moto_queue(url)._messages]

    def earliest_wait_seconds(self) -> float | None:
        now = _now_ms()
        waits = []
        for url in self.urls():
            for message in _moto_queue(url)._messages:
                waits.append(max(message.delayed_until, message.visible_at, now) - now)
        return max(0.0, min(waits)) / 1000 if waits else None

    def advance(self, seconds: float) -> None:
        """Move the platform's clock and moto's timers forward together."""
        self.clock.advance(seconds=seconds)
        self.advanced_seconds += seconds
        for url in self.urls():
            for message in _moto_queue(url)._messages:
                message.delayed_until -= seconds * 1000
                message.visible_at -= seconds * 1000

    def receive_event(self, url: str) -> dict[str, Any]:
        return sqs_event(url)

    def invoke(self, event: dict[str, Any], url: str) -> dict[str, Any]:
        import sender
        from sms_platform import aws

        response = sender.handler(event, self.context)
        self.responses.append(response)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return response

    def step(self) -> bool:
        """Hand every ready message to the dispatcher once; False if none was ready."""
        worked = False
        for url in self.urls():
            event = self.receive_event(url)
            if event["Records"]:
                worked = True
                self.invoke(event, url)
        return worked

    def run(self, *, max_steps: int = 200, max_seconds: float = 3 * 86400) -> None:
        """Run until every lane is empty, moving time on whenever nothing is ready."""
        for _ in range(max_steps):
            if self.step():
                continue
            wait = self.earliest_wait_seconds()
            if wait is None:
                return
            if self.advanced_seconds + wait > max_seconds:
                raise AssertionError("lanes did not drain in the allowed simulated time")
            self.advance(wait + 0.001)
        raise AssertionError("lanes did not drain in the allowed number of steps")


def sqs_event(url: str) -> dict[str, Any]:
    """Up to ten messages received from the queue at ``url``, in the SQS event shape Lambda gets."""
    from sms_platform import aws

    sqs = aws.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "us-east-1",
        }
        for m in answer.get("Messages", [])
    ]
    return {"Records": records}


def record_queued_pushes(context: Any) -> int:
    """Hand every queued piece of carrier pushes to the push worker, as its event source mapping
    would, until the push queue is empty; the number of pieces recorded."""
    import os

    import carrier_push_worker
    from sms_platform import aws

    url, recorded = os.environ["PUSH_QUEUE_URL"], 0
    while (event := sqs_event(url))["Records"]:
        response = carrier_push_worker.handler(event, context)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        assert not failed, f"pieces of a carrier push failed: {failed}"
        for record in event["Records"]:
            aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        recorded += len(event["Records"])
    return recorded


def push(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A carrier push through its route, then its queued pieces recorded: the route's answer."""
    import carrier_callbacks

    response = carrier_callbacks.handler(event, context)
    record_queued_pushes(context)
    return response


def receipts_event(items: list[dict[str, Any]], token: str = CALLBACK_TOKEN) -> dict[str, Any]:
    from tests.events import api_event

    return api_event("POST", "/v1/carrier/receipts", body=items, query={"token": token})


def replies_event(items: list[dict[str, Any]], token: str = CALLBACK_TOKEN) -> dict[str, Any]:
    from tests.events import api_event

    return api_event("POST", "/v1/carrier/inbound", body=items, query={"token": token})


def receipt_for(sent: Any, *, success: bool = True, err_code: str = "DELIVERED") -> dict[str, Any]:
    """A SmsReport for one message the simulator accepted."""
    return {
        "phone_number": sent.phone,
        "send_time": "2024-05-06 10:00:00",
        "report_time": "2024-05-06 10:00:05",
        "success": success,
        "err_code": err_code,
        "err_msg": "用户接收成功" if success else "用户未接收",
        "sms_size": "1",
        "biz_id": sent.biz_id,
        "out_id": sent.out_id,
    }


@contextmanager
def lanes_with_both_carriers(
    aws: Any, tencent_simulator: Any, lambda_context: Any, at: datetime
) -> Iterator[LaneRunner]:
    """A ``LaneRunner`` at ``at`` (the clock fixed there) with both carrier simulators running and
    Tencent's receipts prompt; keys and cached routes forgotten before and after."""
    from sms_platform.foundation import crypto
    from sms_platform.foundation.clock import FixedClock, set_clock
    from sms_platform.sending import carrier_route_cache

    crypto.reset()
    carrier_route_cache.forget()
    clock = FixedClock(at)
    set_clock(clock)
    tencent_simulator.receipt_delay = 0.02
    try:
        yield LaneRunner(aws, clock, lambda_context)
    finally:
        set_clock(None)
        carrier_route_cache.forget()
        crypto.reset()
