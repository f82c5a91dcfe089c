"""A message as its caller reads it (CONTRACTS §7), the callback's body and its signature (pure)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from sms_platform.contracts import examples, shapes
from sms_platform.reports import caller_callbacks, caller_status


def item(state: str, **extra) -> dict:
    return {"message_id": "m1", "state": state, "phone_masked": "138****0001",
            "updated_at": "2024-06-03T02:00:05.000+00:00", **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        pytest.param(item("delivered"), None, id="delivered: no reason"),
        pytest.param(item("queued"), None, id="on its way: no reason"),
        pytest.param(item("failed", error_code="DB:0101"), "空号", id="the category, not the code"),
        pytest.param(item("failed", error_code="DB:0102"), "停机", id="stopped"),
        pytest.param(item("failed", error_code="isv.MOBILE_NUMBER_ILLEGAL"), "号码格式错误", id="refused number"),
        pytest.param(item("suppressed", suppress_reason="opt_out"), "本人已退订", id="opted out"),
        pytest.param(item("undeliverable", reason="no_usable_number"), "无可用号码", id="no number"),
        pytest.param(item("expired"), "超过有效期未发送", id="expired"),
    ],
)
def test_a_message_shows_its_state_and_the_reason_staff_read(message, reason):
    view = caller_status.message_view(message).model_dump()
    assert view == {"message_id": "m1", "phone": "138****0001", "state": message["state"], "reason": reason,
                    "updated_at": "2024-06-03T10:00:05.000+08:00"}  # fmt: skip
    shapes.CallerMessageOut.model_validate(view)


@pytest.mark.parametrize("test", [False, True])
def test_an_events_answer_and_its_callbacks_say_test_only_for_a_test_key(test):
    status = caller_status.EventStatus(
        event_id="e1",
        received_at="2024-06-03T10:00:00+08:00",
        matched_rules=1,
        messages=[caller_status.message_view(item("sent"))],
        test=test or None,
    )
    body = caller_status.callback_body({**item("sent"), "caller_id": "e1", **({"test": True} if test else {})})
    assert ("test" in status.answer(), "test" in body) == (test, test)
    shapes.EventStatusOut.model_validate(status.answer())
    shapes.StatusCallback.model_validate(body)


@pytest.mark.parametrize("example", [examples.EVENT_STATUS, examples.TEST_EVENT_STATUS])
def test_the_documented_examples_fit_the_contract_shapes(example):
    shapes.EventStatusOut.model_validate(example)
    shapes.CallStatusOut.model_validate(examples.CALL_STATUS)
    shapes.StatusCallback.model_validate(examples.STATUS_CALLBACK)


def test_a_callback_is_signed_over_the_timestamp_and_the_raw_body_it_carries():
    at = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
    raw, headers = caller_callbacks.signed_request("s3cret", {"event_id": "e1", "message": {"state": "sent"}}, at)
    expected = hmac.new(b"s3cret", f"{int(at.timestamp())}.".encode() + raw, hashlib.sha256).hexdigest()
    assert headers["X-Platform-Timestamp"] == str(int(at.timestamp()))
    assert headers["X-Platform-Signature"] == expected
    assert json.loads(raw) == {"event_id": "e1", "message": {"state": "sent"}}


@pytest.mark.parametrize(("tries", "wait"), [(1, 30), (2, 120), (5, 3600), (9, 28800), (10, 28800), (40, 28800)])
def test_the_backoff_grows_and_stays_within_sqs_visibility(tries, wait):
    assert caller_callbacks.backoff_seconds(tries) == wait
