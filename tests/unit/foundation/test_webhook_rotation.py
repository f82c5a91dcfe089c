"""Rotating a webhook secret with a grace period, without AWS: the old value is accepted beside the
new one until the time operators set, only the new one after it; the time is an input."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.foundation import secrets, signed_webhooks
from sms_platform.foundation.errors import Unauthenticated

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
GRACE = timedelta(hours=24)
CURRENT = {"hotline_webhook_secret": "old-hotline", "payment_webhook_secret": "pay", "carrier_callback_token": "tok"}


def _hotline_headers(secret: str, at: datetime, body: bytes) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}


def test_a_rotated_secret_keeps_the_value_it_replaced_until_the_grace_period_ends():
    rotated = secrets.rotated(CURRENT, "hotline_webhook_secret", "new-hotline", grace=GRACE, now=NOW)

    assert rotated["hotline_webhook_secret"] == "new-hotline"
    assert rotated["previous"] == {
        "hotline_webhook_secret": {"value": "old-hotline", "until": "2024-06-04T02:00:00+00:00"}
    }
    assert {k: rotated[k] for k in ("payment_webhook_secret", "carrier_callback_token")} == {
        "payment_webhook_secret": "pay",
        "carrier_callback_token": "tok",
    }
    assert CURRENT["hotline_webhook_secret"] == "old-hotline"  # the input is left as it was


@pytest.mark.parametrize(
    ("at", "accepted"),
    [
        (NOW, ["new-hotline", "old-hotline"]),
        (NOW + GRACE - timedelta(seconds=1), ["new-hotline", "old-hotline"]),
        (NOW + GRACE, ["new-hotline"]),
        (NOW + timedelta(days=30), ["new-hotline"]),
    ],
)
def test_both_values_are_accepted_during_the_grace_period_and_only_the_new_one_after_it(at, accepted):
    rotated = secrets.rotated(CURRENT, "hotline_webhook_secret", "new-hotline", grace=GRACE, now=NOW)

    assert secrets.accepted_values(rotated, "hotline_webhook_secret", at) == accepted
    assert secrets.accepted_values(rotated, "payment_webhook_secret", at) == ["pay"]


def test_a_hang_up_signed_with_the_old_secret_passes_during_the_grace_period_only():
    rotated = secrets.rotated(CURRENT, "hotline_webhook_secret", "new-hotline", grace=GRACE, now=NOW)
    body = b'{"call_id": "c1"}'
    during, after = NOW + timedelta(hours=23), NOW + timedelta(hours=25)

    for at in (during, after):  # the new value always
        accepted = secrets.accepted_values(rotated, "hotline_webhook_secret", at)
        signed_webhooks.verify_hotline(_hotline_headers("new-hotline", at, body), body, accepted, at)
    during_values = secrets.accepted_values(rotated, "hotline_webhook_secret", during)
    signed_webhooks.verify_hotline(_hotline_headers("old-hotline", during, body), body, during_values, during)
    with pytest.raises(Unauthenticated):
        after_values = secrets.accepted_values(rotated, "hotline_webhook_secret", after)
        signed_webhooks.verify_hotline(_hotline_headers("old-hotline", after, body), body, after_values, after)


def test_a_payment_notice_and_the_carriers_token_are_checked_against_every_accepted_value():
    body = b'{"order_id": "o1"}'
    signature = hmac.new(b"old-pay", body, hashlib.sha256).hexdigest()

    signed_webhooks.verify_payment({"X-Payment-Signature": signature}, body, ["new-pay", "old-pay"])
    with pytest.raises(Unauthenticated):
        signed_webhooks.verify_payment({"X-Payment-Signature": signature}, body, ["new-pay"])
    assert signed_webhooks.same_token(["new-tok", "old-tok"], "old-tok") is True
    assert signed_webhooks.same_token(["new-tok"], "old-tok") is False
    assert signed_webhooks.same_token(["new-tok"], None) is False


def test_rotating_again_keeps_each_secrets_own_grace_period():
    once = secrets.rotated(CURRENT, "hotline_webhook_secret", "h2", grace=GRACE, now=NOW)
    twice = secrets.rotated(once, "payment_webhook_secret", "p2", grace=timedelta(hours=2), now=NOW)

    assert secrets.accepted_values(twice, "hotline_webhook_secret", NOW + timedelta(hours=3)) == ["h2", "old-hotline"]
    assert secrets.accepted_values(twice, "payment_webhook_secret", NOW + timedelta(hours=3)) == ["p2"]


@pytest.mark.parametrize(
    ("name", "value", "grace"),
    [
        ("hotline_webhook_secret", "old-hotline", GRACE),  # the same value again
        ("hotline_webhook_secret", "", GRACE),
        ("hotline_webhook_secret", "new", -GRACE),
        ("hash_key", "new", GRACE),  # not a webhook secret: the hash key is never rotated this way
    ],
)
def test_a_rotation_that_would_break_calls_is_refused(name, value, grace):
    with pytest.raises(ValueError):
        secrets.rotated(CURRENT, name, value, grace=grace, now=NOW)
