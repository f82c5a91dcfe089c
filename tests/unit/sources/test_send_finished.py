"""When staff read a send as 已发送完毕: every recipient queued and every message in its final
state; a fanned-out send with a message still waiting, or sent and still within the time its
receipt may take, is 发送中."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.sources.send_request_models import STATUS_NAMES, finished, on_the_way


def test_a_fanned_out_send_is_finished_once_no_message_is_on_its_way():
    assert finished("fanned_out", {"delivered": 2, "failed": 1, "suppressed": 1, "queued": 0, "sent": 0})
    assert not finished("fanned_out", {"delivered": 2, "queued": 1})
    assert not finished("fanned_out", {"delivered": 2, "sending": 1})
    assert not finished("fanned_out", {"delivered": 2, "sent": 1})  # its receipt still to come


def test_a_send_still_being_queued_or_not_counted_is_not_finished():
    assert not finished("sending", {"delivered": 3})
    assert not finished("stopped", {"delivered": 3})
    assert not finished("fanned_out", None)


def test_a_fanned_out_send_on_its_way_reads_as_sending():
    assert STATUS_NAMES["fanned_out"] == STATUS_NAMES["sending"] == "发送中"
    assert not any("展开" in name or "排队" in name for name in STATUS_NAMES.values())


NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("item", "holds_open"),
    [
        ({"state": "queued"}, True),
        ({"state": "sending", "sending_at": (NOW - timedelta(days=5)).isoformat()}, True),
        ({"state": "sent", "sending_at": (NOW - timedelta(hours=1)).isoformat()}, True),
        ({"state": "sent", "sending_at": (NOW - timedelta(hours=71, minutes=59)).isoformat()}, True),
        ({"state": "sent", "sending_at": (NOW - timedelta(hours=72, minutes=1)).isoformat()}, False),
        ({"state": "sent"}, True),  # no time recorded: its receipt is awaited
        ({"state": "delivered"}, False),
        ({"state": "failed"}, False),
        ({"state": "suppressed"}, False),
        ({"state": "undeliverable"}, False),
        ({"state": "expired"}, False),
    ],
)
def test_a_message_holds_its_send_open_while_it_waits_to_go_out_or_for_a_receipt_that_may_come(item, holds_open):
    assert on_the_way(item, NOW) is holds_open
