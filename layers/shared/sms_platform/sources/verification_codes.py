"""Six-digit codes sent by SMS to prove a number is the caller's: a citizen subscribing
(``subscriptions``) and a staff author's phone for test sends (``send_requests``).

The rules are the same for both: at most ``PER_DAY`` codes a Beijing day for one key, each
valid for ``TTL``, and ``MAX_TRIES`` wrong tries before it must be requested again. Each flow
keeps its items in its own table under its own keys: one counter item a day, and the current
code's item. A code is kept only as a digest bound to its flow's key (``bound_to``), so a code
read from the table proves nothing, and a code of one key never matches another's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import RateLimited, ValidationFailed

TTL = timedelta(minutes=5)
PER_DAY = 5
MAX_TRIES = 5


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def digest(bound_to: str, code: str) -> str:
    return hashlib.sha256(f"{bound_to}\n{code}".encode()).hexdigest()


def matches(stored_digest: str, bound_to: str, given: str) -> bool:
    """Whether ``given`` is the code kept as ``stored_digest`` (compared in constant time)."""
    return hmac.compare_digest(stored_digest.encode(), digest(bound_to, given.strip()).encode())


def count_today(table: Any, day_key: dict[str, str], now: datetime) -> int:
    """Count one more code under ``day_key`` (the key's counter item of ``now``'s Beijing day):
    its number in the day, from 1. After ``PER_DAY`` codes, 429 until the next day."""
    tomorrow = datetime.combine(now.astimezone(BEIJING).date() + timedelta(days=1), time(0), tzinfo=BEIJING)
    try:
        counted = table.update_item(
            Key=day_key,
            UpdateExpression="ADD sent :one SET expires_at = :exp",
            ConditionExpression="attribute_not_exists(sent) OR sent < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": PER_DAY,
                                       ":exp": int((tomorrow + timedelta(days=1)).timestamp())},
            ReturnValues="UPDATED_NEW",
        )  # fmt: skip
    except Exception as error:
        if aws.condition_failed(error):
            raise RateLimited(f"每天最多获取 {PER_DAY} 次验证码，请明天再试") from error
        raise
    return int(counted["Attributes"]["sent"])


def code_item(key: dict[str, str], bound_to: str, code: str, now: datetime, **extra: Any) -> dict[str, Any]:
    """The item that keeps a new code under ``key`` (with the flow's ``extra`` attributes)."""
    return {
        **key,
        **extra,
        "digest": digest(bound_to, code),
        "tries": 0,
        "valid_until": (now + TTL).isoformat(),
        "expires_at": int((now + TTL).timestamp()) + 3600,
    }


def check(table: Any, key: dict[str, str], bound_to: str, given: str, now: datetime, *, field: str) -> dict[str, Any]:
    """The code's item if ``given`` is the code kept under ``key``; else a 422 naming ``field``
    (a wrong code counts one try)."""
    item = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if not item or int(item.get("tries", 0)) >= MAX_TRIES:
        raise ValidationFailed("验证码不正确或已失效，请重新获取", field=field)
    if now > datetime.fromisoformat(item["valid_until"]):
        raise ValidationFailed("验证码已过期，请重新获取", field=field)
    if not matches(item["digest"], bound_to, given):
        table.update_item(Key=key, UpdateExpression="ADD tries :one", ExpressionAttributeValues={":one": 1})
        raise ValidationFailed("验证码不正确", field=field)
    return item
