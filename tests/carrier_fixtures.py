"""Carrier fixtures: a carrier simulator started in this process, and a client pointed at it.

tests/conftest.py registers this module as a plugin, so every test can ask for them by name.
``carrier_simulator`` also sets ``CARRIER_ENDPOINT`` to the
simulator and forgets any cached client, so ``carrier_client_from_environment()`` talks to it;
when a test also uses the ``aws`` fixture (which sets ``CARRIER_ENDPOINT`` from the template's
default), list ``aws`` first so that this one has the last word.
"""

from __future__ import annotations

import pytest

# The credentials tests/conftest.py puts in the carrier secret.
TEST_ACCESS_KEY_ID = "test-key-id"
TEST_ACCESS_KEY_SECRET = "test-key-secret"


@pytest.fixture
def carrier_simulator(monkeypatch):
    from sms_platform.carrier import carrier_client_from_environment
    from sms_platform.foundation import settings

    from infra.carrier_simulator import CarrierSimulator

    simulator = CarrierSimulator(port=0, access_keys={TEST_ACCESS_KEY_ID: TEST_ACCESS_KEY_SECRET}).start()
    monkeypatch.setenv("CARRIER_ENDPOINT", simulator.url)
    settings.reset()
    carrier_client_from_environment.cache_clear()
    try:
        yield simulator
    finally:
        simulator.stop()
        settings.reset()
        carrier_client_from_environment.cache_clear()


@pytest.fixture
def carrier_client(carrier_simulator):
    """A client with the test credentials, talking to ``carrier_simulator`` with short timeouts."""
    from sms_platform.carrier import CarrierClient

    client = CarrierClient(carrier_simulator.url, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, timeout=(1.0, 2.0))
    try:
        yield client
    finally:
        client.close()
