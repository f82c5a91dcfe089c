"""Checks of the signed webhooks that outside systems call (CONTRACTS §2 and §4).

- 12333 hang-ups: ``X-Hotline-Signature`` is hex HMAC-SHA256 over ``timestamp + "." + raw body``
  and ``X-Hotline-Timestamp`` must be within 300 seconds of the platform's clock.
- Payment notifications: ``X-Payment-Signature`` is hex HMAC-SHA256 over the raw body.

Pure functions: the caller passes the secrets and the current time. While a secret is being
rotated two values are accepted (``secrets.accepted_values``): a call signed with either passes.
Signatures are compared in constant time, and nothing about the secrets or the expected value
reaches an error message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from sms_platform.foundation.errors import Unauthenticated

HOTLINE_WINDOW_SECONDS = 300


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever its case (API Gateway keeps the caller's spelling)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _same(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def _signed_by_any(secrets: str | Sequence[str], message: bytes, given: str | None) -> bool:
    """Whether ``given`` is the signature of ``message`` under one of ``secrets`` (each compared)."""
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    return any([_same(hex_hmac(secret, message), given) for secret in candidates])  # noqa: C419 - compare each


def same_token(secrets: str | Sequence[str], given: str | None) -> bool:
    """Whether ``given`` is one of the accepted tokens (the carrier's ``token``), each compared in
    constant time."""
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    given_bytes = (given or "").encode()
    return any([hmac.compare_digest(token.encode(), given_bytes) for token in candidates])  # noqa: C419


def verify_hotline(
    headers: Mapping[str, str] | None, raw_body: bytes, secret: str | Sequence[str], now: datetime
) -> None:
    """Raise ``Unauthenticated`` unless the hang-up request is signed and fresh."""
    timestamp = header(headers, "X-Hotline-Timestamp")
    signature = header(headers, "X-Hotline-Signature")
    if not timestamp or not signature:
        raise Unauthenticated("缺少签名或时间戳")
    if not timestamp.strip().isdigit():
        raise Unauthenticated("时间戳格式不正确")
    # The signature is checked before the window so a forged request learns nothing about time.
    if not _signed_by_any(secret, timestamp.strip().encode() + b"." + raw_body, signature):
        raise Unauthenticated("签名不正确")
    if abs(now.timestamp() - int(timestamp)) > HOTLINE_WINDOW_SECONDS:
        raise Unauthenticated("时间戳与平台时间相差超过 300 秒")


def verify_payment(headers: Mapping[str, str] | None, raw_body: bytes, secret: str | Sequence[str]) -> None:
    """Raise ``Unauthenticated`` unless the payment notification carries the right signature."""
    signature = header(headers, "X-Payment-Signature")
    if not signature:
        raise Unauthenticated("缺少签名")
    if not _signed_by_any(secret, raw_body, signature):
        raise Unauthenticated("签名不正确")
