"""moto's DynamoDB transactions at a cost that does not grow with the table.

moto 5 takes a deep copy of every table a ``TransactWriteItems`` call touches before it
writes, so that it can put the table back if the transaction is cancelled. With a few
thousand contacts or messages in a table, each transaction then costs about a second, and a
test of a few hundred recipients spends most of its time copying. ``install()`` makes that
copy cheap and keeps moto's rollback exact: the copy shares every item the transaction does
not name (moto only writes to the named ones) and deep-copies the named ones.

Everything else about moto's transactions (conditions, cancellation reasons, the check that
no item is named twice) is moto's own code, unchanged.
"""

from __future__ import annotations

import copy as _copy
import threading
from collections import defaultdict
from typing import Any

_current = threading.local()


def _named_keys(table: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """(hash, range) of every item of ``table`` the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        for op_type, op in entry.items():
            if op.get("TableName") != table.name:
                continue
            key = op.get("Item") if op_type == "Put" else op.get("Key")
            if not key or table.hash_key_attr not in key:
                continue
            range_value = None
            if table.range_key_attr is not None and table.range_key_attr in key:
                range_value = DynamoType(key[table.range_key_attr])
            keys.append((DynamoType(key[table.hash_key_attr]), range_value))
    return keys


def _snapshot(table: Any, transact_items: list[dict[str, Any]]) -> Any:
    """A copy of ``table`` as good as a deep copy for undoing this transaction."""
    snapshot = _copy.copy(table)
    snapshot.items = defaultdict(dict)
    for hash_value, stored in table.items.items():
        snapshot.items[hash_value] = dict(stored) if isinstance(stored, dict) else stored
    for hash_value, range_value in _named_keys(table, transact_items):
        item = table.get_item(hash_value, range_value)
        if item is None:
            continue
        if range_value is not None:
            snapshot.items[hash_value][range_value] = _copy.deepcopy(item)
        else:
            snapshot.items[hash_value] = _copy.deepcopy(item)
    return snapshot


class _CopyModule:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        transact_items = getattr(_current, "transact_items", None)
        if transact_items is not None and isinstance(value, Table):
            return _snapshot(value, transact_items)
        return _copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)


def install() -> None:
    """Patch moto once per process; later calls do nothing."""
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "snapshots_named_items", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _current.transact_items = transact_items
        try:
            return original(self, transact_items)
        finally:
            _current.transact_items = None

    transact_write_items.snapshots_named_items = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items
    models.copy = _CopyModule()  # type: ignore[assignment]
