"""Publicity opt-outs per number, kept in ``CONTACTS_TABLE`` under the number's keyed hash.

``pk = "optout#<keyed hash>"``: ``sk = "state"`` holds the current choice (opted out or not,
when, from where and why); ``sk = "event#<ISO time>#<source>"`` items keep each change for the
record. A change older than the current state is kept in the history but does not override it,
so a late-arriving reply cannot undo a newer choice. Only publicity honours opt-outs;
transactional messages still reach the number.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.foundation import crypto
from sms_platform.foundation.identifiers import mask_mobile
from sms_platform.foundation.settings import settings

_STATE = "state"


def _table() -> Any:
    return aws.table(settings().contacts_table)


def _pk(phone_hash: str) -> str:
    return f"optout#{phone_hash}"


def _set(phone: str, opted_out: bool, source: str, reason: str, at: datetime) -> bool:
    """Record a choice; True if it became the current state (False if a newer one stands)."""
    phone_hash = crypto.keyed_hash(phone)
    when = at.isoformat(timespec="milliseconds")
    table = _table()
    table.put_item(
        Item={
            "pk": _pk(phone_hash),
            "sk": f"event#{when}#{source}",
            "opted_out": opted_out,
            "source": source,
            "reason": reason,
            "changed_at": when,
        }
    )
    try:
        table.put_item(
            Item={
                "pk": _pk(phone_hash),
                "sk": _STATE,
                "opted_out": opted_out,
                "source": source,
                "reason": reason,
                "changed_at": when,
                "phone_masked": mask_mobile(phone),
            },
            ConditionExpression="attribute_not_exists(pk) OR changed_at <= :when",
            ExpressionAttributeValues={":when": when},
        )
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    return True


def opt_out(phone: str, source: str, reason: str, at: datetime) -> bool:
    """The number receives no more publicity SMS (a reply ``TD``, a staff entry, ...)."""
    return _set(phone, True, source, reason, at)


def opt_in(phone: str, source: str, reason: str, at: datetime) -> bool:
    """The number receives publicity SMS again."""
    return _set(phone, False, source, reason, at)


def state(phone_hash: str) -> dict[str, Any] | None:
    """The current choice of a number: ``opted_out``, ``changed_at``, ``source``, ``reason``."""
    return _table().get_item(Key={"pk": _pk(phone_hash), "sk": _STATE}, ConsistentRead=True).get("Item")


def is_opted_out(phone_hash: str) -> bool:
    item = state(phone_hash)
    return bool(item and item.get("opted_out"))


def opted_out_among(phone_hashes: Iterable[str]) -> set[str]:
    """Which of these numbers have opted out (one BatchGetItem per hundred numbers)."""
    hashes = list(dict.fromkeys(phone_hashes))
    table = _table()
    found: set[str] = set()
    for start in range(0, len(hashes), 100):
        pending = [{"pk": _pk(h), "sk": _STATE} for h in hashes[start : start + 100]]
        for _ in range(10):
            if not pending:
                break
            answer = table.meta.client.batch_get_item(
                RequestItems={
                    table.name: {"Keys": pending, "ConsistentRead": True, "ProjectionExpression": "pk, opted_out"}
                }
            )
            for item in answer["Responses"].get(table.name, []):
                if item.get("opted_out"):
                    found.add(item["pk"].removeprefix("optout#"))
            pending = answer.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys", [])
        if pending:
            raise RuntimeError("DynamoDB left keys unprocessed")
    return found


def history(phone_hash: str, limit: int = 50) -> list[dict[str, Any]]:
    """A number's opt-out changes, newest first."""
    answer = _table().query(
        KeyConditionExpression="pk = :p AND begins_with(sk, :e)",
        ExpressionAttributeValues={":p": _pk(phone_hash), ":e": "event#"},
        ScanIndexForward=False,
        Limit=limit,
    )
    return answer.get("Items", [])
