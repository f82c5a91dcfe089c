"""Dispatch through the Tencent client: the project's own work per recipient, with AWS and
Tencent stubbed.

Dispatch work per recipient (a ``targeted`` batch of 100 as the fan-out queues it, from the SQS
body through ``Dispatcher.process``, the Tencent client in the carrier's place: the batch's
values mapped to Tencent's positional ``TemplateParamSet``, the JSON body, TC3-HMAC-SHA256
signing, and the per-number ``SendStatusSet`` answer read back into one result per number) as a
ratio to building and signing the same Tencent requests, and reading their answers, with the
same client alone. Target: at most 2.0.

The stubs are the dispatch benchmark's (benchmarks/dispatch_bench.py: DynamoDB and SQS accept
everything at once, and the time inside them is left out); Tencent's answer is a real
``SendStatusSet`` of 100 numbers, parsed from its bytes on both sides (each batch's numbers, so
every number is found in it).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.dispatch_bench import BATCHES, ROUNDS, _batches, _stubbed, dispatch_all, per_recipient


def _answer(batch: int) -> bytes:
    """Tencent's ``SendStatusSet`` for the 100 numbers of one benchmark batch, all taken."""
    return json.dumps({"Response": {"SendStatusSet": [
        {"SerialNo": f"2433:{900000000000 + batch * 100 + i}", "PhoneNumber": f"+86139{batch:04d}{i:04d}", "Fee": 1,
         "SessionContext": "s", "Code": "Ok", "Message": "send success", "IsoCode": "CN"} for i in range(100)
    ], "RequestId": "R"}}).encode()  # fmt: skip


# Each batch's answer by its first number, as the request body carries it.
_ANSWERS = {f"+86139{b:04d}0000".encode(): _answer(b) for b in range(BATCHES)}


class _Answer:
    status_code = 200

    def __init__(self, body: bytes) -> None:
        self.body = body

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class _Session:
    def post(self, *_: Any, data: bytes = b"", **__: Any) -> _Answer:
        first = data.split(b'"PhoneNumberSet":["', 1)[1][:14]
        return _Answer(_ANSWERS[first])


def dispatch_ratio() -> tuple[float, float, float, float]:
    from sms_platform.carrier import placeholders
    from sms_platform.carrier.base import CarrierTemplate
    from sms_platform.carrier.tencent import TencentClient
    from sms_platform.foundation import runtime
    from sms_platform.foundation.clock import FixedClock
    from sms_platform.sending.dispatcher import Dispatcher, Tally
    from sms_platform.sending.messages import QueuedBatch

    clock = FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    client = TencentClient("https://sms.tencentcloudapi.com/", "AKIDbench", "bench-key", "1400000001",
                           session=_Session(), clock=clock)  # fmt: skip
    bodies = _batches(BATCHES)
    first = QueuedBatch.from_body(bodies[0])
    names = tuple(sorted(first.shared_params or {}))
    # The batches' template version as its Tencent filing keeps it: the router sends them there.
    filed = {"tencent": CarrierTemplate(first.template_code, names)}
    numbers = [[f"139{b:04d}{i:04d}" for i in range(100)] for b in range(BATCHES)]
    positional = placeholders.positional_values(names, first.shared_params)
    runtime.raise_young_threshold()  # as the sender does as its environment starts
    dispatched, stubs, bare = [], [], []
    for _ in range(ROUNDS + 1):  # the first round warms imports and caches; its time is dropped
        dispatcher = Dispatcher(carrier=client, clock=clock, tally=Tally(), templates=lambda *_: filed)
        own, aws = dispatch_all(dispatcher, bodies)
        dispatched.append(own)
        stubs.append(aws)
        started = time.perf_counter()
        for b, phones in enumerate(numbers):
            client.send_sms(phones, first.sign_name, first.template_code, positional, f"send:bench{b}")
        bare.append(time.perf_counter() - started)
    return per_recipient(dispatched, stubs, bare)


def run() -> None:
    import gc

    collector = gc.get_threshold()
    with _stubbed():
        own, bare, stubs, ratio = dispatch_ratio()
        gc.set_threshold(*collector)
    print(f"dispatch through the Tencent client per recipient {own:.2f} us (and {stubs:.2f} us inside the AWS "
          f"stubs, left out), bare build+sign+read {bare:.2f} us: ratio {ratio:.2f} (target <= 2.0)")  # fmt: skip
    print(json.dumps({"tencent_dispatch_ratio": round(ratio, 2)}))
