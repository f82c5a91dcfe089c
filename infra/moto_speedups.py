"""Three costs of running on moto (the test harness and the local platform) that grow with no
benefit, taken away without changing what moto or botocore answer.

- moto 5 takes a deep copy of every table a ``TransactWriteItems`` call touches before it
  writes, so that it can put the table back if the transaction is cancelled. With a few
  thousand contacts or messages in a table, each transaction then costs about a second, and a
  test of a few hundred recipients spends most of its time copying. Here moto's copy is the
  table itself (putting it back changes nothing), and the items the transaction names, the
  only ones moto writes, are copied before it runs and put back if it fails, so a cancelled
  transaction still leaves every item as it was, at a cost that no longer grows with the
  table. Everything else about moto's transactions (conditions, cancellation reasons, the
  check that no item is named twice) is moto's own code.
- moto 5 serialises every DynamoDB answer attribute by attribute through a general picker
  that, for each value, builds a context and works out up to a dozen spellings of its name
  (written for its own model objects). Most answers are plain dicts, and for a plain dict
  those spellings depend only on the picker, the shape and the name: here they are worked out
  once and remembered, and the dict's first matching entry is the answer, as the picker's;
  model objects and transformed values go the general way. It was the largest single cost
  of a moto call (about 2.5 ms for a batch read of 100 items).
- Every test starts a fresh moto, so the platform's boto3 clients are made anew, and each new
  botocore session reads and parses the same service-model JSON files again (about 40 ms a
  client). Here every session shares one loader, which keeps what it read (the files never
  change during a run).
"""

from __future__ import annotations

import copy as _copy
import threading
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


def _pick_dict_entries_directly() -> None:
    from moto.core.serialize import AttributePicker, AttributePickerContext, ResponseSerializer

    general = ResponseSerializer.get_value
    if getattr(general, "dict_entries_directly", False):
        return
    # moto makes a picker for every answer; pickers of one kind with the same alias providers
    # try the same names, so they share entries. Shapes are botocore's, cached with the model.
    spellings: dict[tuple[Any, ...], tuple[Any, tuple[str, ...] | None]] = {}
    most_remembered = 20_000

    def names_to_try(picker: Any, shape: Any, key: str) -> tuple[str, ...] | None:
        """The names the picker tries, in order, for ``key`` of a plain dict: they depend on the
        picker's kind and alias providers, the shape and the key only (the dict has no
        ``Meta``, its class is ``dict``)."""
        cache_key = (type(picker), tuple(picker.alias_providers), key, id(shape))
        found = spellings.get(cache_key)
        if found is None or found[0] is not shape:
            context = AttributePickerContext(obj={}, key=key, shape=shape)
            names = tuple(picker.get_possible_keys(context))
            if len(spellings) >= most_remembered:  # shapes made anew would otherwise pile up
                spellings.clear()
            found = spellings[cache_key] = (shape, None if any("." in n for n in names) else names)
        return found[1]

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is dict
            and type(picker).__call__ is AttributePicker.__call__
            and not picker.response_transformers
        ):
            names = names_to_try(picker, shape, key)
            if names is not None:
                for name in names:  # the first name the dict has, as the picker answers
                    if name in value:
                        return value[name]
                return None
        return general(self, value, key, shape)

    get_value.dict_entries_directly = True  # type: ignore[attr-defined]
    ResponseSerializer.get_value = get_value  # type: ignore[method-assign]


def install() -> None:
    """Patch moto and botocore once per process; later calls do nothing."""
    _share_botocore_loader()
    _pick_dict_entries_directly()
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
