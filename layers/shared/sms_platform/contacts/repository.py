"""The address book's records on ``CONTACTS_TABLE``: the only code that reads or writes them
(their layout is ``record_items``).

A record is found by the keyed hash of its ID number or credit code, or by the keyed hash of
its number in use. Every write is one transaction with the audience counters it moves
(``pk = "cnt#<kind>#<dimension>"``, ``sk = "<district>#<shard>"``), conditioned on the version
read (or on the record not existing yet), so a retried write can never count a record twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.contacts import records
from sms_platform.contacts.models import Contact
from sms_platform.contacts.record_items import (
    RECORD_SK,
    check_partition,
    from_item,
    member_keys,
    name_partition,
    pk_of_ref,
    plain,
    to_items,
    wire,
)
from sms_platform.foundation import crypto, paging
from sms_platform.foundation.settings import settings

TABLE_ENV = "CONTACTS_TABLE"
MAX_ATTEMPTS = 8
_BATCH_GET = 100
# A write cancelled by another writer's: read the record again and rebuild it.
_BUSY = ("TransactionCanceledException", "ConditionalCheckFailedException", "TransactionConflictException")


def _client() -> Any:
    return aws.client("dynamodb")


def _table_name() -> str:
    return settings().value(TABLE_ENV)


def id_hash_of(identifier: str) -> str:
    """The keyed hash a record is found by (of its ID number or credit code in stored form)."""
    return crypto.keyed_hash(identifier, purpose="id")


# ------------------------------------------------------------------ reads


def get_many(pks: Iterable[str]) -> dict[str, Contact]:
    """Records by key, read consistently (one BatchGetItem per hundred keys)."""
    keys = list(dict.fromkeys(pks))
    found: dict[str, Contact] = {}
    client, table = _client(), _table_name()
    for start in range(0, len(keys), _BATCH_GET):
        request = {
            table: {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": RECORD_SK}} for pk in keys[start : start + _BATCH_GET]],
                "ConsistentRead": True,
            }
        }
        attempt = 0
        while request:
            answer = client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(table, []):
                item = plain(raw)
                found[item["pk"]] = from_item(item)
            request = answer.get("UnprocessedKeys") or {}
            if request:
                attempt += 1
                time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
    return found


def get(pk: str) -> Contact | None:
    return get_many([pk]).get(pk)


def get_by_ref(ref: str) -> Contact | None:
    pk = pk_of_ref(ref)
    return get(pk) if pk else None


def find_by_phone(phone: str) -> list[Contact]:
    """Records whose number in use is ``phone`` (already normalised)."""
    return find_by_phone_hash(crypto.keyed_hash(phone))


def find_by_phone_hash(phone_hash: str) -> list[Contact]:
    """Records whose number in use has this keyed hash."""
    found = queries.items(
        _client().query,
        TableName=_table_name(),
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :p",
        ExpressionAttributeValues={":p": {"S": f"ph#{phone_hash}"}},
    )
    return list(get_many(raw["pk"]["S"] for raw in found).values())


def check_page(district: str, *, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a district's worklist of numbers to verify, longest held first (the records'
    ``m#check`` items, plain), and the cursor of the next page."""
    partition = check_partition(district)
    args: dict[str, Any] = {
        "TableName": _table_name(), "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}}, "Limit": limit,
    }  # fmt: skip
    start = paging.start_key(
        cursor, names={"pk", "sk", "gsi1pk", "gsi1sk"}, fixed={"gsi1pk": partition}, low_level=True
    )
    if start is not None:
        args["ExclusiveStartKey"] = start
    answer = _client().query(**args)
    last = answer.get("LastEvaluatedKey")
    return [plain(raw) for raw in answer.get("Items", [])], paging.encode(last) if last else None


def check_count(district: str) -> int:
    """How many records of a district are on its worklist of numbers to verify."""
    pages = queries.pages(
        _client().query,
        TableName=_table_name(),
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": check_partition(district)}},
        Select="COUNT",
    )
    return sum(int(answer.get("Count", 0)) for answer in pages)


_NAME_KEY = {"pk", "sk", "gsi3pk", "gsi3sk"}


def list_page(
    kind: str, district: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Contact], str | None]:
    """A page of one district's records of a kind for staff, in name order (``gsi3``: pinyin
    order of the name, then the name, then the ref), and the cursor of the next page (None
    after the last).

    The index holds keys only: the page's records are then read whole, consistently, so a page
    shows each record as it is now. One record more than the page is asked for, so that the last
    page is known as such and no empty page follows it."""
    partition = name_partition(district, kind)
    args: dict[str, Any] = {
        "TableName": _table_name(), "IndexName": "gsi3", "KeyConditionExpression": "gsi3pk = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}}, "Limit": limit + 1,
    }  # fmt: skip
    start = paging.start_key(cursor, names=_NAME_KEY, fixed={"gsi3pk": partition}, low_level=True)
    if start is not None:
        args["ExclusiveStartKey"] = start
    keys: list[dict[str, Any]] = []
    for answer in queries.pages(_client().query, **args):
        keys.extend(answer.get("Items", []))
        if len(keys) > limit:
            break
    shown = keys[:limit]
    next_cursor = paging.encode({name: shown[-1][name] for name in _NAME_KEY}) if len(keys) > limit else None
    found = get_many(raw["pk"]["S"] for raw in shown)
    return [found[raw["pk"]["S"]] for raw in shown if raw["pk"]["S"] in found], next_cursor


# ------------------------------------------------------------------ writes


def _record_ops(before: Contact | None, after: Contact, table: str) -> list[dict[str, Any]]:
    """The record's own writes, conditioned on the version read (or on its absence)."""
    main, members = to_items(after)
    condition: dict[str, Any]
    if before is None:
        condition = {"ConditionExpression": "attribute_not_exists(pk)"}
    else:
        condition = {
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(before.version)}},
        }
    ops: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": wire(main), **condition}}]
    for item in members.values():
        ops.append({"Put": {"TableName": table, "Item": wire(item)}})
    for sk in sorted(member_keys(before) - members.keys()):
        ops.append({"Delete": {"TableName": table, "Key": {"pk": {"S": main["pk"]}, "sk": {"S": sk}}}})
    return ops


def record_op_count(before: Contact | None, after: Contact) -> int:
    """How many actions writing ``after`` over ``before`` takes (counters aside), without building them."""
    members = member_keys(after)
    return 1 + len(members) + len(member_keys(before) - members)


def _counter_ops(deltas: dict[tuple[str, str], int], table: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": "ADD n :d",
                "ExpressionAttributeValues": {":d": {"N": str(delta)}},
            }
        }
        for (pk, sk), delta in sorted(deltas.items())
    ]


def _busy(error: Exception) -> bool:
    return aws.error_code(error) in _BUSY


def write_records(changes: list[tuple[Contact | None, Contact]], deltas: dict[tuple[str, str], int]) -> bool:
    """Write several records (each over the version read) with the counter moves ``deltas`` in one
    transaction; False when another writer's change cancelled it (nothing is written then)."""
    table = _table_name()
    actions = [op for before, after in changes for op in _record_ops(before, after, table)]
    actions += _counter_ops(deltas, table)
    try:
        _client().transact_write_items(TransactItems=actions)
    except Exception as error:
        if not _busy(error):
            raise
        return False
    return True


def save(
    pk: str,
    before: Contact | None,
    build: Callable[[Contact | None], Contact],
    *,
    check: Callable[[Contact | None, Contact], None] | None = None,
) -> tuple[str, Contact]:
    """Write ``build(before)`` if it changes anything, with the counters it moves, in one
    transaction conditioned on the version read. A concurrent change or a busy counter makes it
    read again and rebuild. Returns ("created" | "updated" | "unchanged", the record)."""
    for attempt in range(MAX_ATTEMPTS):
        after = build(before)
        if check is not None:
            check(before, after)
        if records.same_content(before, after):
            return "unchanged", before  # type: ignore[return-value]
        if write_records([(before, after)], records.counter_deltas(before, after)):
            return ("created" if before is None else "updated"), after
        time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())
        before = get(pk)
    raise RuntimeError("contact record stayed busy; try again")
