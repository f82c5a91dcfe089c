"""A webhook secret rotated with ``python -m infra.keys rotate-secret`` while the functions run
(moto's Secrets Manager, the real handlers): the 12333 system, the payment provider and the
carrier are accepted with the old value or the new one during the grace period, with the new one
only after it, and an environment that cached the secret before the rotation takes the new value
at once. The platform's clock is the time."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from sms_platform.contracts import examples
from sms_platform.foundation.clock import FixedClock, set_clock

from infra import keys
from tests.events import api_event

NOW = datetime(2024, 6, 3, 1, 30, tzinfo=UTC)
GRACE = timedelta(hours=24)
OLD_HOTLINE = "test-hotline-secret"  # as tests/conftest.py fills the secret


@pytest.fixture
def clock(aws):
    clock = FixedClock(NOW)
    set_clock(clock)
    yield clock
    set_clock(None)


def rotate(aws, secret: str, value: str) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    keys.rotate_webhook_secret(client, aws.physical["WebhookSecret"], secret, grace=GRACE, now=NOW, value=value)


def hangup(secret: str, at: datetime, call_id: str, lambda_context) -> int:
    import hangups

    body = json.dumps({**examples.HANGUP_WAITING, "call_id": call_id})
    timestamp = str(int(at.timestamp()))
    signature = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}
    return hangups.handler(api_event("POST", "/v1/hotline/hangups", raw_body=body, headers=headers), lambda_context)[
        "statusCode"
    ]


def test_the_12333_system_switches_to_a_rotated_secret_without_a_failed_call(aws, clock, lambda_context):
    assert hangup(OLD_HOTLINE, NOW, "before", lambda_context) == 202  # the environment caches the secret

    rotate(aws, "hotline_webhook_secret", "new-hotline-secret")

    assert hangup("new-hotline-secret", NOW, "new-at-once", lambda_context) == 202  # cached before: read again
    assert hangup(OLD_HOTLINE, NOW, "old-still", lambda_context) == 202
    clock.set(NOW + GRACE - timedelta(minutes=1))
    assert hangup(OLD_HOTLINE, clock.now(), "old-last-minute", lambda_context) == 202
    clock.set(NOW + GRACE + timedelta(minutes=1))
    assert hangup(OLD_HOTLINE, clock.now(), "old-too-late", lambda_context) == 401
    assert hangup("new-hotline-secret", clock.now(), "new-after", lambda_context) == 202
    assert hangup("not-a-secret", clock.now(), "forged", lambda_context) == 401


def test_payments_and_carrier_pushes_accept_both_values_during_the_grace_period(aws, clock, lambda_context):
    import carrier_callbacks
    import channels

    rotate(aws, "payment_webhook_secret", "new-payment-secret")
    rotate(aws, "carrier_callback_token", "new-callback-token")

    def payment(secret: str) -> int:
        raw = json.dumps(examples.PAYMENT)
        signature = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
        event = api_event("POST", "/v1/payments/notify", raw_body=raw, headers={"X-Payment-Signature": signature})
        return channels.handler(event, lambda_context)["statusCode"]

    def push(token: str) -> int:
        event = api_event("POST", "/v1/carrier/inbound", body=examples.REPLIES, query={"token": token})
        return carrier_callbacks.handler(event, lambda_context)["statusCode"]

    # Signed with either value, the notice reaches the order (unknown here: 404), not a refusal.
    assert (payment("new-payment-secret"), payment("test-payment-secret")) == (404, 404)
    assert (push("new-callback-token"), push("test-callback-token")) == (200, 200)
    clock.set(NOW + GRACE)
    assert (payment("new-payment-secret"), payment("test-payment-secret")) == (404, 401)
    assert (push("new-callback-token"), push("test-callback-token")) == (200, 401)
