"""Putting messages on the lanes of a running local platform and reading what the carrier got.

Used by ``tests/e2e/test_lanes.py`` and ``benchmarks/lanes_bench.py``. Everything that queues
runs inside ``RunningPlatform.functions_environment()``: the same ``sms_platform.sending.outbox.enqueue``
a function calls, against the platform's tables and queues.

Times: the carrier simulator stamps each request it accepts with the platform's clock
(``PLATFORM_CLOCK``, running on from the moment the platform started). ``follow_platform_clock``
sets this process's clock to the same time line, read from the platform's ``starting`` log
line (its clock and the wall time, taken together), so an enqueue time taken here and an arrival
time stamped there can be subtracted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

SIGN_NAME = "威海人社"
PUBLICITY_TEXT = "威海市2024年度城乡居民养老保险集中缴费期为3月1日至6月30日，请按时缴费。"
HANGUP_TEXT = "您好，补办社保卡请携带身份证到就近社保服务网点办理，详询12333。"
TEMPLATE_REVIEW_TIMEOUT = 30.0


def beijing_morning() -> str:
    """10:00 Beijing time today: inside the publicity window, whatever the hour here."""
    from sms_platform.foundation.clock import BEIJING

    today = datetime.now(BEIJING).date()
    return datetime(today.year, today.month, today.day, 10, 0, tzinfo=BEIJING).isoformat()


def publicity_numbers(count: int) -> list[str]:
    return [f"139{index:08d}" for index in range(count)]


def high_number(index: int) -> str:
    return f"137{index:08d}"


def platform_offset(platform: Any) -> timedelta:
    """How far the platform's clock is ahead of the wall clock."""
    starting = platform.log_events("starting")[0]
    platform_time = datetime.fromisoformat(starting["clock"])
    wall_time = datetime.fromisoformat(starting["time"].replace("Z", "+00:00"))
    return platform_time - wall_time


def follow_platform_clock(platform: Any) -> None:
    """This process's clock from now on reads what the platform's clock reads."""
    from sms_platform.foundation.clock import Clock, set_clock

    set_clock(Clock(datetime.now(UTC) + platform_offset(platform)))


@dataclass(frozen=True)
class Templates:
    publicity: str
    hangup: str


def file_templates() -> Templates:
    """File the two templates with the carrier and wait for its approval, so the carrier renders
    each SMS as the citizen reads it. Needs the platform's functions environment."""
    from sms_platform.carrier.client import carrier_client_from_environment

    carrier = carrier_client_from_environment()
    codes = {}
    for name, template_type, text in (("publicity", 2, PUBLICITY_TEXT), ("hangup", 1, HANGUP_TEXT)):
        filed = carrier.add_sms_template(template_type, f"{name} template", text, "社保业务短信")
        assert filed.ok, filed
        codes[name] = filed.data["TemplateCode"]
    deadline = time.monotonic() + TEMPLATE_REVIEW_TIMEOUT
    for code in codes.values():
        while (status := carrier.query_sms_template(code).data.get("TemplateStatus")) != 1:
            assert status == 0 and time.monotonic() < deadline, f"template {code} not approved: {status}"
            time.sleep(0.2)
    return Templates(**codes)


def enqueue_publicity(source_id: str, template_code: str, numbers: Iterable[str]) -> int:
    """One publicity send to ``numbers`` on the bulk lane; returns how many were queued."""
    from sms_platform.sending import outbox
    from sms_platform.sending.lanes import SmsKind

    result = outbox.enqueue(
        SmsKind.PUBLICITY,
        source_id,
        "city",
        SIGN_NAME,
        template_code=template_code,
        template_id="tpl-lanes-publicity",
        template_version=1,
        parts=1,
        recipients=[(number, None) for number in numbers],
    )
    return result.queued


def enqueue_hangup(source_id: str, template_code: str, number: str) -> datetime:
    """One hang-up answer on the high lane; returns when it was enqueued (platform clock)."""
    from sms_platform.foundation.clock import get_clock
    from sms_platform.sending import outbox
    from sms_platform.sending.lanes import SmsKind

    enqueued_at = get_clock().now()
    result = outbox.enqueue(
        SmsKind.HANGUP,
        source_id,
        "hotline",
        SIGN_NAME,
        template_code=template_code,
        template_id="tpl-lanes-hangup",
        template_version=1,
        parts=1,
        recipients=[(number, None)],
    )
    assert result.queued == 1, result
    return enqueued_at


def bulk_depth() -> int:
    """Batches on the bulk lane, waiting or being dispatched."""
    from sms_platform import aws
    from sms_platform.sending.lanes import Lane, queue_url

    names = [f"ApproximateNumberOfMessages{part}" for part in ("", "NotVisible", "Delayed")]
    answer = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url(Lane.BULK), AttributeNames=names)
    return sum(int(answer["Attributes"].get(name, 0)) for name in names)


def carrier_count(platform: Any) -> int:
    """How many messages the carrier simulator has accepted so far (a cheap call)."""
    return requests.get(f"{platform.carrier}/_simulator/health", timeout=10).json()["sent"]


def carrier_sent(platform: Any) -> list[dict[str, Any]]:
    """Every message the carrier simulator accepted, in the order it accepted them."""
    return requests.get(f"{platform.carrier}/_simulator/sent?full=1", timeout=60).json()


def arrival(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["sent_at"])


def feed_publicity(
    environment: dict[str, str],
    offset_seconds: float,
    source_id: str,
    template_code: str,
    total: int,
    wave: int,
    most_waiting: int,
) -> None:
    """Queue a publicity send of ``total`` numbers in waves of ``wave``, each wave only once the
    bulk lane holds at most ``most_waiting`` batches, as the fan-out's back-pressure does, so the
    queue stays short. Runs in a process of its own (``multiprocessing``, spawn), so its work
    does not slow the process that times the high lane."""
    import os

    from sms_platform.foundation.clock import Clock, set_clock

    from infra.local import priority

    priority.apply(priority.BACKGROUND)  # as the fan-out's environments run
    os.environ.update(environment)
    set_clock(Clock(datetime.now(UTC) + timedelta(seconds=offset_seconds)))
    numbers = publicity_numbers(total)
    for start in range(0, total, wave):
        while bulk_depth() > most_waiting:
            time.sleep(0.5)
        enqueue_publicity(source_id, template_code, numbers[start : start + wave])
