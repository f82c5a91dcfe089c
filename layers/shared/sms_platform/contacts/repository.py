"""The address book on ``CONTACTS_TABLE``.

Items of one record (``pk = "c#<kind>#<keyed hash of the ID>"``):

- ``sk = "rec"``: the record: encrypted ID and phone history, masked values for display, the
  number in use (``cur_h`` hash, ``cur_t`` encrypted, ``cur_m`` masked). ``gsi1`` puts it in
  its district's audience index (``aud#<district>#<kind>#all#<shard>``, sorted by phone hash);
  ``gsi2`` finds it by the number in use (``ph#<phone hash>``).
- ``sk = "m#ins=<type>"`` / ``"m#tag=<tag>"``: the same recipient fields in the index of each
  insurance type and tag it belongs to.

Audience counters (``pk = "cnt#<kind>#<dimension>"``, ``sk = "<district>#<shard>"``) move in
the same transaction as the record, so a retried write can never count a record twice.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.contacts import records, validation
from sms_platform.contacts.models import Contact, ContactIn, Kind, PhoneEntry, Recipient, RecordResult
from sms_platform.foundation import crypto, paging

TABLE_ENV = "CONTACTS_TABLE"
RECORD_SK = "rec"
MAX_ATTEMPTS = 8
_BATCH_GET = 100
OUT_OF_SCOPE = "只能维护本区县的通讯录"


class OutOfScope(Exception):
    """The record lies outside the districts the writer may change."""


def record_pk(kind: str, id_hash: str) -> str:
    return f"c#{kind}#{id_hash}"


def ref_of(kind: str, id_hash: str) -> str:
    return f"{kind}-{id_hash}"


def pk_of_ref(ref: str) -> str | None:
    kind, _, id_hash = ref.partition("-")
    if kind not in ("person", "unit") or len(id_hash) != 64 or not all(c in "0123456789abcdef" for c in id_hash):
        return None
    return record_pk(kind, id_hash)


def id_hash_of(identifier: str) -> str:
    return crypto.keyed_hash(identifier, purpose="id")


# ------------------------------------------------------------------ item <-> record


def _phone_map(entry: PhoneEntry) -> dict[str, Any]:
    item = {
        "h": entry.hash,
        "t": entry.token,
        "m": entry.masked,
        "src": entry.source.value,
        "at": entry.collected_at.isoformat(),
        "v": entry.verified,
    }
    if entry.contact_name:
        item["who"] = entry.contact_name
    return item


def _phone_entry(item: dict[str, Any]) -> PhoneEntry:
    return PhoneEntry(
        hash=item["h"],
        token=item["t"],
        masked=item["m"],
        source=item["src"],
        collected_at=datetime.fromisoformat(item["at"]),
        verified=bool(item["v"]),
        contact_name=item.get("who"),
    )


def _recipient_fields(contact: Contact) -> dict[str, Any]:
    phone = contact.current_phone
    fields: dict[str, Any] = {
        "ref": contact.ref,
        "kind": contact.kind.value,
        "name": contact.name,
        "district": contact.district,
        "ins": [t.value for t in contact.insurance_types],
        "tags": list(contact.tags),
    }
    if phone is not None:
        fields.update(cur_h=phone.hash, cur_t=phone.token, cur_m=phone.masked)
    return fields


def to_items(contact: Contact) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The record item and its index items by sort key."""
    pk = record_pk(contact.kind.value, contact.id_hash)
    base = _recipient_fields(contact)
    main: dict[str, Any] = {
        "pk": pk,
        "sk": RECORD_SK,
        **base,
        "id_hash": contact.id_hash,
        "id_t": contact.id_token,
        "id_m": contact.id_masked,
        "employer": contact.employer,
        "phones": [_phone_map(entry) for entry in contact.phones],
        "version": contact.version,
        "updated_at": contact.updated_at.isoformat() if contact.updated_at else None,
    }
    main = {key: value for key, value in main.items() if value is not None}
    members: dict[str, dict[str, Any]] = {}
    phone = contact.current_phone
    if phone is None:
        return main, members
    shard = records.audience_shard(phone.hash)
    sort_key = records.audience_sort_key(phone.hash, contact.id_hash)
    kind = contact.kind.value
    for dim in records.index_dimensions(contact):
        keys = {
            "gsi1pk": records.audience_partition(contact.district, kind, dim, shard),
            "gsi1sk": sort_key,
        }
        if dim == records.ALL:
            main.update(keys, gsi2pk=f"ph#{phone.hash}", gsi2sk=pk)
        else:
            members[f"m#{dim}"] = {"pk": pk, "sk": f"m#{dim}", **base, **keys}
    return main, members


def from_item(item: dict[str, Any]) -> Contact:
    return Contact(
        kind=item["kind"],
        id_hash=item["id_hash"],
        id_token=item["id_t"],
        id_masked=item["id_m"],
        name=item["name"],
        district=item["district"],
        insurance_types=list(item.get("ins") or []),
        employer=item.get("employer"),
        tags=list(item.get("tags") or []),
        phones=[_phone_entry(p) for p in item.get("phones") or []],
        version=int(item.get("version", 0)),
        updated_at=datetime.fromisoformat(item["updated_at"]) if item.get("updated_at") else None,
    )


# ------------------------------------------------------------------ low-level access


def _client() -> Any:
    return aws.client("dynamodb")


def _table_name() -> str:
    return os.environ[TABLE_ENV]


def _value(value: Any) -> dict[str, Any]:
    """One attribute in DynamoDB's wire form; records hold only these few types (boto3's
    general serializer costs several times more and imports take thousands of records)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_value(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: _value(item) for key, item in value.items()}}
    raise TypeError(f"unsupported attribute type {type(value).__name__}")


def _ser(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _value(value) for key, value in item.items()}


_deserializer: Any = None


def _des(item: dict[str, Any]) -> dict[str, Any]:
    global _deserializer
    if _deserializer is None:
        from boto3.dynamodb.types import TypeDeserializer

        _deserializer = TypeDeserializer()
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


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
                item = _des(raw)
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


def normalized_identifier(kind: str, identifier: str) -> str | None:
    """The ID number or credit code in its one stored form, or None when it is not valid."""
    try:
        return validation.id_number(identifier) if kind == "person" else validation.credit_code(identifier)
    except ValueError:
        return None


def find(kind: str, identifier: str) -> Contact | None:
    """A record by its ID number or credit code (None for an invalid one)."""
    normal = normalized_identifier(kind, identifier)
    return get(record_pk(kind, id_hash_of(normal))) if normal else None


def find_by_phone(phone: str) -> list[Contact]:
    """Records whose number in use is ``phone`` (already normalised)."""
    phone_hash = crypto.keyed_hash(phone)
    answer = _client().query(
        TableName=_table_name(),
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :p",
        ExpressionAttributeValues={":p": {"S": f"ph#{phone_hash}"}},
    )
    pks = [raw["pk"]["S"] for raw in answer.get("Items", [])]
    return list(get_many(pks).values())


def recipients_of(kind: str, identifier: str) -> list[Recipient]:
    """Whom to text about one unit or person: a person's number in use; each contact person's
    number in use for a unit (one message per number)."""
    contact = find(kind, identifier)
    if contact is None:
        return []
    if contact.kind is Kind.person:
        phones = [contact.current_phone] if contact.current_phone else []
    else:
        phones = list(records.current_by_contact_person(contact.phones).values())
    seen: set[str] = set()
    chosen = []
    for phone in phones:
        if phone is not None and phone.hash not in seen:
            seen.add(phone.hash)
            chosen.append(
                Recipient(
                    contact.ref,
                    contact.kind.value,
                    contact.name,
                    contact.district,
                    phone.hash,
                    phone.token,
                    phone.masked,
                )
            )
    return chosen


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
    ops: list[dict[str, Any]] = [{"Put": {"TableName": table, "Item": _ser(main), **condition}}]
    for item in members.values():
        ops.append({"Put": {"TableName": table, "Item": _ser(item)}})
    for sk in sorted(_member_keys(before) - members.keys()):
        ops.append({"Delete": {"TableName": table, "Key": {"pk": {"S": main["pk"]}, "sk": {"S": sk}}}})
    return ops


def _member_keys(contact: Contact | None) -> set[str]:
    """Sort keys of a record's index items (as ``to_items`` makes them)."""
    if contact is None or contact.current_phone is None:
        return set()
    return {f"m#{dim}" for dim in records.index_dimensions(contact) if dim != records.ALL}


def _record_op_count(before: Contact | None, after: Contact) -> int:
    """How many actions ``_record_ops`` takes, without building them."""
    members = _member_keys(after)
    return 1 + len(members) + len(_member_keys(before) - members)


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


def _write_ops(before: Contact | None, after: Contact) -> list[dict[str, Any]]:
    table = _table_name()
    return _record_ops(before, after, table) + _counter_ops(records.counter_deltas(before, after), table)


def _is_cancelled(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("TransactionCanceledException", "ConditionalCheckFailedException", "TransactionConflictException")


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
        try:
            _client().transact_write_items(TransactItems=_write_ops(before, after))
        except Exception as error:
            if not _is_cancelled(error):
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())
            before = get(pk)
            continue
        return ("created" if before is None else "updated"), after
    raise RuntimeError("contact record stayed busy; try again")


def _collected(existing: Contact | None, incoming: ContactIn, at: datetime) -> list[PhoneEntry]:
    """The incoming numbers as history entries; a number already held keeps its ciphertext."""
    tokens = {entry.hash: entry.token for entry in existing.phones} if existing else {}
    entries = []
    for phone in incoming.phones:
        phone_hash = crypto.keyed_hash(phone.number)
        entries.append(
            PhoneEntry(
                hash=phone_hash,
                token=tokens.get(phone_hash) or crypto.encrypt(phone.number),
                masked=validation.mask_mobile(phone.number),
                source=phone.source,
                collected_at=phone.collected_at or at,
                verified=phone.verified,
                contact_name=phone.contact_name,
            )
        )
    return entries


class _Collection:
    """One validated record on its way in: its key, how it is rebuilt over what is stored, and
    where the writer may act (``districts``; None for everywhere)."""

    def __init__(self, incoming: ContactIn, *, at: datetime, districts: frozenset[str] | None) -> None:
        self.incoming = incoming
        self.at = at
        self.districts = districts
        self.kind = incoming.kind.value
        self.id_hash = id_hash_of(incoming.id)
        self.pk = record_pk(self.kind, self.id_hash)
        self.id_masked = validation.mask_identifier(self.kind, incoming.id)
        self._id_token: str | None = None

    def build(self, current: Contact | None) -> Contact:
        if current is None and self._id_token is None:
            self._id_token = crypto.encrypt(self.incoming.id)  # once, however often rebuilt
        return records.merge(
            current,
            self.incoming,
            id_hash=self.id_hash,
            id_token=current.id_token if current else self._id_token,  # type: ignore[arg-type]
            id_masked=self.id_masked,
            collected=_collected(current, self.incoming, self.at),
            at=self.at,
        )

    def check(self, current: Contact | None, after: Contact) -> None:
        if self.districts is None:
            return
        if after.district not in self.districts or (current is not None and current.district not in self.districts):
            raise OutOfScope()


def upsert(
    incoming: ContactIn,
    *,
    at: datetime,
    existing: Contact | None | type[Ellipsis] = ...,
    districts: frozenset[str] | None = None,
) -> tuple[str, Contact]:
    """Add or update one validated record. ``districts``, when given, is where the writer may
    act: a record in or moving to any other district raises ``OutOfScope``."""
    collection = _Collection(incoming, at=at, districts=districts)
    before = get(collection.pk) if existing is ... else existing
    return save(collection.pk, before, collection.build, check=collection.check)  # type: ignore[arg-type]


def _out_of_scope(index: int) -> RecordResult:
    return RecordResult(index=index, status="rejected", errors=[{"field": "district", "message": OUT_OF_SCOPE}])


def upsert_many(
    incoming: list[tuple[int, ContactIn]],
    *,
    at: datetime,
    districts: frozenset[str] | None = None,
) -> list[RecordResult]:
    """Upsert validated records (with their positions); one result each, in the given order.

    Existing records are read in batches. The changed ones are written many to a transaction,
    each conditioned on the version read (or on not existing yet), with one update per counter
    item a group moves. A group that meets a concurrent change is cancelled whole, and its
    records are then written one at a time, reading them again. A record given several times
    is written in order: its first occurrence with the others, the later ones one by one after.
    Writing the same records again changes nothing: they come back ``unchanged``.
    """
    if not incoming:
        return []
    collections = [_Collection(contact, at=at, districts=districts) for _, contact in incoming]
    existing: dict[str, Contact] = get_many(c.pk for c in collections)
    occurrences = Counter(c.pk for c in collections)
    # Neighbours that move the same counters share transactions; a record's later occurrences
    # sort with its first (the stable sort keeps their order).
    group_of: dict[str, tuple[str, str, int]] = {}
    for c in collections:
        group_of.setdefault(c.pk, records.counter_group_key(c.kind, c.incoming.district, c.id_hash))
    order = sorted(range(len(collections)), key=lambda position: group_of[collections[position].pk])

    results: dict[int, RecordResult] = {}
    one_by_one: list[int] = []
    table = _table_name()
    # Records are built as the packing reads them and dropped once sent, and a group's requests
    # are made only when it is sent, so a chunk's worth never sits in memory at once.
    prepared: dict[int, tuple[int, Contact | None, Contact, dict[tuple[str, str], int]]] = {}

    def prepare() -> Iterator[tuple[int, list[tuple[str, str]]]]:
        seen: set[str] = set()
        numbers = itertools.count()  # the packing names writes by their order
        for position in order:
            collection = collections[position]
            if collection.pk in seen:
                one_by_one.append(position)
                continue
            seen.add(collection.pk)
            before = existing.get(collection.pk)
            after = collection.build(before)
            try:
                collection.check(before, after)
            except OutOfScope:
                results[position] = _out_of_scope(incoming[position][0])
                continue
            if records.same_content(before, after):
                results[position] = RecordResult(index=incoming[position][0], status="unchanged", ref=after.ref)
                continue
            moved = records.counter_deltas(before, after)
            prepared[next(numbers)] = position, before, after, moved
            yield _record_op_count(before, after), list(moved)

    reread: set[str] = set()
    for group in records.pack_writes(prepare()):
        writes = [prepared.pop(member) for member in group]
        actions = [op for _, before, after, _ in writes for op in _record_ops(before, after, table)]
        actions += _counter_ops(records.sum_deltas(moved for *_, moved in writes), table)
        try:
            _client().transact_write_items(TransactItems=actions)
        except Exception as error:
            if not _is_cancelled(error):
                raise
            for position, *_ in writes:
                one_by_one.append(position)
                reread.add(collections[position].pk)
            continue
        for position, before, after, _ in writes:
            if occurrences[collections[position].pk] > 1:  # its later occurrences build on it
                existing[collections[position].pk] = after
            status = "created" if before is None else "updated"
            results[position] = RecordResult(index=incoming[position][0], status=status, ref=after.ref)

    for position in sorted(one_by_one):
        index = incoming[position][0]
        collection = collections[position]
        if collection.pk in reread:
            reread.discard(collection.pk)
            before = get(collection.pk)
        else:
            before = existing.get(collection.pk)
        try:
            status, saved = save(collection.pk, before, collection.build, check=collection.check)
        except OutOfScope:
            results[position] = _out_of_scope(index)
            continue
        existing[collection.pk] = saved
        results[position] = RecordResult(index=index, status=status, ref=saved.ref)
    return [results[position] for position in range(len(incoming))]


def _list_position(kind: str, district: str, cursor: str | None) -> tuple[int, dict[str, Any] | None]:
    """The shard and start key a ``list_page`` cursor carries, checked to stay in the district."""
    if not cursor:
        return 0, None
    position = paging.decode(cursor)
    if not isinstance(position, dict) or set(position) != {"shard", "key"}:
        raise paging.invalid()
    shard, key = position["shard"], position["key"]
    if not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < records.AUDIENCE_SHARDS:
        raise paging.invalid()
    if key is not None:
        partition = records.audience_partition(district, kind, records.ALL, shard)
        key = paging.checked_key(
            key, names={"pk", "sk", "gsi1pk", "gsi1sk"}, fixed={"gsi1pk": partition}, low_level=True
        )
    return shard, key


def list_page(
    kind: str, district: str, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Contact], str | None]:
    """A page of one district's records for staff, walking the audience index shard by shard,
    and the cursor of the next page (None after the last)."""
    client, table = _client(), _table_name()
    shard, start_key = _list_position(kind, district, cursor)
    found: list[dict[str, Any]] = []
    while shard < records.AUDIENCE_SHARDS and len(found) < limit:
        args: dict[str, Any] = {
            "TableName": table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": records.audience_partition(district, kind, records.ALL, shard)}},
            "Limit": limit - len(found),
        }
        if start_key:
            args["ExclusiveStartKey"] = start_key
        answer = client.query(**args)
        found.extend(answer.get("Items", []))
        start_key = answer.get("LastEvaluatedKey")
        if not start_key:
            shard, start_key = shard + 1, None
    next_cursor = paging.encode({"shard": shard, "key": start_key}) if shard < records.AUDIENCE_SHARDS else None
    return [from_item(_des(raw)) for raw in found], next_cursor


def decrypt_phone(entry: PhoneEntry) -> str:
    return crypto.decrypt(entry.token)
