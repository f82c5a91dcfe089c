"""The lanes under load, through the local platform: while a publicity send of 1,500 recipients
drains on the bulk lane, a hang-up answer put on the high lane reaches the carrier
within seconds, ahead of most of the publicity queued before it and still waiting; afterwards
every publicity recipient got exactly one SMS.

With moto unpatched (``PLATFORM_MOTO_PATCHES=off``) the send is of 150 recipients: moto's own
transactions copy every table they touch, so each recipient's cost grows with the tables, and
a bulk batch among a few thousand messages outlasts the dispatch function's 30 s timeout (200
recipients took 20 s of it) instead of draining (infra/patches/transactions.py).

The platform's clock starts at 10:00 Beijing time, inside the publicity window. Messages are
queued with ``sms_platform.sending.outbox.enqueue`` against the platform's own tables and queues, as the
fan-out and the hang-up webhook queue them; what arrived, in which order and when, is read from
the carrier simulator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e import lanes_support
from tests.e2e.lanes_support import HANGUP_TEXT, PUBLICITY_TEXT, SIGN_NAME

pytestmark = [pytest.mark.e2e]

RECIPIENTS = 1_500  # minutes of draining on two cores: the answer arrives while most still wait
RECIPIENTS_UNPATCHED = 150  # a bulk batch of them within the dispatch function's timeout (above)
HIGH_WITHIN_SECONDS = 5.0
DRAIN_TIMEOUT = 300.0
SETTLE_TIMEOUT = 30.0  # the dispatch function's timeout


def wait_for_count(platform: Any, wanted: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (count := lanes_support.carrier_count(platform)) < wanted:
        if time.monotonic() > deadline:
            pytest.fail(f"the carrier got {count} of {wanted} messages within {timeout:.0f} s")
        time.sleep(0.2)


def settled(read: Callable[[], dict[str, Any]], timeout: float) -> dict[str, Any]:
    """The messages' items once none is still being handed to the carrier (or when time is up)."""
    deadline = time.monotonic() + timeout
    items = read()
    while any(item["state"] in ("queued", "sending") for item in items.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
        items = read()
    return items


def test_a_hangup_answer_overtakes_a_draining_publicity_send(start_platform: Callable[..., Any]) -> None:
    from sms_platform.foundation import crypto
    from sms_platform.sending import message_store
    from sms_platform.sending.messages import message_id

    platform = start_platform({"PLATFORM_CLOCK": lanes_support.beijing_morning()})
    patched = "transactions" in platform.log_events("moto_started")[0]["patches"]
    recipients = RECIPIENTS if patched else RECIPIENTS_UNPATCHED
    with platform.functions_environment():
        lanes_support.follow_platform_clock(platform)
        templates = lanes_support.file_templates()
        # A first answer starts the high lane's environment, so the timed one measures the lane
        # rather than an interpreter starting.
        lanes_support.enqueue_hangup("call#lanes-warm", templates.hangup, lanes_support.high_number(0))
        wait_for_count(platform, 1, 60)

        # Given a publicity send queued on the bulk lane and going out
        numbers = lanes_support.publicity_numbers(recipients)
        assert lanes_support.enqueue_publicity("pub-lanes-1", templates.publicity, numbers) == recipients
        wait_for_count(platform, 2, 60)

        # When a hang-up answer is queued while it drains
        caller = lanes_support.high_number(1)
        enqueued_at = lanes_support.enqueue_hangup("call#lanes-1", templates.hangup, caller)
        wait_for_count(platform, 1 + recipients + 1, DRAIN_TIMEOUT)
        sent = lanes_support.carrier_sent(platform)
        ids = [message_id("pub-lanes-1", crypto.keyed_hash(n)) for n in numbers]
        # The carrier has them all; the last batch's "sent" writes follow its answer.
        states = settled(lambda: message_store.get_many(ids), SETTLE_TIMEOUT)

    # Then the caller got the answer within seconds, as the citizen reads it
    answers = [m for m in sent if m["phone"] == caller]
    assert [m["content"] for m in answers] == [f"【{SIGN_NAME}】{HANGUP_TEXT}"]
    answer_at = lanes_support.arrival(answers[0])
    assert (answer_at - enqueued_at).total_seconds() < HIGH_WITHIN_SECONDS

    # ... before the publicity send had finished, ahead of most of what was still waiting of it
    publicity = [m for m in sent if m["template_code"] == templates.publicity]
    waiting = [m for m in publicity if lanes_support.arrival(m) > enqueued_at]
    later = [m for m in publicity if lanes_support.arrival(m) > answer_at]
    assert len(later) > len(waiting) // 2, f"only {len(later)} of {len(waiting)} went out after the answer"

    # ... and every publicity recipient got the publicity exactly once
    assert Counter(m["phone"] for m in publicity) == Counter(numbers)
    assert {m["content"] for m in publicity} == {f"【{SIGN_NAME}】{PUBLICITY_TEXT}"}
    assert len(states) == recipients
    assert {item["state"] for item in states.values()} <= {"sent", "delivered"}
