"""Per-number frequency counters on ``LIMITS_TABLE`` (``pk`` only; each window's item expires).

A counter is the set of message ids counted in one window, not a number: counting the same
message again (a redelivered batch, a retry) changes nothing, and the check-and-count is one
conditional write per window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sms_platform import aws
from sms_platform.messages import LimitWindow

TABLE_ENV = "LIMITS_TABLE"


def _table() -> Any:
    return aws.table(TABLE_ENV)


def _conditional_failed(error: Exception) -> bool:
    return getattr(error, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def reserve(windows: list[LimitWindow], mid: str) -> LimitWindow | None:
    """Count message ``mid`` in every window, or in none: the first window that is full, or None."""
    taken: list[LimitWindow] = []
    for window in windows:
        try:
            _table().update_item(
                Key={"pk": window.key},
                UpdateExpression="ADD ids :one SET expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(ids) OR contains(ids, :mid) OR size(ids) < :limit",
                ExpressionAttributeValues={
                    ":one": {mid},
                    ":mid": mid,
                    ":limit": window.limit,
                    ":exp": int((window.ends_at + timedelta(hours=1)).timestamp()),
                },
            )
        except Exception as error:
            if not _conditional_failed(error):
                raise
            release(taken, mid)
            return window
        taken.append(window)
    return None


def release(windows: list[LimitWindow], mid: str) -> None:
    """Take message ``mid`` out of these windows' counts again."""
    for window in windows:
        _table().update_item(
            Key={"pk": window.key}, UpdateExpression="DELETE ids :one", ExpressionAttributeValues={":one": {mid}}
        )


def usage(key: str) -> int:
    item = _table().get_item(Key={"pk": key}, ConsistentRead=True).get("Item") or {}
    return len(item.get("ids", ()))
