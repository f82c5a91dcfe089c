"""Secrets from Secrets Manager (powertools Parameters, cached for a few minutes).

In AWS they are the template's secrets; locally the runner fills moto's Secrets Manager from the
environment (``CARRIER_ACCESS_KEY_ID``, ``HOTLINE_WEBHOOK_SECRET``, ...), so the code path is
the same everywhere. Values never reach a log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings

CACHE_SECONDS = 300


@lru_cache(maxsize=1)
def _provider() -> Any:
    # deferred: the parameters utility costs ~18 ms of the hang-up webhook's cold import
    from aws_lambda_powertools.utilities import parameters

    return parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))


def _secret(env_name: str) -> str:
    return _provider().get(settings().value(env_name), max_age=CACHE_SECONDS)


def _json_secret(env_name: str) -> dict[str, Any]:
    return json.loads(_secret(env_name))


@dataclass(frozen=True, repr=False)
class CarrierCredentials:
    access_key_id: str
    access_key_secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"CarrierCredentials(access_key_id={self.access_key_id!r}, access_key_secret='***')"


def carrier_credentials() -> CarrierCredentials:
    value = _json_secret("CARRIER_SECRET_ARN")
    return CarrierCredentials(value["access_key_id"], value["access_key_secret"])


def webhook_secret(name: str) -> str:
    """One of ``hotline_webhook_secret``, ``payment_webhook_secret``, ``carrier_callback_token``."""
    return _json_secret("WEBHOOK_SECRET_ARN")[name]


def hash_key() -> bytes:
    """Key of the keyed hash that indexes phone and ID numbers."""
    return _secret("HASH_KEY_SECRET_ARN").encode()


def clear_cache() -> None:
    _provider.cache_clear()
