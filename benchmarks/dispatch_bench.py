"""Dispatch and fan-out: the project's own work per recipient, with AWS and the carrier stubbed.

(a) Dispatch work per recipient (a ``targeted`` batch of 100 through ``Dispatcher.process``:
    states read, hold and limit checks, ``queued → sending → sent`` writes, decrypting numbers,
    building and signing the carrier request) as a ratio to the bare cost of building and
    signing the same carrier requests with the same client. Target: at most 2.0.
(b) Fan-out recipients per second per worker: recording one message per number, batching by
    100, queuing and auditing each batch (``fanout._messages_for``). Target: at least 50,000.
(d) Peak memory (tracemalloc) of dispatching ten batches of 100.
(c) (high-lane latency while a 20,000-recipient publicity send drains in the local platform)
    is not measured here yet.

The stubs answer at once (every conditional write succeeds, every message is ``queued``), so
the figures are the platform's own Python work, not DynamoDB's or SQS's.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

BATCHES = 50
FANOUT_RECIPIENTS = 50_000
PAGE = 1_000


class _Meta:
    def __init__(self, table: _StubTable) -> None:
        self.client = table


class _StubTable:
    """A DynamoDB table (resource and client calls) that accepts everything at once."""

    name = "stub"

    def __init__(self) -> None:
        self.meta = _Meta(self)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        found = []
        for spec in RequestItems.values():
            for key in spec["Keys"]:
                if key["pk"].startswith("msg#"):
                    found.append({"message_id": key["pk"][4:], "state": "queued"})
        return {"Responses": {name: found for name in RequestItems}}

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {}}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}


class _StubSqs:
    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": "0"}}


class _Answer:
    status_code = 200

    @staticmethod
    def json() -> dict[str, str]:
        return {"Code": "OK", "Message": "OK", "BizId": "900000000000^0", "RequestId": "R"}


class _Session:
    def post(self, *_: Any, **__: Any) -> _Answer:
        return _Answer()


def _setup() -> None:
    import logging

    from sms_platform import aws, crypto

    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1", NORMAL_QUEUE_URL="stub-normal", BULK_QUEUE_URL="stub-bulk",
        HIGH_QUEUE_URL="stub-high", MESSAGES_TABLE="stub", LIMITS_TABLE="stub", AUDIT_TABLE="stub",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )  # fmt: skip
    logging.getLogger("weihai-sms").setLevel(logging.ERROR)  # log formatting is not the work measured
    table, sqs = _StubTable(), _StubSqs()
    aws.table = lambda _name: table  # type: ignore[assignment]
    aws.client = lambda _service: sqs  # type: ignore[assignment]
    crypto._plain_keys["bench"] = os.urandom(32)
    crypto._current_key_id = "bench"
    crypto._hash_key = lambda: b"bench-hash-key"  # type: ignore[assignment]


def _batches(n: int) -> list[Any]:
    from sms_platform import crypto
    from sms_platform.messages import QueuedBatch, QueuedRecipient

    batches = []
    for b in range(n):
        recipients = [
            QueuedRecipient(
                message_id=f"{b:04d}{i:028d}",
                phone_token=crypto.encrypt(f"139{b:04d}{i:04d}"),
                phone_hash=crypto.keyed_hash(f"139{b:04d}{i:04d}"),
            )  # fmt: skip
            for i in range(100)
        ]
        batches.append(
            QueuedBatch(
                batch_id=f"b{b}",
                kind="targeted",
                source_id=f"send:bench{b}",
                office="city",
                sign_name="威海市社会保险事业中心",
                template_code="SMS_100001",
                template_id="t1",
                template_version=1,
                parts=1,
                shared_params={"unit": "威海社保", "date": "2025-03-31"},
                recipients=recipients,
            )  # fmt: skip
        )
    return batches


def _client() -> Any:
    from sms_platform.carrier.client import CarrierClient

    return CarrierClient("https://carrier.invalid/", "bench-id", "bench-secret", session=_Session())


def dispatch_ratio() -> tuple[float, float, float]:
    from sms_platform.clock import FixedClock
    from sms_platform.dispatcher import Dispatcher, Tally

    batches = _batches(BATCHES)
    client = _client()
    numbers = [[f"139{b:04d}{i:04d}" for i in range(100)] for b in range(BATCHES)]
    clock = FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    dispatched, bare = [], []
    for _ in range(6):  # the first round warms imports and caches; its time is dropped below
        dispatcher = Dispatcher(carrier=client, clock=clock, tally=Tally())
        started = time.perf_counter()
        for batch in batches:
            dispatcher.process(batch)
        dispatched.append(time.perf_counter() - started)
        started = time.perf_counter()
        for batch, phones in zip(batches, numbers, strict=True):
            client.send_sms(phones, batch.sign_name, batch.template_code, batch.shared_params, batch.out_id)
        bare.append(time.perf_counter() - started)
    per = BATCHES * 100
    d, b = statistics.median(dispatched[1:]) / per, statistics.median(bare[1:]) / per
    return d * 1e6, b * 1e6, d / b


def fanout_rate() -> float:
    from sms_platform import fanout, send_requests
    from sms_platform.contacts.models import Recipient
    from sms_platform.staff import Office

    now = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    request = send_requests.SendRequest(
        request_id="bench", kind="publicity", kind_name="宣传公告", office=Office.city, office_name="市社保中心",
        author={"account_id": "a", "real_name": "a"}, template_id="t1", template_version=1, template_name="t",
        carrier_code="SMS_1", sign_name="威海市社会保险事业中心", text="x", values={}, audience={"kind": "person"},
        audience_size=FANOUT_RECIPIENTS, parts=1, total_parts=FANOUT_RECIPIENTS, status="sending",
        status_name="发送中", created_at=now, updated_at=now,
    )  # fmt: skip
    recipients = [
        Recipient(f"r{i}", "person", "n", "wendeng", f"{i:064x}", "v1.bench.token", "139****0000")
        for i in range(FANOUT_RECIPIENTS)
    ]
    started = time.perf_counter()
    for first in range(0, FANOUT_RECIPIENTS, PAGE):
        fanout._messages_for(request, recipients[first : first + PAGE], now, False)
    return FANOUT_RECIPIENTS / (time.perf_counter() - started)


def peak_memory() -> float:
    from sms_platform.clock import FixedClock
    from sms_platform.dispatcher import Dispatcher, Tally

    batches = _batches(10)
    dispatcher = Dispatcher(carrier=_client(), clock=FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC)), tally=Tally())
    tracemalloc.start()
    for batch in batches:
        dispatcher.process(batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def run() -> None:
    _setup()
    per_recipient, bare, ratio = dispatch_ratio()
    rate = fanout_rate()
    memory = peak_memory()
    print(f"(a) dispatch per recipient {per_recipient:.1f} us, bare build+sign {bare:.1f} us: "
          f"ratio {ratio:.2f} (target <= 2.0)")  # fmt: skip
    print(f"(b) fan-out {rate:,.0f} recipients/s per worker (target >= 50,000)")
    print("(c) high-lane latency under a 20,000-recipient publicity send: not measured yet (needs infra/local)")
    print(f"(d) peak memory dispatching 10 batches of 100: {memory:.2f} MiB")
    print(json.dumps({"dispatch_ratio": round(ratio, 2), "fanout_per_s": round(rate), "peak_mib": round(memory, 2)}))
