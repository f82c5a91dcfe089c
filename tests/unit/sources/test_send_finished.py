"""When staff read a send as 已发送完毕: every recipient queued and every message in its final
state; a fanned-out send with a message still waiting or sent without its receipt is 发送中."""

from __future__ import annotations

from sms_platform.sources.send_request_models import STATUS_NAMES, finished


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
