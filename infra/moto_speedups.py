"""Two costs of running on moto (the test harness and the local platform) that grow with no
benefit, taken away without changing what moto or botocore answer.

- moto 5 takes a deep copy of every table a ``TransactWriteItems`` call touches before it
  writes, so that it can put the table back if the transaction is cancelled. With a few
  thousand contacts or messages in a table, each transaction then costs about a second, and a
  test of a few hundred recipients spends most of its time copying. Here the copy shares every
  item the transaction does not name (moto only writes to the named ones) and deep-copies the
  named ones, so moto's rollback stays exact. Everything else about moto's transactions
  (conditions, cancellation reasons, the check that no item is named twice) is moto's own code.
- Every test starts a fresh moto, so the platform's boto3 clients are made anew, and each new
  botocore session reads and parses the same service-model JSON files again (about 40 ms a
  client). Here every session shares one loader, which keeps what it read (the files never
  change during a run).
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
    # moto asks for a copy once per item of the transaction, all before its first write:
    # one copy per table serves them all (a hundred-item transaction would copy a hundred times).
    taken = _current.snapshots
    if table.name in taken:
        return taken[table.name]
    snapshot = _copy.copy(table)
    snapshot.items = defaultdict(dict)
    # A list first: in moto's server other threads may add items while this one copies.
    for hash_value, stored in list(table.items.items()):
        snapshot.items[hash_value] = dict(stored) if isinstance(stored, dict) else stored
    for hash_value, range_value in _named_keys(table, transact_items):
        item = table.get_item(hash_value, range_value)
        if item is None:
            continue
        if range_value is not None:
            snapshot.items[hash_value][range_value] = _copy.deepcopy(item)
        else:
            snapshot.items[hash_value] = _copy.deepcopy(item)
    taken[table.name] = snapshot
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
    """Patch moto and botocore once per process; later calls do nothing."""
    _share_botocore_loader()
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "snapshots_named_items", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _current.transact_items, _current.snapshots = transact_items, {}
        try:
            return original(self, transact_items)
        finally:
            _current.transact_items, _current.snapshots = None, {}

    transact_write_items.snapshots_named_items = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items
    models.copy = _CopyModule()  # type: ignore[assignment]


def _share_botocore_loader() -> None:
    import botocore.loaders
    import botocore.session

    if getattr(botocore.session.create_loader, "shared", False):
        return
    loaders: dict[Any, Any] = {}

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    create_loader.shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader
