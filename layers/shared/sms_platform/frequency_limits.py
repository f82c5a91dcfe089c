"""Per-number frequency counters on ``LIMITS_TABLE`` (``pk`` only; each window's item expires).

A counter is the set of message ids counted in one window, not a number: counting the same
message again (a redelivered batch, a retry) changes nothing, and the check-and-count is one
conditional write per window. The dispatcher puts a message's counter writes in the same
transaction as its ``queued → sending`` move (``count_actions``), so a message is counted in
every window and taken for sending, or neither.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sms_platform import aws
from sms_platform.messages import LimitSpec

TABLE_ENV = "LIMITS_TABLE"
_UPDATE = "ADD ids :one SET expires_at = if_not_exists(expires_at, :exp)"
_CONDITION = "attribute_not_exists(ids) OR contains(ids, :mid) OR size(ids) < :limit"
_GRACE = timedelta(hours=1)  # a window's item outlives its end a little


def _table() -> Any:
    return aws.table(TABLE_ENV)


def count_actions(specs: Sequence[LimitSpec]) -> Callable[[str, str], list[dict[str, Any]]]:
    """A maker of one message's counter writes, as transaction actions: ``(phone hash, message
    id)`` → one conditional ``ADD`` per window, in the order of ``specs``. Its condition fails
    when the window already counts ``limit`` other messages."""
    name = _table().name
    # Typed values for the low-level client (see message_store._client); shared ones built once.
    windows = [
        (spec.prefix, spec.suffix, {"N": str(spec.limit)}, {"N": str(int((spec.ends_at + _GRACE).timestamp()))})
        for spec in specs
    ]

    def actions(phone_hash: str, mid: str) -> list[dict[str, Any]]:
        return [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": prefix + phone_hash + suffix}},
                    "UpdateExpression": _UPDATE,
                    "ConditionExpression": _CONDITION,
                    "ExpressionAttributeValues": {
                        ":one": {"SS": [mid]},
                        ":mid": {"S": mid},
                        ":limit": limit,
                        ":exp": expires,
                    },
                }
            }
            for prefix, suffix, limit, expires in windows
        ]

    return actions


def usage(key: str) -> int:
    item = _table().get_item(Key={"pk": key}, ConsistentRead=True).get("Item") or {}
    return len(item.get("ids", ()))
