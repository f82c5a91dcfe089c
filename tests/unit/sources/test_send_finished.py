"""When staff read a send as 已发送完毕: every recipient queued and every message in its final
state; a fanned-out send with a message still waiting, or sent and still within the time its
receipt may take, is 发送中."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sms_platform.sending import message_store
from sms_platform.sources import send_finishing, send_request_store
from sms_platform.sources.send_request_models import STATUS_NAMES, on_the_way

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
HOUR_AGO, DAYS_AGO = (NOW - timedelta(hours=1)).isoformat(), (NOW - timedelta(hours=73)).isoformat()
AWAITED = {"waiting": 0, "states": {"delivered": 2, "sent": 1}}  # one message sent, its receipt not back


@pytest.mark.parametrize(
    ("status", "counted", "messages", "finished", "read"),
    [
        # Counted by its page: nothing waiting and nothing awaiting a receipt is over, unread.
        ("fanned_out", {"waiting": 0, "states": {"delivered": 2, "failed": 1, "suppressed": 1}}, None, True, False),
        ("fanned_out", {"waiting": 1, "states": {"delivered": 2, "queued": 1}}, None, False, False),
        # Sent, its receipt awaited: read whether one can still come.
        ("fanned_out", AWAITED, [{"state": "sent", "sending_at": HOUR_AGO}], False, True),
        ("fanned_out", AWAITED, [{"state": "sent", "sending_at": DAYS_AGO}], True, True),
        # Not counted (the list): the messages are read.
        ("fanned_out", None, [{"state": "delivered"}, {"state": "failed"}], True, True),
        ("fanned_out", None, [{"state": "delivered"}, {"state": "queued"}], False, True),
        # Still being queued, or stopped: never over, nothing read.
        ("sending", {"waiting": 0, "states": {"delivered": 3}}, None, False, False),
        ("stopped", {"waiting": 0, "states": {"delivered": 3}}, None, False, False),
    ],
    ids=["all-final", "waiting", "receipt-may-come", "receipt-will-not-come", "list-final", "list-waiting",
         "being-queued", "stopped"],
)  # fmt: skip
def test_a_send_is_over_once_fanned_out_with_nothing_on_its_way(monkeypatch, status, counted, messages, finished, read):
    reads, marked = [], []
    monkeypatch.setattr(message_store, "items_of_source", lambda source_id: reads.append(source_id) or messages)
    monkeypatch.setattr(send_request_store, "mark_finished", lambda request_id, at: marked.append((request_id, at)))
    request = SimpleNamespace(request_id="r1", source_id="send:r1", status=status, finished_at=None)

    assert send_finishing.finished_now(request, NOW, counted) is finished
    assert reads == (["send:r1"] if read else [])
    assert marked == ([("r1", NOW)] if finished else [])  # seen over once, marked so


def test_a_send_marked_over_is_never_counted_again(monkeypatch):
    monkeypatch.setattr(message_store, "items_of_source", lambda source_id: pytest.fail("messages read again"))
    monkeypatch.setattr(send_request_store, "mark_finished", lambda *_: pytest.fail("marked again"))
    request = SimpleNamespace(request_id="r1", source_id="send:r1", status="fanned_out", finished_at=NOW)
    assert send_finishing.finished_now(request, NOW, None) is True


def test_a_fanned_out_send_on_its_way_reads_as_sending():
    assert STATUS_NAMES["fanned_out"] == STATUS_NAMES["sending"] == "发送中"
    assert not any("展开" in name or "排队" in name for name in STATUS_NAMES.values())


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
