"""Which notices a batch's handling queues for its caller (CONTRACTS §7), from its messages
before and after (pure)."""

from __future__ import annotations

import pytest
from sms_platform.sending import status_notices

AT, LATER = "2024-06-03T10:00:00.000+08:00", "2024-06-03T10:00:01.000+08:00"


def item(state: str, **extra) -> dict:
    return {"message_id": "m1", "notify_key": "k1", "caller_id": "evt-1", "state": state, "updated_at": LATER,
            "phone_masked": "139****5678", "phone_hash": "secret-hash", **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "told"),
    [
        pytest.param("queued", item("sent", sending_at=AT), [("sending", AT), ("sent", LATER)], id="taken and sent"),
        pytest.param("queued", item("sending", sending_at=AT), [("sending", LATER)], id="taken, outcome unknown"),
        pytest.param("queued", item("failed", sending_at=AT), [("sending", AT)], id="refused: the store told failed"),
        pytest.param("sending", item("queued"), [("queued", LATER)], id="put back: the carrier did not take it"),
        pytest.param("queued", item("suppressed"), [], id="held back: the store told it"),
        pytest.param("sent", item("sent", sending_at=AT), [], id="nothing moved"),
    ],
)
def test_a_batch_tells_the_moves_the_store_wrote_unread(before, after, told):
    found = status_notices.moves_between({"m1": {"state": before}}, {"m1": after})
    assert [(notice["state"], notice["updated_at"]) for notice in found] == told


def test_a_notice_carries_what_the_callers_answer_needs_and_never_the_numbers_hash():
    notice = status_notices.notice_of(item("failed", error_code="DB:0101", reason="", test=True))
    assert notice == {"message_id": "m1", "notify_key": "k1", "caller_id": "evt-1", "state": "failed",
                      "updated_at": LATER, "phone_masked": "139****5678", "error_code": "DB:0101",
                      "test": True}  # fmt: skip
