"""Test harness shared by every test.

- Fake AWS credentials and a fixed region are set before anything imports boto3, so no test
  can reach AWS.
- ``aws``: a fresh moto with every data resource ``template.yaml`` declares, and the functions'
  environment set as ``Globals`` would set it.
- ``lambda_context``: a Lambda context object as powertools expects it.
Event builders of the real shapes live in ``tests/events.py``.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest

pytest_plugins = [
    "tests.carrier_fixtures",  # carrier_simulator, carrier_client
    "tests.tencent_fixtures",  # tencent_simulator, tencent_client
    "tests.staff_fixtures",  # staff, staff_clock: accounts with real tokens, calls through the authorizer
]

for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="weihai-sms",
    POWERTOOLS_METRICS_NAMESPACE="WeihaiSms",
    POWERTOOLS_DEV="false",
)
os.environ.pop("PLATFORM_CLOCK", None)

# Secrets as the local platform fills them (see infra/local/settings.py for the printed defaults).
TEST_SECRETS = {
    "CarrierSecret": '{"access_key_id": "test-key-id", "access_key_secret": "test-key-secret"}',
    "TencentSecret": '{"secret_id": "AKIDtestsecretid", "secret_key": "test-tencent-secret-key"}',
    "WebhookSecret": (
        '{"hotline_webhook_secret": "test-hotline-secret", "payment_webhook_secret": "test-payment-secret",'
        ' "carrier_callback_token": "test-callback-token"}'
    ),
    "HashKeySecret": "test-hash-key-0123456789abcdef0123456789abcdef",
}


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto holding everything template.yaml declares; yields the provisioned names."""
    import boto3
    from moto import mock_aws
    from sms_platform import aws as platform_aws
    from sms_platform.foundation import secrets, settings

    from infra import patches, provision, template_model

    patches.install_for_tests()  # speed-ups of moto (infra/patches/), unless PLATFORM_MOTO_PATCHES=off
    with mock_aws():
        provisioned = provision.provision(
            template_model.load(), boto3.Session(region_name="us-east-1"), stage="test", secrets=TEST_SECRETS
        )
        for key, value in provisioned.environment.items():
            monkeypatch.setenv(key, value)
        settings.reset()  # the layer reads the environment once, through foundation.settings
        platform_aws.reset()
        secrets.clear_cache()
        yield provisioned
        settings.reset()
        platform_aws.reset()
        secrets.clear_cache()


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
