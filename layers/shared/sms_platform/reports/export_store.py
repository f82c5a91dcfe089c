"""Recipient exports as items of ``SENDS_TABLE`` (``pk = "export#<export id>"``, ``sk =
"export"``): what was asked for, by whom, and how far the background build got; the only code
that reads or writes them. Items expire (TTL) a day after their file does, so that a late
request for an expired export is still told so, then they go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings

SK = "export"
ITEM_GRACE = timedelta(days=1)


def _table() -> Any:
    return aws.table(settings().sends_table)


def key(export_id: str) -> dict[str, str]:
    return {"pk": f"export#{export_id}", "sk": SK}


def create(export_id: str, fields: dict[str, Any], *, expires_at: datetime) -> dict[str, Any]:
    """A new export, queued (its id is new: an existing one is never overwritten)."""
    item = {
        **key(export_id),
        **fields,
        "export_id": export_id,
        "status": "queued",
        "rows_done": 0,
        "attempts": 0,
        "expires_at_iso": expires_at.isoformat(),
        "expires_at": int((expires_at + ITEM_GRACE).timestamp()),
    }
    if not aws.put_new(_table(), item):
        raise RuntimeError(f"export {export_id} already exists")
    return item


def get(export_id: str) -> dict[str, Any] | None:
    return _table().get_item(Key=key(export_id), ConsistentRead=True).get("Item")


def start(export_id: str, at: datetime) -> dict[str, Any] | None:
    """Mark a queued (or interrupted) export as being built, counting the attempt; None when it
    is already finished."""
    try:
        answer = _table().update_item(
            Key=key(export_id),
            UpdateExpression="SET #s = :b, started_at = :at, rows_done = :zero ADD attempts :one",
            ConditionExpression="#s IN (:q, :b)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":b": "building", ":q": "queued", ":at": at.isoformat(), ":zero": 0, ":one": 1},
            ReturnValues="ALL_NEW",
        )
    except Exception as error:
        if aws.condition_failed(error):
            return None
        raise
    return answer["Attributes"]


def set_total(export_id: str, rows_total: int) -> None:
    """How many rows the export will hold, counted before the first is written."""
    _table().update_item(
        Key=key(export_id),
        UpdateExpression="SET rows_total = :n",
        ExpressionAttributeValues={":n": rows_total},
    )


def progress(export_id: str, rows_done: int) -> None:
    _table().update_item(
        Key=key(export_id),
        UpdateExpression="SET rows_done = :n",
        ConditionExpression="#s = :b",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":n": rows_done, ":b": "building"},
    )


def finish(export_id: str, rows_done: int, object_key: str, at: datetime) -> None:
    _table().update_item(
        Key=key(export_id),
        UpdateExpression="SET #s = :r, rows_done = :n, object_key = :k, finished_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": "ready", ":n": rows_done, ":k": object_key, ":at": at.isoformat()},
    )


def fail(export_id: str, message: str, at: datetime) -> None:
    _table().update_item(
        Key=key(export_id),
        UpdateExpression="SET #s = :f, #e = :m, finished_at = :at",
        ExpressionAttributeNames={"#s": "status", "#e": "error"},
        ExpressionAttributeValues={":f": "failed", ":m": message, ":at": at.isoformat()},
    )
