"""Per-number frequency counters on ``LIMITS_TABLE`` (``pk`` only; each item expires).

A window's count is the set of message ids counted in it, not a number: counting the same
message again (a redelivered batch, a retry) changes nothing. A counter item holds the sets of
all the windows that share it (``messages.LimitSpec``: a template's hour and minute to one
number), so the check-and-count of a message is one conditional write per item, whose condition
holds only if every window it names still has room. The dispatcher puts a message's counter
writes in the same transaction as its ``queued → sending`` move (``BatchCounters.actions``), so
a message is counted in every window and taken for sending, or neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.messages import LimitSpec, counter_items, refused_window

TABLE_ENV = "LIMITS_TABLE"
_GRACE = timedelta(hours=1)  # an item outlives its last window's end a little


def _table() -> Any:
    return aws.table(TABLE_ENV)


def _room(index: int) -> str:
    # The window's set is absent, already holds this message, or is not full yet.
    return f"(attribute_not_exists(#w{index}) OR contains(#w{index}, :mid) OR size(#w{index}) < :l{index})"


class BatchCounters:
    """The counter writes of one batch's messages, as transaction actions.

    Everything the messages of a batch share (expressions, names, limits, expiry) is built once
    here; a message adds only its item keys and its id. The values are typed for the low-level
    client (see ``message_store._client``).
    """

    def __init__(self, specs: Sequence[LimitSpec], table_name: str | None = None) -> None:
        name = table_name or _table().name
        self.items = counter_items(list(specs))
        self._parts: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        for windows in self.items:
            ends = max(spec.ends_at for spec in windows)
            shared: dict[str, Any] = {":exp": {"N": str(int((ends + _GRACE).timestamp()))}}
            names: dict[str, str] = {}
            for index, spec in enumerate(windows):
                names[f"#w{index}"] = spec.field
                shared[f":l{index}"] = {"N": str(spec.limit)}
            adds = ", ".join(f"#w{index} :one" for index in range(len(windows)))
            update: dict[str, Any] = {
                "TableName": name,
                "UpdateExpression": f"ADD {adds} SET expires_at = if_not_exists(expires_at, :exp)",
                "ConditionExpression": " AND ".join(_room(index) for index in range(len(windows))),
                "ExpressionAttributeNames": names,
            }
            if len(windows) > 1:  # a refusal then says which window was full (``refused``)
                update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            self._parts.append((windows[0].prefix, windows[0].suffix, update, shared))

    def __len__(self) -> int:
        """Writes per message."""
        return len(self._parts)

    def actions(self, phone_hash: str, mid: str) -> list[dict[str, Any]]:
        """One message's counter writes: one conditional ``ADD`` per item, in the items' order."""
        found = []
        one, this = {"SS": [mid]}, {"S": mid}
        for prefix, suffix, shared_update, shared in self._parts:
            values = shared.copy()
            values[":one"] = one
            values[":mid"] = this
            update = shared_update.copy()
            update["Key"] = {"pk": {"S": prefix + phone_hash + suffix}}
            update["ExpressionAttributeValues"] = values
            found.append({"Update": update})
        return found

    def refused(self, action: int, item: dict[str, Any] | None, mid: str) -> LimitSpec:
        """The window that refused message ``mid`` at its counter write ``action``, from the
        item as it was (a transaction's cancellation reason carries it)."""
        return refused_window(self.items[action], item, mid)


def counters_for(specs: Sequence[LimitSpec]) -> BatchCounters:
    """``BatchCounters`` of ``specs``, made once for every batch meeting the same windows (they
    hold nothing of a message, and the actions they make are only read)."""
    return _counters(_table().name, tuple(specs))


@lru_cache(maxsize=64)
def _counters(table_name: str, specs: tuple[LimitSpec, ...]) -> BatchCounters:
    return BatchCounters(specs, table_name)


def usage(spec: LimitSpec, phone_hash: str) -> int:
    """How many messages a window has counted for a number."""
    item = _table().get_item(Key={"pk": spec.key_for(phone_hash)}, ConsistentRead=True).get("Item") or {}
    return len(item.get(spec.field, ()))
