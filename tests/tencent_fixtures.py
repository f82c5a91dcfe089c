"""Tencent fixtures: a Tencent simulator started in this process, and a client pointed at it.

tests/conftest.py registers this module as a plugin. ``tencent_simulator`` also sets
``TENCENT_SMS_ENDPOINT`` and ``TENCENT_SMS_SDK_APP_ID`` to the simulator's and forgets any cached
client, so ``tencent_client_from_environment()`` talks to it; when a test also uses the ``aws``
fixture, list ``aws`` first so that this one has the last word.
"""

from __future__ import annotations

import pytest

# The key pair tests/conftest.py puts in the Tencent secret, and the simulator's application.
TEST_SECRET_ID = "AKIDtestsecretid"
TEST_SECRET_KEY = "test-tencent-secret-key"
TEST_SDK_APP_ID = "1400000001"


@pytest.fixture
def tencent_simulator(monkeypatch):
    from sms_platform.carrier.tencent import tencent_client_from_environment
    from sms_platform.foundation import settings

    from infra.tencent_simulator import TencentSimulator

    simulator = TencentSimulator(port=0, secret_keys={TEST_SECRET_ID: TEST_SECRET_KEY}, sdk_app_id=TEST_SDK_APP_ID)
    simulator.start()
    monkeypatch.setenv("TENCENT_SMS_ENDPOINT", simulator.url)
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", TEST_SDK_APP_ID)
    settings.reset()
    tencent_client_from_environment.cache_clear()
    try:
        yield simulator
    finally:
        simulator.stop()
        settings.reset()
        tencent_client_from_environment.cache_clear()


@pytest.fixture
def tencent_client(tencent_simulator):
    """A client with the test key pair, talking to ``tencent_simulator`` with short timeouts."""
    from sms_platform.carrier.tencent import TencentClient

    client = TencentClient(tencent_simulator.url, TEST_SECRET_ID, TEST_SECRET_KEY, TEST_SDK_APP_ID, timeout=(1.0, 2.0))
    try:
        yield client
    finally:
        client.close()
