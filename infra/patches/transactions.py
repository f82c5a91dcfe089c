"""moto's DynamoDB transactions without a copy of every table they touch.

moto 5 takes a deep copy of every table a ``TransactWriteItems`` call touches before it writes,
so that it can put the table back if the transaction is cancelled: a cost growing with the
tables, paid by every transaction, and a test of a few hundred recipients spends most of its
time copying. Here moto's copy is the table itself (putting it back changes nothing), and the
items the transaction names, the only ones moto writes, are copied before it runs and put back
if it fails, so a cancelled transaction still leaves every item as it was, at a cost that no
longer grows with the table. Everything else about moto's transactions (conditions,
cancellation reasons, the check that no item is named twice) is moto's own code.
``tests/functional/infra/test_moto_transactions.py`` holds it to DynamoDB's behaviour.

Without it the local platform cannot drain a publicity send of a few thousand recipients: each
bulk batch outlasts the dispatch function's 30 s timeout (``tests/e2e/test_lanes.py`` sends 150
when unpatched; a batch of two hundred took 20 s there). And moto's server copies a table while
other requests write to it: unpatched, such a copy now and then fails with "dictionary changed
size during iteration", a 500 that botocore's retries cover.

Measured (``python -m infra.patches.measure transactions``, two runs on a two-core machine):
a transaction of two updates on a table of 3,000 items takes 159-171 ms without it, 1.8 ms
with it (medians).
"""

from __future__ import annotations

import copy as _copy
import threading
from typing import Any

WRITTEN_FOR = {"moto": "==5.2.5"}  # DynamoDBBackend.transact_write_items, models.copy

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


def _named_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, bool, Any]]:
    """Each item the transaction names, as it is now: (table, hash, range, whether the hash
    had an entry, a deep copy of the item or None)."""
    before = []
    for name in {op.get("TableName") for entry in transact_items for op in entry.values()}:
        table = backend.tables.get(name)
        if table is None:
            continue
        for hash_value, range_value in _named_keys(table, transact_items):
            item = table.get_item(hash_value, range_value)
            copy = _copy.deepcopy(item) if item is not None else None
            before.append((table, hash_value, range_value, hash_value in table.items, copy))
    return before


def _put_back(before: list[tuple[Any, Any, Any, bool, Any]]) -> None:
    """Every named item as it was, latest writes undone first."""
    for table, hash_value, range_value, had_hash, item in reversed(before):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        if item is not None:
            table.items[hash_value][range_value] = item
            continue
        ranged = table.items.get(hash_value)
        if ranged is not None:
            ranged.pop(range_value, None)
            if not ranged and not had_hash:
                table.items.pop(hash_value, None)


class _CopyModule:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_current, "in_transaction", False) and isinstance(value, Table):
            return value  # the named items are kept apart (``_named_items``)
        return _copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)


def apply() -> None:
    """Once per process; later calls do nothing."""
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "keeps_named_items", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = _named_items(self, transact_items)
        _current.in_transaction = True
        try:
            return original(self, transact_items)
        except BaseException:
            _put_back(before)
            raise
        finally:
            _current.in_transaction = False

    transact_write_items.keeps_named_items = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items
    models.copy = _copy_module  # type: ignore[assignment]


_copy_module = _CopyModule()
