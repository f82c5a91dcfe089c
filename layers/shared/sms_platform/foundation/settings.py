"""Every environment variable the layer and the functions read, parsed once per process.

The template gives every function the same ``Globals`` (tables, queues, buckets, keys, secrets,
the carrier, staff sign-in); the portal function adds ``PORTAL_BUCKET`` and the audit archive
``AUDIT_RETENTION_DAYS``. Locally ``make run`` and the tests' ``aws`` fixture set the same names.

Names of resources are optional here (empty when unset) so that pure code and tests that need
none of them can still read the clock or the limits; a handler states at import which ones it
needs with ``require(...)`` (groups below), so a function deployed without one fails at its cold
start with a message naming the variable, not on the first request that reaches it. Numbers and
times are checked on the first ``settings()``: a malformed one is named too.

This module is the only code in the layer that reads the environment; it builds its model (and
imports pydantic) only when a value is first read. Tests that change the
environment call ``reset()`` (the ``aws`` fixture does).
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cache
from typing import Any

DEFAULT_AUDIT_RETENTION_DAYS = 1825  # five years, as the measures require
DEFAULT_FANOUT_CHUNK_RECIPIENTS = 5000  # audience size per parallel chunk
DEFAULT_FANOUT_MAX_LANE_DEPTH = 1000  # queued batches of 100: 100,000 recipients waiting on the lane
DEFAULT_VALUE_SHEET_RETENTION_DAYS = 30  # personalised values kept after their send ends
DEFAULT_NUMBER_CHECK_FAILURES = 2  # permanent failures (空号, 停机) across sends before a number is held
DEFAULT_CARRIER_PRICES = {"alibaba": 4.0, "tencent": 4.5}  # fen per part: placeholders for the contract prices


class SettingsError(RuntimeError):
    """A variable a function needs is missing, or one that is set is malformed."""


@cache
def _model() -> Any:
    """The settings model, built (and pydantic imported) on first use: a handler's cold import
    needs only ``require``, which reads no more than the environment (the model costs about 60 ms
    of imports, measured with ``python -X importtime``, which the hot-path handlers' targets have
    no room for)."""
    # deferred: pydantic and pydantic-settings, kept out of the cold import (see the docstring)
    from pydantic import Field, field_validator
    from pydantic_settings import BaseSettings, SettingsConfigDict

    def _name(env: str, default: Any = "", **constraints: Any) -> Any:
        return Field(default, alias=env, **constraints)


    class Settings(BaseSettings):
        """Field aliases are the variables' names; ``Settings.model_validate(mapping)`` parses a
        mapping instead of the environment (the unit tests do)."""

        model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

        # DynamoDB tables
        control_table: str = _name("CONTROL_TABLE")
        contacts_table: str = _name("CONTACTS_TABLE")
        sends_table: str = _name("SENDS_TABLE")
        messages_table: str = _name("MESSAGES_TABLE")
        subscriptions_table: str = _name("SUBSCRIPTIONS_TABLE")
        audit_table: str = _name("AUDIT_TABLE")
        limits_table: str = _name("LIMITS_TABLE")
        idempotency_table: str = _name("IDEMPOTENCY_TABLE")
        # SQS queues: the three lanes, then the work queues
        high_queue_url: str = _name("HIGH_QUEUE_URL")
        normal_queue_url: str = _name("NORMAL_QUEUE_URL")
        bulk_queue_url: str = _name("BULK_QUEUE_URL")
        work_queue_url: str = _name("WORK_QUEUE_URL")
        fanout_queue_url: str = _name("FANOUT_QUEUE_URL")
        push_queue_url: str = _name("PUSH_QUEUE_URL")
        export_queue_url: str = _name("EXPORT_QUEUE_URL")
        callback_queue_url: str = _name("CALLBACK_QUEUE_URL")  # status callbacks to API keys' URLs
        # S3 buckets
        uploads_bucket: str = _name("UPLOADS_BUCKET")
        archive_bucket: str = _name("ARCHIVE_BUCKET")
        portal_bucket: str = _name("PORTAL_BUCKET")
        # keys and secrets (ARNs or names of Secrets Manager secrets)
        platform_key_id: str = _name("PLATFORM_KEY_ID")
        carrier_secret_arn: str = _name("CARRIER_SECRET_ARN")
        webhook_secret_arn: str = _name("WEBHOOK_SECRET_ARN")
        hash_key_secret_arn: str = _name("HASH_KEY_SECRET_ARN")
        # the carriers: Alibaba Cloud SMS, and Tencent Cloud SMS beside it
        carrier_endpoint: str = _name("CARRIER_ENDPOINT")
        tencent_sms_endpoint: str = _name("TENCENT_SMS_ENDPOINT")
        tencent_secret_arn: str = _name("TENCENT_SECRET_ARN")
        tencent_sms_sdk_app_id: str = _name("TENCENT_SMS_SDK_APP_ID")
        tencent_sms_region: str = _name("TENCENT_SMS_REGION", "ap-guangzhou")
        # staff sign-in: empty pool id and audience are legitimate (an outside OIDC service)
        staff_user_pool_id: str = _name("STAFF_USER_POOL_ID")
        oidc_issuer: str = _name("OIDC_ISSUER")
        oidc_audience: str = _name("OIDC_AUDIENCE")
        oidc_jwks_url: str = _name("OIDC_JWKS_URL")  # local only: moto serves the pool's keys elsewhere
        # behaviour
        platform_clock: str = _name("PLATFORM_CLOCK")  # ISO 8601 start of the clock; unset: real time
        # the wall-clock time (Unix seconds) at which PLATFORM_CLOCK held; unset: the process start
        platform_clock_at: float | None = _name("PLATFORM_CLOCK_AT", None, gt=0)
        audit_retention_days: int = _name("AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, gt=0)
        fanout_chunk_recipients: int = _name("FANOUT_CHUNK_RECIPIENTS", DEFAULT_FANOUT_CHUNK_RECIPIENTS, gt=0)
        fanout_max_lane_depth: int = _name("FANOUT_MAX_LANE_DEPTH", DEFAULT_FANOUT_MAX_LANE_DEPTH, ge=0)
        value_sheet_retention_days: int = _name(
            "VALUE_SHEET_RETENTION_DAYS", DEFAULT_VALUE_SHEET_RETENTION_DAYS, gt=0
        )
        # per-number frequency limits (0 turns one off)
        limit_same_template_per_minute: int = _name("LIMIT_SAME_TEMPLATE_PER_MINUTE", 1, ge=0)
        limit_same_template_per_hour: int = _name("LIMIT_SAME_TEMPLATE_PER_HOUR", 5, ge=0)
        limit_publicity_per_day: int = _name("LIMIT_PUBLICITY_PER_DAY", 3, ge=0)
        # the number-health loop: how many permanent failures mark a number for verification
        number_check_failures: int = _name("NUMBER_CHECK_FAILURES", DEFAULT_NUMBER_CHECK_FAILURES, ge=1)
        # the carriers' health watch (sending.carrier_health_rules) and what their parts cost
        carrier_receipt_wait_minutes: int = _name("CARRIER_RECEIPT_WAIT_MINUTES", 10, ge=1, le=120)
        carrier_probation_minutes: int = _name("CARRIER_PROBATION_MINUTES", 15, ge=1, le=1440)
        carrier_max_error_rate: float = _name("CARRIER_MAX_ERROR_RATE", 0.2, gt=0, le=1)
        carrier_max_throttle_rate: float = _name("CARRIER_MAX_THROTTLE_RATE", 0.3, gt=0, le=1)
        carrier_max_latency_ms: int = _name("CARRIER_MAX_LATENCY_MS", 3000, gt=0)
        carrier_max_receipts_missing: float = _name("CARRIER_MAX_RECEIPTS_MISSING", 0.5, gt=0, le=1)
        carrier_min_outcomes: int = _name("CARRIER_MIN_OUTCOMES", 20, ge=1)
        carrier_prices: dict[str, float] = _name("CARRIER_PRICES", DEFAULT_CARRIER_PRICES)  # JSON, fen per part

        @field_validator("platform_clock")
        @classmethod
        def _iso_time(cls, value: str) -> str:
            if value:
                datetime.fromisoformat(value.replace("Z", "+00:00"))  # ValueError names the field
            return value

        def get(self, env: str) -> Any:
            """The value of variable ``env`` (for code that picks the variable by name: lanes)."""
            return getattr(self, _fields()[env])

        def value(self, env: str) -> str:
            """The value of variable ``env``; a ``SettingsError`` naming it when it is unset."""
            found = self.get(env)
            if found in ("", None):
                raise SettingsError(f"environment variable {env} is not set")
            return found



    return Settings


def _fields() -> dict[str, str]:
    return {field.alias: name for name, field in _model().model_fields.items()}


def __getattr__(name: str) -> Any:  # PEP 562: ``Settings`` and ``VARIABLES`` built on first use
    if name == "Settings":
        return _model()
    if name == "VARIABLES":
        return frozenset(_fields())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# What handlers require at import, by concern (each handler lists the concerns it reaches).
TABLES = (
    "CONTROL_TABLE",
    "CONTACTS_TABLE",
    "SENDS_TABLE",
    "MESSAGES_TABLE",
    "SUBSCRIPTIONS_TABLE",
    "AUDIT_TABLE",
    "LIMITS_TABLE",
    "IDEMPOTENCY_TABLE",
)
LANES = ("HIGH_QUEUE_URL", "NORMAL_QUEUE_URL", "BULK_QUEUE_URL")
QUEUES = (*LANES, "WORK_QUEUE_URL", "FANOUT_QUEUE_URL", "PUSH_QUEUE_URL", "EXPORT_QUEUE_URL", "CALLBACK_QUEUE_URL")
BUCKETS = ("UPLOADS_BUCKET", "ARCHIVE_BUCKET")
KEYS = ("PLATFORM_KEY_ID", "HASH_KEY_SECRET_ARN")  # number encryption and the keyed hash
CARRIER = ("CARRIER_ENDPOINT", "CARRIER_SECRET_ARN")
TENCENT = ("TENCENT_SMS_ENDPOINT", "TENCENT_SECRET_ARN", "TENCENT_SMS_SDK_APP_ID")
WEBHOOKS = ("WEBHOOK_SECRET_ARN",)
STAFF_SIGN_IN = ("OIDC_ISSUER",)
# Everything Globals gives every function (the pool id and audience may be empty by design).
PLATFORM = (*TABLES, *QUEUES, *BUCKETS, *KEYS, *CARRIER, *TENCENT, *WEBHOOKS, *STAFF_SIGN_IN)


def _describe(error: Any) -> str:
    lines = [f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()]
    return "malformed environment variable " + "; ".join(lines)


@cache
def settings() -> Any:
    """The process's settings (a ``Settings``), read from the environment on first use; a
    malformed variable is named in a ``SettingsError``."""
    from pydantic import ValidationError  # deferred with the model (see _model)

    try:
        return _model()()
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def require(*names: str) -> None:
    """Check at a handler's import (its cold start) that every variable in ``names`` is set;
    raises ``SettingsError`` naming the ones that are not. It reads the environment alone, so a
    cold import stays cheap: the values are parsed, and a malformed one named, on the first
    ``settings()``."""
    missing = [name for name in dict.fromkeys(names) if not os.environ.get(name)]
    if missing:
        raise SettingsError(f"environment variable{'s' if len(missing) > 1 else ''} not set: {', '.join(missing)}")


def reset() -> None:
    """Read the environment again on next use (tests that change it)."""
    settings.cache_clear()
