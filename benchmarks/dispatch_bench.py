"""Dispatch and fan-out: the project's own work per recipient, with AWS and the carrier stubbed.

(a) Dispatch work per recipient (a ``targeted`` batch of 100 as the fan-out queues it, from the
    SQS body through ``Dispatcher.process``: parsing the batch, opening its sealed numbers,
    hold checks, frequency counters with ``queued → sending`` and then ``sending → sent`` in
    transactions, daily counts, building and signing the carrier request; at the end of each
    invocation of ten batches, the metrics and the carriers' health counters it added up)
    as a ratio to the bare cost of building and signing the same carrier requests with the same
    client. Target: at most 2.0.
(b) Fan-out recipients per second per worker: recording one message per number, batching by
    100 with the numbers sealed together, queuing and auditing each batch
    (``fanout._messages_for``). Target: at least 50,000.
(d) Peak memory (tracemalloc) of dispatching ten batches of 100.
(a) and (d) run under the garbage collector setting the sender makes as its environment starts
    (``sms_platform.foundation.runtime``), as it does; (b) under Python's defaults.
(c) (high-lane latency while a 20,000-recipient publicity send drains in the local platform)
    is measured by benchmarks/lanes_bench.py (``python -m benchmarks lanes``).

The stubs stand in at the boto3 boundary and answer as DynamoDB and SQS would for batches
freshly queued: every message is as the fan-out recorded it (``queued``), so every conditional
write and transaction succeeds, and a read or an update asking for the old item gets it. No stub
makes the platform take a slower path (a fault branch, a warning) than it would against DynamoDB.
The figures are the platform's own Python work, not DynamoDB's or SQS's: the time spent inside
the AWS stubs (looking up a hundred keys of a ``BatchGetItem`` costs them about 0.2 us a
recipient) is measured as they answer and left out, and printed beside. The carrier's stub
answers both sides of the ratio alike and stays in.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

BATCHES = 100
INVOCATION = 10  # batches per invocation of the sender: the normal lane's BatchSize
ROUNDS = 10  # measured rounds, each a dispatch of every batch and then the bare requests; medians taken
FANOUT_RECIPIENTS = 50_000
PAGE = 1_000
_CREATED = "2025-03-03T01:59:00.000+00:00"


class _StubTime:
    """Seconds spent inside the AWS stubs since the last ``take``."""

    seconds = 0.0

    @classmethod
    def take(cls) -> float:
        spent, cls.seconds = cls.seconds, 0.0
        return spent


def _timed(method: Any) -> Any:
    """A stub's method that adds its own time to ``_StubTime``."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _StubTime.seconds += time.perf_counter() - started

    return timed


class _Meta:
    def __init__(self, table: _StubTable) -> None:
        self.client = table


class _StubTable:
    """A DynamoDB table (resource and client calls) that accepts everything at once and knows
    the messages the benchmark queued, as the fan-out recorded them."""

    name = "stub"

    def __init__(self) -> None:
        self.meta = _Meta(self)
        self.items: dict[str, dict[str, Any]] = {}

    @_timed
    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        items = self.items
        found = {
            name: [items[k["pk"]] for k in spec["Keys"] if k["pk"] in items] for name, spec in RequestItems.items()
        }
        return {"Responses": found}

    @_timed
    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {}

    @_timed
    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        return {"UnprocessedItems": {}}

    @_timed
    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    @_timed
    def update_item(self, Key: dict[str, Any], ReturnValues: str = "NONE", **_: Any) -> dict[str, Any]:  # noqa: N803
        old = self.items.get(Key["pk"]) if ReturnValues == "ALL_OLD" else None
        return {"Attributes": old} if old else {}

    @_timed
    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    @_timed
    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}


class _StubSqs:
    @_timed
    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    @_timed
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


_TABLE = _StubTable()


@contextmanager
def _stubbed() -> Iterator[None]:
    """AWS, the keys and the environment stubbed for the benchmark, and put back afterwards:
    ``make bench`` runs the benchmarks one after another in one process, and the next (the
    local platform's) needs the real ones."""
    import logging

    from sms_platform import aws
    from sms_platform.foundation import crypto, settings

    environment = dict(os.environ)
    log = logging.getLogger("weihai-sms")
    originals = (aws.table, aws.client, crypto._hash_key, log.level)
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1", NORMAL_QUEUE_URL="stub-normal", BULK_QUEUE_URL="stub-bulk",
        HIGH_QUEUE_URL="stub-high", MESSAGES_TABLE="stub", LIMITS_TABLE="stub", AUDIT_TABLE="stub",
        SENDS_TABLE="stub", CONTACTS_TABLE="stub", POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_NAMESPACE="WeihaiSms",
    )  # fmt: skip
    settings.reset()  # the stubbed variables, read once
    log.setLevel(logging.ERROR)  # log formatting is not the work measured
    sqs = _StubSqs()
    aws.table = lambda _name: _TABLE  # type: ignore[assignment]
    aws.client = lambda service: _TABLE if service == "dynamodb" else sqs  # type: ignore[assignment]
    crypto._plain_keys["bench"] = os.urandom(32)
    crypto._current_key_id = "bench"
    crypto._hash_key = lambda: b"bench-hash-key"  # type: ignore[assignment]
    try:
        yield
    finally:
        aws.table, aws.client, crypto._hash_key, level = originals  # type: ignore[assignment]
        log.setLevel(level)
        crypto.reset()
        os.environ.clear()
        os.environ.update(environment)
        settings.reset()


def _batches(n: int) -> list[str]:
    """SQS bodies of ``n`` targeted batches of 100, shaped as the fan-out queues them; their
    messages are known to the stub table as ``queued``."""
    from sms_platform.foundation import crypto
    from sms_platform.sending.messages import QueuedBatch

    bodies = []
    for b in range(n):
        numbers = [f"139{b:04d}{i:04d}" for i in range(100)]
        mids = [f"{b:04d}{i:028d}" for i in range(100)]
        hashes = [crypto.keyed_hash(p) for p in numbers]
        batch = QueuedBatch.model_validate(
            {
                "batch_id": f"b{b}", "kind": "targeted", "source_id": f"send:bench{b}", "office": "city",
                "sign_name": "威海市社会保险事业中心", "template_code": "SMS_100001", "template_id": "t1",
                "template_version": 1, "parts": 1, "shared_params": {"unit": "威海社保", "date": "2025-03-31"},
                "message_ids": mids, "phone_hashes": hashes, "phones": crypto.seal_many(numbers),
            }
        )  # fmt: skip
        for mid, phone_hash in zip(mids, hashes, strict=True):
            _TABLE.items[f"msg#{mid}"] = {
                "pk": f"msg#{mid}", "sk": "msg", "message_id": mid, "state": "queued",
                "kind": "targeted", "source_id": batch.source_id, "office": "city", "batch_id": batch.batch_id,
                "sign_name": batch.sign_name, "template_code": "SMS_100001", "template_id": "t1",
                "template_version": 1, "parts": 1, "phone_hash": phone_hash, "phone_masked": "139****0000",
                "created_at": _CREATED, "updated_at": _CREATED,
            }  # fmt: skip
        bodies.append(batch.body())
    return bodies


def _client() -> Any:
    from sms_platform.carrier.client import CarrierClient

    return CarrierClient("https://carrier.invalid/", "bench-id", "bench-secret", session=_Session())


def delivered(bodies: list[str]) -> list[str]:
    """The bodies as new strings, as each SQS delivery gives them: nothing a parse left on an
    earlier round's strings (a UTF-8 copy of one that is not all ASCII) is found again."""
    return [body.encode().decode() for body in bodies]


def dispatch_all(dispatcher: Any, bodies: list[str]) -> tuple[float, float]:
    """Seconds of the platform's own work to dispatch ``bodies`` as the sender would, in
    invocations of ``INVOCATION`` batches, each ended as the sender ends it
    (``Dispatcher.finish``), and the seconds spent inside the AWS stubs, left out of the first."""
    from sms_platform.sending.messages import QueuedBatch

    deliveries = delivered(bodies)
    _StubTime.take()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the metrics documents each invocation prints
        for count, body in enumerate(deliveries, start=1):
            dispatcher.process(QueuedBatch.from_body(body))
            if count % INVOCATION == 0:
                dispatcher.finish()
        dispatcher.finish()
    elapsed, stubs = time.perf_counter() - started, _StubTime.take()
    return elapsed - stubs, stubs


def dispatch_ratio() -> tuple[float, float, float, float]:
    from sms_platform.foundation import runtime
    from sms_platform.foundation.clock import FixedClock
    from sms_platform.sending.dispatcher import Dispatcher, Tally
    from sms_platform.sending.messages import QueuedBatch

    bodies = _batches(BATCHES)
    client = _client()
    numbers = [[f"139{b:04d}{i:04d}" for i in range(100)] for b in range(BATCHES)]
    first = QueuedBatch.from_body(bodies[0])
    sign, code, params = first.sign_name, first.template_code, first.shared_params
    clock = FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    runtime.raise_young_threshold()  # as the sender does as its environment starts
    dispatched, stubs, bare = [], [], []
    for _ in range(ROUNDS + 1):  # the first round warms imports and caches; its time is dropped
        dispatcher = Dispatcher(carrier=client, clock=clock, tally=Tally())
        own, aws = dispatch_all(dispatcher, bodies)
        dispatched.append(own)
        stubs.append(aws)
        started = time.perf_counter()
        for b, phones in enumerate(numbers):
            client.send_sms(phones, sign, code, params, f"send:bench{b}")
        bare.append(time.perf_counter() - started)
    return per_recipient(dispatched, stubs, bare)


def per_recipient(dispatched: list[float], stubs: list[float], bare: list[float]) -> tuple[float, float, float, float]:
    """From rounds of seconds (the first dropped): the platform's work per recipient, the bare
    carrier requests' and the AWS stubs' (in us, medians), and the ratio of the first two."""
    per = BATCHES * 100
    d, b = statistics.median(dispatched[1:]) / per, statistics.median(bare[1:]) / per
    return d * 1e6, b * 1e6, statistics.median(stubs[1:]) / per * 1e6, d / b


def fanout_rate() -> float:
    from sms_platform.contacts.models import Recipient
    from sms_platform.foundation import crypto
    from sms_platform.sources import fanout
    from sms_platform.sources.send_request_models import SendRequest
    from sms_platform.staff.context import Office

    now = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    request = SendRequest(
        request_id="bench", kind="publicity", kind_name="宣传公告", office=Office.city, office_name="市社保中心",
        author={"account_id": "a", "real_name": "a"}, template_id="t1", template_version=1, template_name="t",
        carrier_code="SMS_1", sign_name="威海市社会保险事业中心", text="x", values={}, audience={"kind": "person"},
        audience_size=FANOUT_RECIPIENTS, parts=1, total_parts=FANOUT_RECIPIENTS, status="sending",
        status_name="发送中", created_at=now, updated_at=now,
    )  # fmt: skip
    recipients = [
        Recipient(f"r{i}", "person", "n", "wendeng", f"{i:064x}", crypto.encrypt(f"139{i:08d}"), "139****0000")
        for i in range(FANOUT_RECIPIENTS)
    ]
    started = time.perf_counter()
    for first in range(0, FANOUT_RECIPIENTS, PAGE):
        fanout._messages_for(request, recipients[first : first + PAGE], now, False)
    return FANOUT_RECIPIENTS / (time.perf_counter() - started)


def peak_memory() -> float:
    from sms_platform.foundation.clock import FixedClock
    from sms_platform.sending.dispatcher import Dispatcher, Tally
    from sms_platform.sending.messages import QueuedBatch

    bodies = _batches(10)
    dispatcher = Dispatcher(carrier=_client(), clock=FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC)), tally=Tally())
    tracemalloc.start()
    for body in bodies:
        dispatcher.process(QueuedBatch.from_body(body))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def run() -> None:
    collector = gc.get_threshold()
    with _stubbed():
        # The dispatch figures under the collector setting the sender makes (sms_platform.foundation.runtime);
        # the fan-out worker makes none, so it is undone before its figure.
        own, bare, stubs, ratio = dispatch_ratio()
        memory = peak_memory()
        gc.set_threshold(*collector)
        rate = fanout_rate()
    print(f"(a) dispatch per recipient {own:.2f} us (and {stubs:.2f} us inside the AWS stubs, left out), "
          f"bare build+sign {bare:.2f} us: ratio {ratio:.2f} (target <= 2.0)")  # fmt: skip
    print(f"(b) fan-out {rate:,.0f} recipients/s per worker (target >= 50,000)")
    print("(c) high-lane latency under a 20,000-recipient publicity send: see the lanes benchmark")
    print(f"(d) peak memory dispatching 10 batches of 100: {memory:.2f} MiB")
    print(json.dumps({"dispatch_ratio": round(ratio, 2), "fanout_per_s": round(rate), "peak_mib": round(memory, 2)}))
