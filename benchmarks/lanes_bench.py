"""(c) High-lane latency in the local platform, idle and while a publicity send drains.

The benchmark starts the local platform (``python -m infra.local``) as a subprocess, its clock
at 10:00 Beijing time (inside the publicity window), files a publicity and a hang-up template
with the carrier simulator, and times hang-up answers (``high`` lane) from the call of
``outbox.enqueue`` to the carrier simulator's receipt of the request:

(i) idle: HIGH_MESSAGES answers, one every IDLE_SPACING seconds;
(ii) busy: HIGH_MESSAGES answers spread over the drain of a publicity send to
     PUBLICITY_RECIPIENTS numbers on the ``bulk`` lane, queued by another process in waves that
     wait for the lane to shorten, as the fan-out's back-pressure does (moto's SQS slows down
     with long queues).

It prints p50 and p99 of both and the ratio busy/idle (target: p99 ratio at most 1.5), and
checks that every publicity number reached the carrier exactly once. Each answer goes to a
number of its own, so no frequency limit delays it.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections import Counter
from datetime import datetime
from typing import Any

HIGH_MESSAGES = 100
WARM_UP = 3  # first answers, not timed: they start the high lane's environments
IDLE_SPACING = 0.25
# A smaller send for a quick look while tuning: LANES_BENCH_RECIPIENTS=4000 python -m benchmarks lanes
PUBLICITY_RECIPIENTS = int(os.environ.get("LANES_BENCH_RECIPIENTS") or 20_000)
WAVE = 1_000  # recipients queued at a time
MOST_WAITING = 20  # batches of 100 on the bulk lane before the next wave waits
TARGET_P99_RATIO = 1.5
DRAIN_TIMEOUT = 1800.0


def percentile(values: list[float], share: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def wait_for_count(platform: Any, wanted: int, timeout: float) -> None:
    from tests.e2e import lanes_support

    deadline = time.monotonic() + timeout
    while lanes_support.carrier_count(platform) < wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the carrier simulator did not get {wanted} messages within {timeout:.0f} s")
        time.sleep(0.2)


def send_idle(templates: Any, first: int) -> dict[str, datetime]:
    from tests.e2e import lanes_support

    enqueued = {}
    for index in range(first, first + HIGH_MESSAGES):
        number = lanes_support.high_number(index)
        enqueued[number] = lanes_support.enqueue_hangup(f"call#bench-idle-{index}", templates.hangup, number)
        time.sleep(IDLE_SPACING)
    return enqueued


def send_during_drain(platform: Any, templates: Any, first: int, baseline: int) -> dict[str, datetime]:
    """Answers spaced so that they cover the drain, from the rate the publicity goes out at."""
    from tests.e2e import lanes_support

    wait_for_count(platform, baseline + 1, 120)  # the drain has begun
    began = time.monotonic()
    enqueued = {}
    for sent in range(HIGH_MESSAGES):
        index = first + sent
        number = lanes_support.high_number(index)
        enqueued[number] = lanes_support.enqueue_hangup(f"call#bench-busy-{index}", templates.hangup, number)
        publicity_out = lanes_support.carrier_count(platform) - baseline - (sent + 1)
        rate = max(publicity_out, 1) / max(time.monotonic() - began, 0.1)
        time_left = (PUBLICITY_RECIPIENTS - publicity_out) / rate
        time.sleep(min(max(0.8 * time_left / max(HIGH_MESSAGES - sent - 1, 1), 0.2), 10.0))
    return enqueued


def latencies(sent: list[dict[str, Any]], enqueued: dict[str, datetime]) -> dict[str, float]:
    from tests.e2e import lanes_support

    arrived = {m["phone"]: lanes_support.arrival(m) for m in sent if m["phone"] in enqueued}
    missing = set(enqueued) - set(arrived)
    if missing:
        raise RuntimeError(f"{len(missing)} high-lane messages never reached the carrier")
    return {number: (arrived[number] - at).total_seconds() for number, at in enqueued.items()}


def summary(name: str, values: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(values, 50), percentile(values, 99)
    print(f"{name:<28} n={len(values):>3}  p50 {p50 * 1000:6.0f} ms  p99 {p99 * 1000:6.0f} ms", end="")
    print(f"  max {max(values) * 1000:6.0f} ms")
    return p50, p99


def run() -> None:
    from infra.local import priority
    from infra.local.settings import default_bulk_concurrency
    from tests.e2e import lanes_support
    from tests.e2e.conftest import start

    # This process queues the hang-up answers, standing in for the hotline function.
    priority.mark_urgent_calls()

    # Fake credentials: everything here talks to the platform's moto, never to AWS.
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - moto accepts any credentials
    started = time.monotonic()
    platform = start({"PLATFORM_CLOCK": lanes_support.beijing_morning()})
    consumers = os.environ.get("LOCAL_BULK_CONCURRENCY") or default_bulk_concurrency()
    print(f"local platform ready in {time.monotonic() - started:.1f} s; bulk lane consumers: at most {consumers}")
    feeder = None
    try:
        with platform.functions_environment():
            lanes_support.follow_platform_clock(platform)
            templates = lanes_support.file_templates()
            for index in range(WARM_UP):
                number = lanes_support.high_number(10_000 + index)
                lanes_support.enqueue_hangup(f"call#bench-warm-{index}", templates.hangup, number)
            wait_for_count(platform, WARM_UP, 60)

            idle_enqueued = send_idle(templates, 0)
            wait_for_count(platform, WARM_UP + HIGH_MESSAGES, 120)

            baseline = lanes_support.carrier_count(platform)
            offset = lanes_support.platform_offset(platform).total_seconds()
            feeder = multiprocessing.get_context("spawn").Process(
                target=lanes_support.feed_publicity,
                args=(dict(os.environ), offset, "pub-bench-1", templates.publicity),
                kwargs={"total": PUBLICITY_RECIPIENTS, "wave": WAVE, "most_waiting": MOST_WAITING},
                name="publicity-feeder",
            )
            drain_started = time.monotonic()
            feeder.start()
            busy_enqueued = send_during_drain(platform, templates, 1_000, baseline)
            feeder.join(DRAIN_TIMEOUT)
            if feeder.exitcode != 0:
                raise RuntimeError(f"the publicity feeder failed (exit code {feeder.exitcode})")
            wait_for_count(platform, baseline + PUBLICITY_RECIPIENTS + HIGH_MESSAGES, DRAIN_TIMEOUT)
            drain_seconds = time.monotonic() - drain_started
            sent = lanes_support.carrier_sent(platform)
    finally:
        if feeder is not None and feeder.is_alive():
            feeder.terminate()
        platform.stop()

    publicity = set(lanes_support.publicity_numbers(PUBLICITY_RECIPIENTS))
    publicity_sent = [m for m in sent if m["phone"] in publicity]
    times = Counter(m["phone"] for m in publicity_sent)
    once = sum(1 for number in publicity if times[number] == 1)
    drain_from = min(lanes_support.arrival(m) for m in publicity_sent)
    drain_to = max(lanes_support.arrival(m) for m in publicity_sent)
    idle = latencies(sent, idle_enqueued)
    busy_all = latencies(sent, busy_enqueued)
    # Only answers that were queued and sent while the publicity was going out count as busy.
    busy = [
        seconds
        for number, seconds in busy_all.items()
        if busy_enqueued[number] >= drain_from and busy_enqueued[number].timestamp() + seconds <= drain_to.timestamp()
    ]

    print(
        f"publicity: {PUBLICITY_RECIPIENTS} numbers, {len(publicity_sent)} sent, {once} exactly once; "
        f"drained in {(drain_to - drain_from).total_seconds():.0f} s "
        f"({len(publicity_sent) / max((drain_to - drain_from).total_seconds(), 0.001):.0f} recipients/s; "
        f"{drain_seconds:.0f} s from the first wave)"
    )
    _, idle_p99 = summary("high lane, idle", list(idle.values()))
    idle_p50 = percentile(list(idle.values()), 50)
    if len(busy) < 2:
        raise RuntimeError("too few high-lane messages were sent during the drain to measure")
    busy_p50, busy_p99 = summary("high lane, during the drain", busy)
    ratio = busy_p99 / idle_p99
    print(f"ratio busy/idle: p50 {busy_p50 / idle_p50:.2f}, p99 {ratio:.2f} (target p99 <= {TARGET_P99_RATIO})")
    print("p99 ratio " + ("meets" if ratio <= TARGET_P99_RATIO else "MISSES") + " the target")
