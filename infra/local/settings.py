"""Configuration of the local platform: ports, secrets, API keys and the first account.

Every value comes from the environment; what is missing falls back to a development default.
Defaults are printed at start so a developer can call the API and the webhooks; a value the
environment supplied is never printed, since it may be a real secret.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from infra import patches

HOST = "127.0.0.1"
REGION = "us-east-1"
STAGE = "local"

# Development defaults, printed at start when the environment does not set the value.
DEFAULTS: dict[str, str] = {
    "CARRIER_ACCESS_KEY_ID": "LTAIlocaldevelopment",
    "CARRIER_ACCESS_KEY_SECRET": "local-carrier-secret",
    "TENCENT_SECRET_ID": "AKIDlocaldevelopment",
    "TENCENT_SECRET_KEY": "local-tencent-secret-key",
    "TENCENT_SMS_SDK_APP_ID": "1400000001",
    "HOTLINE_WEBHOOK_SECRET": "local-hotline-secret",
    "PAYMENT_WEBHOOK_SECRET": "local-payment-secret",
    "CARRIER_CALLBACK_TOKEN": "local-callback-token",
    "PLATFORM_HASH_KEY": "local-hash-key-0123456789abcdef0123456789abcdef",
    "BUSINESS_API_KEY": "local-business-system-api-key-0001",
    "CHANNEL_API_KEY": "local-service-channel-api-key-0001",
    "BUSINESS_TEST_API_KEY": "local-business-system-test-key-0001",
    "CHANNEL_TEST_API_KEY": "local-service-channel-test-key-0001",
    "ADMIN_USERNAME": "admin",
    "ADMIN_PASSWORD": "Weihai-12333-dev!",
}

# Which usage plan (template logical id) each API key joins.
API_KEY_PLANS = {
    "BUSINESS_API_KEY": "BusinessSystemsUsagePlan",
    "CHANNEL_API_KEY": "ServiceChannelsUsagePlan",
    "BUSINESS_TEST_API_KEY": "BusinessSystemsUsagePlan",
    "CHANNEL_TEST_API_KEY": "ServiceChannelsUsagePlan",
}

# The test keys (CONTRACTS §7: answered as their live twin, never sent to the carrier), each
# twinned with the live key whose grants it is checked against, as ``infra.keys issue --kind
# test --twin`` makes them in AWS.
TEST_KEY_TWINS = {"BUSINESS_TEST_API_KEY": "BUSINESS_API_KEY", "CHANNEL_TEST_API_KEY": "CHANNEL_API_KEY"}


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether our servers can bind ``port``: they allow address reuse (SO_REUSEADDR, as
    werkzeug's and http.server's servers do), so connections of a platform just stopped, left in
    TIME_WAIT, do not hold the port; a server listening there does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _port(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SystemExit(f"{name} must be a TCP port number, not {text!r}")
    return int(text)


def _count(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) <= 64:
        raise SystemExit(f"{name} must be a whole number from 1 to 64, not {text!r}")
    return int(text)


def default_bulk_concurrency() -> int:
    """Half the cores: locally every invocation shares one moto server and these cores, so
    more bulk consumers do not drain faster, they only slow each other (past their timeout)
    and the high lane, which is what the template's cap on the bulk lane is there to prevent."""
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class Settings:
    api_port: int
    carrier_port: int
    moto_port: int
    carrier_endpoint: str | None  # set: send there and start no simulator
    platform_clock: str | None
    values: dict[str, str]
    supplied: frozenset[str]  # names whose values came from the environment
    tencent_port: int = 3901
    tencent_endpoint: str | None = None  # set: send to Tencent there and start no Tencent simulator
    lane_concurrency: int = 4
    api_concurrency: int = 4
    bulk_concurrency: int = 1  # at most this many invocations on a capped lane (the bulk one)

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def moto_url(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://{HOST}:{self.carrier_port}/"

    @property
    def tencent_simulator_url(self) -> str:
        return f"http://{HOST}:{self.tencent_port}/"

    def tencent_receipt_url(self) -> str:
        return f"{self.api_url}/v1/carrier/tencent/receipts?token={self.values['CARRIER_CALLBACK_TOKEN']}"

    def tencent_inbound_url(self) -> str:
        return f"{self.api_url}/v1/carrier/tencent/inbound?token={self.values['CARRIER_CALLBACK_TOKEN']}"

    def receipt_url(self) -> str:
        return f"{self.api_url}/v1/carrier/receipts?token={self.values['CARRIER_CALLBACK_TOKEN']}"

    def inbound_url(self) -> str:
        return f"{self.api_url}/v1/carrier/inbound?token={self.values['CARRIER_CALLBACK_TOKEN']}"

    def secrets(self) -> dict[str, str]:
        """Secret strings by template logical id, in the shapes the functions read."""
        v = self.values
        return {
            "CarrierSecret": json.dumps(
                {"access_key_id": v["CARRIER_ACCESS_KEY_ID"], "access_key_secret": v["CARRIER_ACCESS_KEY_SECRET"]}
            ),
            "TencentSecret": json.dumps({"secret_id": v["TENCENT_SECRET_ID"], "secret_key": v["TENCENT_SECRET_KEY"]}),
            "WebhookSecret": json.dumps(
                {
                    "hotline_webhook_secret": v["HOTLINE_WEBHOOK_SECRET"],
                    "payment_webhook_secret": v["PAYMENT_WEBHOOK_SECRET"],
                    "carrier_callback_token": v["CARRIER_CALLBACK_TOKEN"],
                }
            ),
            "HashKeySecret": v["PLATFORM_HASH_KEY"],
        }

    def printable_defaults(self) -> dict[str, str]:
        """The development defaults in use; values supplied by the environment are left out."""
        return {name: value for name, value in self.values.items() if name not in self.supplied}


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    supplied = frozenset(name for name in DEFAULTS if env.get(name))
    values = {name: env.get(name) or default for name, default in DEFAULTS.items()}
    try:
        patches.switched_on(env)  # a mistyped switch stops the start, not moto's server later
    except ValueError as error:
        raise SystemExit(str(error)) from None
    moto_port = _port(env, "MOTO_PORT", 0)
    if not moto_port:
        moto_port = 4566 if port_is_free(4566) else free_port()
    return Settings(
        api_port=_port(env, "API_PORT", 3000),
        carrier_port=_port(env, "CARRIER_PORT", 3900),
        moto_port=moto_port,
        carrier_endpoint=env.get("CARRIER_ENDPOINT") or None,
        tencent_port=_port(env, "TENCENT_PORT", 3901),
        tencent_endpoint=env.get("TENCENT_SMS_ENDPOINT") or None,
        platform_clock=env.get("PLATFORM_CLOCK") or None,
        values=values,
        supplied=supplied,
        lane_concurrency=_count(env, "LOCAL_LANE_CONCURRENCY", 4),
        bulk_concurrency=_count(env, "LOCAL_BULK_CONCURRENCY", default_bulk_concurrency()),
        api_concurrency=_count(env, "LOCAL_API_CONCURRENCY", 4),
    )
