"""The audit table (``AUDIT_TABLE``): the only code that reads or writes it.

Items are the chains' entries (``chain.next_item``): ``pk`` the chain, ``sk`` the sequence
number. An entry is only ever added, by a conditional put of the next number, so concurrent
writers never fork a chain; it is never changed or removed (the trail is append-only). ``gsi1``
finds an operator's entries and ``gsi2`` an office's, both sorted by time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sms_platform import aws
from sms_platform.audit.chain import seq_key
from sms_platform.aws import queries
from sms_platform.foundation import paging
from sms_platform.foundation.settings import settings

# The index of each way of searching, by the prefix its key carries (``chain.index_keys``).
_INDEXES = {"operator": "gsi1", "office": "gsi2"}


def _table() -> Any:
    return aws.table(settings().audit_table)


# ---------------------------------------------------------------------------- appending


def head(chain: str) -> Mapping[str, Any] | None:
    """The newest entry of ``chain`` (None while it is empty)."""
    answer = _table().query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": chain},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    found = answer.get("Items", [])
    return found[0] if found else None


def add(item: Mapping[str, Any]) -> bool:
    """Write a new entry; False when its sequence number was taken first by another writer."""
    return aws.put_new(_table(), item)


# ---------------------------------------------------------------------------- reading


def chain_items(chain: str) -> Iterator[Mapping[str, Any]]:
    """Every entry of ``chain`` in sequence order."""
    return queries.items(
        _table().query,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": chain},
        ConsistentRead=True,
    )


def _filters(
    time_range: tuple[str, str] | None, template_id: str | None, office: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A query's filter (its ``FilterExpression`` and names) and the values they use."""
    parts, names, values = [], {}, {}
    if time_range is not None:
        parts.append("#at BETWEEN :start AND :end")
        names["#at"] = "at"
        values.update({":start": time_range[0], ":end": time_range[1]})
    if template_id:
        parts.append("template_id = :template")
        values[":template"] = template_id
    if office:
        parts.append("office = :office")
        values[":office"] = office
    arguments: dict[str, Any] = {}
    if parts:
        arguments["FilterExpression"] = " AND ".join(parts)
    if names:
        arguments["ExpressionAttributeNames"] = names
    return arguments, values


def _read_up_to(count: int, arguments: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``count`` matches of a query, and the key to go on from when more may follow.

    Each page reads no more than is still wanted (``Limit``), so every match of the last page
    read is taken and its last key is a safe place for the next page to start."""
    found: list[dict[str, Any]] = []

    def query(**page: Any) -> dict[str, Any]:
        return _table().query(**page, Limit=count - len(found))

    for answer in queries.pages(query, **arguments):
        found.extend(answer.get("Items", []))
        if len(found) >= count:
            return found, answer.get("LastEvaluatedKey")
    return found, None


def index_page(
    by: str,
    value: str,
    *,
    start: str,
    end: str,
    template_id: str | None,
    office: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Entries of one operator (``by="operator"``) or office (``by="office"``) between two time
    keys, optionally only those about a template or, for an operator, an office; up to ``limit``
    from the place ``cursor`` names, and the key of the place the page ends (None at the end)."""
    index, key = _INDEXES[by], f"{by}#{value}"
    filters, values = _filters(None, template_id, office)
    arguments: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :key AND {index}sk BETWEEN :from AND :to",
        "ExpressionAttributeValues": {":key": key, ":from": start, ":to": end + "~", **values},
        **filters,
    }
    if cursor:
        names = {"pk", "sk", f"{index}pk", f"{index}sk"}
        arguments["ExclusiveStartKey"] = paging.start_key(cursor, names=names, fixed={f"{index}pk": key})
    return _read_up_to(limit, arguments)


def chain_page(
    chain: str, *, after: int, start: str, end: str, template_id: str | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` entries of ``chain`` after sequence number ``after`` between two time
    keys (optionally only those about a template), and whether the chain was read to its end."""
    filters, values = _filters((start, end), template_id, None)
    arguments = {
        "KeyConditionExpression": "pk = :pk AND sk > :after",
        **filters,
        "ExpressionAttributeValues": {":pk": chain, ":after": seq_key(after), **values},
    }
    items, last = _read_up_to(limit, arguments)
    return items, last is None
