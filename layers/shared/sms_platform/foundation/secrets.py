"""Secrets from Secrets Manager (powertools Parameters, cached for a few minutes).

In AWS they are the template's secrets; locally the runner fills moto's Secrets Manager from the
environment (``CARRIER_ACCESS_KEY_ID``, ``HOTLINE_WEBHOOK_SECRET``, ...), so the code path is
the same everywhere. Values never reach a log.

Webhook secrets rotate with a grace period (``rotated``, run by ``python -m infra.keys
rotate-secret``): the ``WebhookSecret`` JSON keeps the value it replaced under ``previous``
until a time operators set, and both are accepted until then (``webhook_secrets``), so the
12333 vendor, the payment provider or the carrier switches over without a failed call. A call
that fits no value this environment knows is checked once more against a fresh read of the
secret (``check_webhook``), at most every ``REFRESH_SECONDS``: an environment that cached the
secret before a rotation accepts the new value at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.foundation.errors import Unauthenticated
from sms_platform.foundation.settings import settings

CACHE_SECONDS = 300
REFRESH_SECONDS = 30
PREVIOUS = "previous"  # {name: {"value": ..., "until": ISO 8601}} in the WebhookSecret JSON
WEBHOOK_NAMES = ("hotline_webhook_secret", "payment_webhook_secret", "carrier_callback_token")


@lru_cache(maxsize=1)
def _provider() -> Any:
    # deferred: the parameters utility costs ~18 ms of the hang-up webhook's cold import
    from aws_lambda_powertools.utilities import parameters

    return parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))


def _secret(env_name: str, *, fresh: bool = False) -> str:
    return _provider().get(settings().value(env_name), max_age=CACHE_SECONDS, force_fetch=fresh)


def _json_secret(env_name: str, *, fresh: bool = False) -> dict[str, Any]:
    return json.loads(_secret(env_name, fresh=fresh))


@dataclass(frozen=True, repr=False)
class CarrierCredentials:
    access_key_id: str
    access_key_secret: str

    def __repr__(self) -> str:  # never print the secret
        return f"CarrierCredentials(access_key_id={self.access_key_id!r}, access_key_secret='***')"


def carrier_credentials() -> CarrierCredentials:
    value = _json_secret("CARRIER_SECRET_ARN")
    return CarrierCredentials(value["access_key_id"], value["access_key_secret"])


@dataclass(frozen=True, repr=False)
class TencentCredentials:
    secret_id: str
    secret_key: str

    def __repr__(self) -> str:  # never print the key
        return f"TencentCredentials(secret_id={self.secret_id!r}, secret_key='***')"


def tencent_credentials() -> TencentCredentials:
    """The Tencent Cloud key pair, kept as the Alibaba one is: JSON {"secret_id", "secret_key"}."""
    value = _json_secret("TENCENT_SECRET_ARN")
    return TencentCredentials(value["secret_id"], value["secret_key"])


def webhook_secret(name: str) -> str:
    """One of ``hotline_webhook_secret``, ``payment_webhook_secret``, ``carrier_callback_token``."""
    return _json_secret("WEBHOOK_SECRET_ARN")[name]


def accepted_values(secret: dict[str, Any], name: str, now: datetime) -> list[str]:
    """The values of ``name`` a call may be signed with at ``now``: the current one, and the one
    it replaced while its grace period lasts."""
    values = [secret[name]]
    previous = (secret.get(PREVIOUS) or {}).get(name)
    if previous and now < datetime.fromisoformat(previous["until"]):
        values.append(previous["value"])
    return values


def webhook_secrets(name: str, now: datetime, *, fresh: bool = False) -> list[str]:
    """``accepted_values`` of the ``WebhookSecret`` as this environment has it (``fresh``: read again)."""
    return accepted_values(_json_secret("WEBHOOK_SECRET_ARN", fresh=fresh), name, now)


_refreshed = {"at": float("-inf")}
_refresh_lock = threading.Lock()


def _may_refresh() -> bool:
    with _refresh_lock:
        if time.monotonic() - _refreshed["at"] < REFRESH_SECONDS:
            return False
        _refreshed["at"] = time.monotonic()
        return True


def check_webhook(name: str, now: datetime, check: Callable[[list[str]], None]) -> None:
    """Run ``check`` (which raises ``Unauthenticated`` when the call fits none of the values it
    is given) against the accepted values of ``name``; when it fails, once more against a fresh
    read of the secret, unless one was made in the last ``REFRESH_SECONDS`` (so forged calls
    cannot make every request read Secrets Manager)."""
    try:
        check(webhook_secrets(name, now))
    except Unauthenticated:
        if not _may_refresh():
            raise
        check(webhook_secrets(name, now, fresh=True))


def rotated(secret: dict[str, Any], name: str, new_value: str, *, grace: timedelta, now: datetime) -> dict[str, Any]:
    """The ``WebhookSecret`` JSON with ``name`` set to ``new_value``, the value it replaces still
    accepted until ``now + grace``. Other names, and their own grace periods, stay as they are."""
    if name not in WEBHOOK_NAMES:
        raise ValueError(f"{name!r} is not one of {', '.join(WEBHOOK_NAMES)}")
    if grace < timedelta(0):
        raise ValueError("the grace period cannot be negative")
    if not new_value or new_value == secret.get(name):
        raise ValueError("the new value must differ from the current one")
    previous = dict(secret.get(PREVIOUS) or {})
    if name in secret:
        previous[name] = {"value": secret[name], "until": (now + grace).isoformat()}
    return {**secret, name: new_value, PREVIOUS: previous}


def hash_key() -> bytes:
    """Key of the keyed hash that indexes phone and ID numbers."""
    return _secret("HASH_KEY_SECRET_ARN").encode()


def clear_cache() -> None:
    _provider.cache_clear()
    _refreshed["at"] = float("-inf")
