"""Number health (R10 ↔ R16): a number's permanent delivery failures, the mark that holds it for
verification, and the staff's block (黑名单), kept in ``CONTACTS_TABLE`` under the number's
keyed hash; the only code that reads or writes these items (the rules are ``number_health_rules``).

``pk = "nh#<keyed hash>"``:

- ``sk = "state"``: ``unverified`` with ``marked_at`` and the ``failures`` that marked it,
  ``cleared_at`` (the last verification or new number); ``blocked`` with its reason, time, staff
  member and office. While blocked, ``gsi1pk = "nhblocks"``, ``gsi1sk = "<office>#<time>#<hash>"``
  list the blocks by the office that placed them.
- ``sk = "fail#<message id>"``: one permanent failure, written once per message (a repeated
  receipt finds it there).
- ``sk = "block#<ISO time>"``: each block and unblock, kept for the record.

Everything shows the number masked; the clear number is never stored here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation import paging
from sms_platform.foundation.settings import settings
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.number_health_rules import Failure, Hold, counted, failure_of_message, hold_of

STATE = "state"
BLOCKS_INDEX = "nhblocks"
_PREFIX = "nh#"


def _table() -> Any:
    return aws.table(settings().contacts_table)


def _pk(phone_hash: str) -> str:
    return _PREFIX + phone_hash


def _state_key(phone_hash: str) -> dict[str, str]:
    return {"pk": _pk(phone_hash), "sk": STATE}


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


# ------------------------------------------------------------------ reading


def state(phone_hash: str) -> dict[str, Any] | None:
    return _table().get_item(Key=_state_key(phone_hash), ConsistentRead=True).get("Item")


def _states(hashes: Sequence[str], projection: str) -> dict[str, dict[str, Any]]:
    """The state items of these numbers (distinct) that exist, by hash (one BatchGetItem per
    hundred)."""
    table = _table()
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(hashes), 100):
        # Literal key parts: the dispatcher builds a hundred of these for every batch it sends.
        pending: list[dict[str, Any]] = [{"pk": "nh#" + h, "sk": "state"} for h in hashes[start : start + 100]]
        for _ in range(10):
            spec = {"Keys": pending, "ConsistentRead": True, "ProjectionExpression": projection}
            answer = table.meta.client.batch_get_item(RequestItems={table.name: spec})
            for item in answer["Responses"].get(table.name, ()):
                found[item["pk"][3:]] = item
            pending = answer.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys")
            if not pending:
                break
        if pending:
            raise RuntimeError("DynamoDB left keys unprocessed")
    return found


def holds_among(phone_hashes: Sequence[str], kind: SmsKind | str) -> dict[str, Hold]:
    """Which of these numbers (distinct, as a batch's are) a message of ``kind`` may not reach,
    and why (the dispatcher asks once per batch)."""
    held = {}
    for phone_hash, item in _states(phone_hashes, "pk, unverified, blocked").items():
        hold = hold_of(item, kind)
        if hold is not None:
            held[phone_hash] = hold
    return held


def marks_among(phone_hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The numbers among these marked for verification, with when and the failures that marked
    them (the address book reads them when it takes in numbers)."""
    found = _states(list(dict.fromkeys(phone_hashes)), "pk, unverified, marked_at, failures, phone_masked")
    return {phone_hash: item for phone_hash, item in found.items() if item.get("unverified")}


def failures(phone_hash: str) -> list[Failure]:
    """Every permanent failure recorded for a number, oldest first."""
    items = queries.items(
        _table().query,
        KeyConditionExpression="pk = :p AND begins_with(sk, :f)",
        ExpressionAttributeValues={":p": _pk(phone_hash), ":f": "fail#"},
        ConsistentRead=True,
    )
    return sorted((Failure.of(item) for item in items), key=lambda f: (f.failed_at, f.message_id))


# ------------------------------------------------------------------ failures and the mark


def note_failure(message: Mapping[str, Any], *, at: datetime, threshold: int | None = None) -> bool:
    """Record a permanent failure of ``message`` (its item, failed) and mark its number when its
    failures reach ``threshold`` (``NUMBER_CHECK_FAILURES`` by default). Safe to repeat: the
    failure is kept once per message and the mark set once. Whether the number is marked now."""
    phone_hash = str(message["phone_hash"])
    failure = failure_of_message(message, at)
    table = _table()
    try:
        table.put_item(
            Item={"pk": _pk(phone_hash), "sk": f"fail#{failure.message_id}", **failure.to_item()},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
    current = state(phone_hash) or {}
    if current.get("unverified"):
        return True
    cleared = current.get("cleared_at")
    found = counted(failures(phone_hash), datetime.fromisoformat(cleared) if cleared else None)
    if len(found) < max(1, settings().number_check_failures if threshold is None else threshold):
        return False
    marked = [f.to_item() for f in found]
    try:
        table.update_item(
            Key=_state_key(phone_hash),
            UpdateExpression="SET unverified = :t, marked_at = :now, failures = :f, phone_masked = :m",
            ConditionExpression="attribute_not_exists(unverified) OR unverified = :no",
            ExpressionAttributeValues={
                ":t": True, ":no": False, ":now": _iso(at), ":f": marked,
                ":m": str(message.get("phone_masked") or ""),
            },
        )  # fmt: skip
    except Exception as error:
        if not aws.condition_failed(error):
            raise
    return True


def clear(phone_hash: str, *, at: datetime) -> bool:
    """The number was verified or replaced: its mark is lifted and its failures count afresh.
    Whether it was marked."""
    try:
        _table().update_item(
            Key=_state_key(phone_hash),
            UpdateExpression="SET unverified = :no, cleared_at = :now REMOVE marked_at, failures",
            ConditionExpression="unverified = :t",
            ExpressionAttributeValues={":t": True, ":no": False, ":now": _iso(at)},
        )
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    return True


# ------------------------------------------------------------------ blocks


def _history(phone_hash: str, entry: Mapping[str, Any], at: datetime) -> None:
    _table().put_item(Item={"pk": _pk(phone_hash), "sk": f"block#{_iso(at)}", **entry})


def block(phone_hash: str, phone_masked: str, reason: str, *, by: str, by_name: str, office: str, at: datetime) -> bool:
    """Put the number on the block list; False when it was on it already (nothing changes)."""
    when = _iso(at)
    entry = {"blocked": True, "reason": reason, "at": when, "by": by, "by_name": by_name, "office": office}
    try:
        _table().update_item(
            Key=_state_key(phone_hash),
            UpdateExpression=(
                "SET blocked = :t, block_reason = :r, blocked_at = :now, blocked_by = :by, blocked_by_name = :n, "
                "blocked_office = :o, phone_masked = :m, gsi1pk = :g, gsi1sk = :s"
            ),
            ConditionExpression="attribute_not_exists(blocked) OR blocked = :no",
            ExpressionAttributeValues={
                ":t": True, ":no": False, ":r": reason, ":now": when, ":by": by, ":n": by_name, ":o": office,
                ":m": phone_masked, ":g": BLOCKS_INDEX, ":s": f"{office}#{when}#{phone_hash}",
            },
        )  # fmt: skip
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    _history(phone_hash, entry, at)
    return True


def unblock(phone_hash: str, reason: str, *, by: str, by_name: str, office: str, at: datetime) -> dict[str, Any] | None:
    """Take the number off the block list; the state as it was, or None when it was not blocked."""
    try:
        answer = _table().update_item(
            Key=_state_key(phone_hash),
            UpdateExpression="SET blocked = :no REMOVE block_reason, blocked_at, blocked_by, blocked_by_name, "
            "blocked_office, gsi1pk, gsi1sk",
            ConditionExpression="blocked = :t",
            ExpressionAttributeValues={":t": True, ":no": False},
            ReturnValues="ALL_OLD",
        )
    except Exception as error:
        if aws.condition_failed(error):
            return None
        raise
    entry = {"blocked": False, "reason": reason, "at": _iso(at), "by": by, "by_name": by_name, "office": office}
    _history(phone_hash, entry, at)
    return answer.get("Attributes", {})


def blocks_page(office: str | None, *, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Blocked numbers, newest first within each office (``office``: only those it placed), a
    page at a time with the cursor of the next page."""
    condition = "gsi1pk = :g"
    values: dict[str, Any] = {":g": BLOCKS_INDEX}
    if office is not None:
        condition += " AND begins_with(gsi1sk, :o)"
        values[":o"] = f"{office}#"
    args: dict[str, Any] = {
        "IndexName": "gsi1", "KeyConditionExpression": condition, "ExpressionAttributeValues": values,
        "ScanIndexForward": False, "Limit": limit,
    }  # fmt: skip
    start = paging.start_key(cursor, names={"pk", "sk", "gsi1pk", "gsi1sk"}, fixed={"gsi1pk": BLOCKS_INDEX})
    if start is not None:
        if office is not None and not start["gsi1sk"].startswith(f"{office}#"):
            raise paging.invalid()  # a cursor of another office's blocks
        args["ExclusiveStartKey"] = start
    answer = _table().query(**args)
    last = answer.get("LastEvaluatedKey")
    return answer.get("Items", []), paging.encode(last) if last else None
