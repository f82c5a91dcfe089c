"""Per-number frequency counters on ``LIMITS_TABLE`` (``pk`` only; each item expires).

A counter item holds the counts of all the windows that share it (``messages.LimitSpec``: a
template's hour and minute to one number), so the check-and-count of a message is one
conditional ``ADD`` per item, whose condition holds only if every window it names still has
room.

A message counts once: the dispatcher writes its counts in the same transaction as its
``queued → sending`` move (``BatchCounters.actions``), so it is counted in every window and taken
for sending, or neither, and a redelivered batch or a retried invocation, whose moves are
refused, counts nothing. A message put back to ``queued`` because the carrier did not take it
gives its counts back in the same transaction as that move (``BatchCounters.releases``).

The writes of a batch's messages differ only in their keys: everything else is built once per
batch's windows and shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings
from sms_platform.sending.messages import LimitSpec, counter_items, refused_window

_GRACE = timedelta(hours=1)  # an item outlives its last window's end a little
_ONE, _MINUS_ONE = {"N": "1"}, {"N": "-1"}


def _table() -> Any:
    return aws.table(settings().limits_table)


class BatchCounters:
    """The counter writes of one batch's messages, as transaction actions.

    Everything the messages of a batch share (expressions, names, limits, expiry) is built once
    here; a message adds only its item keys. The values are typed for the low-level client (see
    ``message_store._client``), and are only read, so the actions share them.
    """

    def __init__(self, specs: Sequence[LimitSpec], table_name: str | None = None) -> None:
        name = table_name or _table().name
        self.items = counter_items(list(specs))
        self._counts: list[tuple[str, str, dict[str, Any]]] = []
        self._releases: list[tuple[str, str, dict[str, Any]]] = []
        for windows in self.items:
            ends = max(spec.ends_at for spec in windows)
            names = {f"#w{index}": spec.field for index, spec in enumerate(windows)}
            values: dict[str, Any] = {":one": _ONE, ":exp": {"N": str(int((ends + _GRACE).timestamp()))}}
            room = []
            for index, spec in enumerate(windows):
                values[f":l{index}"] = {"N": str(spec.limit)}
                room.append(f"(attribute_not_exists(#w{index}) OR #w{index} < :l{index})")
            count: dict[str, Any] = {
                "TableName": name,
                "UpdateExpression": f"ADD {', '.join(f'{n} :one' for n in names)} "
                "SET expires_at = if_not_exists(expires_at, :exp)",
                "ConditionExpression": " AND ".join(room),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            if len(windows) > 1:  # a refusal then says which window was full (``refused``)
                count["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            release = {
                "TableName": name,
                "UpdateExpression": f"ADD {', '.join(f'{n} :back' for n in names)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":back": _MINUS_ONE},
            }
            self._counts.append((windows[0].prefix, windows[0].suffix, count))
            self._releases.append((windows[0].prefix, windows[0].suffix, release))

    def __len__(self) -> int:
        """Writes per message."""
        return len(self._counts)

    @staticmethod
    def _for(parts: list[tuple[str, str, dict[str, Any]]], phone_hash: str) -> list[dict[str, Any]]:
        found = []
        for prefix, suffix, shared in parts:
            update = shared.copy()
            update["Key"] = {"pk": {"S": prefix + phone_hash + suffix}}
            found.append({"Update": update})
        return found

    def actions(self, phone_hash: str) -> list[dict[str, Any]]:
        """One message's counter writes: one conditional ``ADD`` per item, in the items' order."""
        return self._for(self._counts, phone_hash)

    def with_counts(self, phone_hashes: Sequence[str], own: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each message's counter writes followed by its own write (``own``, in the same order),
        as one flat list: runs of ``len(self) + 1`` actions (``transactions.write_runs``)."""
        if len(phone_hashes) != len(own):
            raise ValueError("one own write per message")
        # Built a counter item at a time and laid into place by slices: ``actions`` for every
        # message without a call or a nested loop per message (a batch's hundred messages).
        run = len(self._counts) + 1
        found: list[dict[str, Any]] = [{}] * (run * len(own))
        for position, (prefix, suffix, shared) in enumerate(self._counts):
            copy, counts = shared.copy, []
            for phone_hash in phone_hashes:
                update = copy()
                update["Key"] = {"pk": {"S": f"{prefix}{phone_hash}{suffix}"}}  # one string built, not two
                counts.append({"Update": update})
            found[position::run] = counts
        found[run - 1 :: run] = own
        return found

    def releases(self, phone_hash: str) -> list[dict[str, Any]]:
        """What gives one message's counts back (it was counted by ``actions`` and not sent)."""
        return self._for(self._releases, phone_hash)

    def refused(self, action: int, item: dict[str, Any] | None) -> LimitSpec:
        """The window that refused a message at its counter write ``action``, from the item as
        it was (a transaction's cancellation reason carries it)."""
        return refused_window(self.items[action], item)


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
    return int(item.get(spec.field) or 0)
