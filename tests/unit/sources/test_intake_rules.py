"""Pure rules of the intake channels: the condition language, variable paths, webhook
signatures, hang-up bodies and subscription periods."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from sms_platform.foundation import signed_webhooks
from sms_platform.foundation.errors import Unauthenticated, ValidationFailed
from sms_platform.sources import hotline, subscription_models, trigger_conditions

NOW = datetime(2024, 3, 1, 4, 0, tzinfo=UTC)
DATA = {"amount": 3120.5, "month": "2024年5月", "types": ["pension"], "period": {"year": 2024}}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("", True),
        ('data["amount"] > 1000', True),
        ("amount > 1000 and month != ''", True),
        ('"pension" in types', True),
        ('data["period"]["year"] == 2023', False),
        ("len(types) == 1 and abs(-1) == 1", True),
        ("missing_field > 1", False),  # a missing field is no match
        ('data["month"] > 5', False),  # a type mismatch is no match
        ('subject_kind == "person" and event_type == "pension.paid"', True),
    ],
)
def test_conditions_over_event_data(condition, holds):
    names = trigger_conditions.condition_names("pension.paid", "person", DATA)
    assert trigger_conditions.condition_holds(trigger_conditions.check_condition(condition), names) is holds


@pytest.mark.parametrize(
    "condition",
    [
        "data.amount > 1",  # attribute access
        "().__class__",
        "open('/etc/passwd')",  # calls outside the whitelist
        "__import__('os')",
        "[x for x in types]",
        "amount = 1",
        "lambda: 1",
        "x" * 501,
    ],
)
def test_unsafe_or_invalid_conditions_are_refused(condition):
    with pytest.raises(ValidationFailed):
        trigger_conditions.check_condition(condition)


@pytest.mark.parametrize(
    ("path", "value"),
    [("data.amount", 3120.5), ("data.period.year", 2024), ("data.nothing", None), ("event_type", "pension.paid")],
)
def test_variable_paths_walk_the_event(path, value):
    event = {"event_type": "pension.paid", "data": DATA}
    assert trigger_conditions.resolve_path(trigger_conditions.check_path(path), event) == value


@pytest.mark.parametrize("path", ["data", "data.__class__.x", "subject.id", "data..amount", "os.environ"])
def test_bad_variable_paths_are_refused(path):
    with pytest.raises(ValidationFailed):
        trigger_conditions.check_path(path)


def _hotline_headers(body: bytes, timestamp: int, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"x-hotline-timestamp": str(timestamp), "X-HOTLINE-SIGNATURE": digest}


@pytest.mark.parametrize(
    ("offset", "secret", "accepted"),
    [(0, "s3cret", True), (-300, "s3cret", True), (300, "s3cret", True), (-301, "s3cret", False),
     (301, "s3cret", False), (0, "other", False)],
)  # fmt: skip
def test_hotline_signature_and_window(offset, secret, accepted):
    body = b'{"call_id": "c1"}'
    headers = _hotline_headers(body, int(NOW.timestamp()) + offset, secret)
    if accepted:
        signed_webhooks.verify_hotline(headers, body, "s3cret", NOW)
    else:
        with pytest.raises(Unauthenticated):
            signed_webhooks.verify_hotline(headers, body, "s3cret", NOW)


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Payment-Signature": ""}, {"X-Payment-Signature": "zz"}, {"X-Payment-Signature": "0" * 64}],
)
def test_payment_signature_refusals(headers):
    with pytest.raises(Unauthenticated):
        signed_webhooks.verify_payment(headers, b"{}", "pay")


def test_payment_signature_accepted():
    body = b'{"order_id": "o1"}'
    signed_webhooks.verify_payment({"X-Payment-Signature": hmac.new(b"pay", body, hashlib.sha256).hexdigest()}, body,
                                   "pay")  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caller": "13800000000", "agent_id": "a", "ended_at": "2024-03-01T12:00:00+08:00"}, "call_id"),
        ({"call_id": "c", "agent_id": "a", "ended_at": "2024-03-01T12:00:00+08:00"}, "caller"),
        ({"call_id": "c", "caller": "13800000000", "ended_at": "2024-03-01T12:00:00+08:00"}, "agent_id"),
        ({"call_id": "c", "caller": "13800000000", "agent_id": "a", "ended_at": 5}, "ended_at"),
        ({"call_id": "c", "caller": "13800000000", "agent_id": "a", "ended_at": "2024-03-01T12:00:00+08:00",
          "faq_ids": ["a", "b", "c", "d"]}, "faq_ids"),
    ],
)  # fmt: skip
def test_hang_up_bodies_are_checked_field_by_field(body, field):
    with pytest.raises(ValidationFailed) as refused:
        hotline.parse_hangup(json.dumps(body).encode())
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("caller", "kind"), [("13800000000", "mobile"), ("+86 138 0000 0000", "mobile"), ("0631-5201234", "landline")]
)
def test_callers_are_mobile_or_landline(caller, kind):
    assert hotline.classify_caller(caller) == kind


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2024, 1, 31, 2, tzinfo=UTC), 1, datetime(2024, 2, 29, 2, tzinfo=UTC)),
        (datetime(2024, 6, 4, 2, tzinfo=UTC), 12, datetime(2025, 6, 4, 2, tzinfo=UTC)),
        (datetime(2024, 12, 31, 17, tzinfo=UTC), 2, datetime(2025, 2, 28, 17, tzinfo=UTC)),  # 1 Jan in Beijing
    ],
)
def test_periods_add_calendar_months_in_beijing(start, months, end):
    assert subscription_models.add_months(start, months) == end


@pytest.mark.parametrize(
    ("end", "due"),
    [
        (datetime(2024, 3, 8, 2, tzinfo=UTC), True),
        (datetime(2024, 3, 8, 23, tzinfo=UTC), False),  # 9 March in Beijing: eight days left
        (datetime(2024, 3, 1, 3, tzinfo=UTC), False),  # already ended
    ],
)
def test_reminders_go_within_seven_days_of_the_end(end, due):
    assert subscription_models.reminder_due(end, NOW) is due


def test_codes_compare_by_a_digest_bound_to_their_key():
    from sms_platform.sources import verification_codes

    digest = verification_codes.digest("h", "123456")
    assert "123456" not in digest
    assert verification_codes.matches(digest, "h", "123456")
    assert verification_codes.matches(digest, "h", " 123456 ")  # as typed, with spaces around
    assert not verification_codes.matches(digest, "h", "123457")
    assert not verification_codes.matches(digest, "other", "123456")
    assert all(len(verification_codes.new_code()) == 6 for _ in range(20))


@pytest.mark.parametrize(
    ("status", "minutes_after", "state"),
    [("pending_payment", 29, "pending_payment"), ("pending_payment", 31, "lapsed"), ("paid", 90, "paid")],
)
def test_unpaid_orders_lapse_after_their_deadline(status, minutes_after, state):
    from datetime import timedelta

    order = {"status": status, "pay_before": (NOW + timedelta(minutes=30)).isoformat()}
    assert subscription_models.order_state(order, NOW + timedelta(minutes=minutes_after)) == state


@pytest.mark.parametrize(
    ("status", "order_status", "minutes_after", "reads"),
    [
        ("pending_payment", "pending_payment", 29, "pending_payment"),
        ("pending_payment", "pending_payment", 31, "lapsed"),
        ("pending_payment", "lapsed", 31, "lapsed"),
        ("active", "paid", 60, "active"),
        ("active", "paid", 60 * 24 * 31, "ended"),  # past the period's end, before the daily run
        ("ended", "paid", 60 * 24 * 31, "ended"),
        ("cancelled", "pending_payment", 31, "cancelled"),
    ],
)
def test_a_subscription_reads_as_it_stands_now(status, order_status, minutes_after, reads):
    from datetime import timedelta

    subscription = {"status": status}
    if status != "pending_payment":
        subscription["period_end"] = (NOW + timedelta(days=30)).isoformat()
    order = {"status": order_status, "pay_before": (NOW + timedelta(minutes=30)).isoformat()}
    now = NOW + timedelta(minutes=minutes_after)
    assert subscription_models.subscription_state(subscription, now, order) == reads
