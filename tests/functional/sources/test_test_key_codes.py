"""A service channel's test key (CONTRACTS §7) asking for a verification code: answered as its
live twin is, with ``"test": true``, and the code never reaches the carrier simulator."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from sms_platform.sources import caller_keys, subscription_items

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import LaneRunner
from tests.functional.intake_support import queued_batches
from tests.functional.sources.test_subscribe_channels import (  # noqa: F401 - fixtures named as arguments
    NOW,
    OPS,
    PHONE,
    call,
    clock,
    templates,
)

TEST_CHANNEL = "key-mobile-app-test"


def test_a_test_keys_code_is_answered_as_test_and_never_sent(aws, carrier_simulator, clock, templates,
                                                             lambda_context):  # fmt: skip
    subscription_items.set_settings(OPS, templates["otp"], templates["remind"], now=NOW)
    caller_keys.register(OPS, TEST_CHANNEL, kind="test", name="mobile-app", twin="key-mobile-app", now=NOW)

    answer = call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}, key=TEST_CHANNEL)

    assert answer == (202, {"expires_in": 300, "test": True})
    (batch,) = queued_batches(aws)
    assert batch["test"] is True
    lanes = LaneRunner(aws, clock, lambda_context)
    lanes.run()
    assert carrier_simulator.sent == []
    assert call("POST", "/v1/subscriptions/otp", lambda_context, body={"phone": PHONE}) == (202, {"expires_in": 300})
