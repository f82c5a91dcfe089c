"""Notices of a message's state change for the caller that caused it (CONTRACTS §7, callbacks).

A message whose API key had a callback URL when it was queued carries ``notify_key``; each of
its state moves puts a notice on the callback queue (``CALLBACK_QUEUE_URL``), where the callback
worker signs it and posts it to the key's URL, retrying for 24 hours. A notice is the message as
the move left it (only what the caller may see: the number masked), so callbacks that arrive out
of order are still ordered by their ``updated_at``.

The store tells of the moves it reads the message for (``delivered``, ``failed``, ...); the
moves a batch makes together without reading (``queued → sending → sent``) are told by the
dispatch function, which compares the batch's messages before and after (``notify_moves``).

A notice that cannot be queued is logged and dropped: the move itself is written, and the
caller can still read the message's state with ``GET /v1/events/{event_id}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sms_platform import aws
from sms_platform.foundation.observability import logger
from sms_platform.foundation.settings import settings

# What a notice carries of a message: what the caller's answer is built from, nothing more.
NOTICE_FIELDS = (
    "message_id", "notify_key", "caller_id", "state", "updated_at", "phone_masked", "error_code",
    "suppress_reason", "reason", "test",
)  # fmt: skip


def notice_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The notice of one message as it is now."""
    return {name: item[name] for name in NOTICE_FIELDS if item.get(name) not in (None, "")}


def notify(items: Iterable[Mapping[str, Any]]) -> int:
    """Queue a notice for each message that has a caller to tell; how many were queued."""
    bodies = [json.dumps(notice_of(item), ensure_ascii=False, default=str) for item in items if item.get("notify_key")]
    url = settings().callback_queue_url
    if not bodies or not url:
        return 0
    try:
        sqs = aws.client("sqs")
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
    except Exception as error:  # noqa: BLE001 - a notice never stops a send or a receipt
        logger().warning("status notice not queued", extra={"error": type(error).__name__, "count": len(bodies)})
        return 0
    return len(bodies)


# Moves the store writes without reading the message (a batch's, in transactions): what
# ``notify_moves`` tells of. The others are told by the store itself, as they are written.
UNREAD_MOVES = frozenset({"queued", "sending", "sent"})


def notify_moves(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> int:
    """Queue a notice for each move of a batch's messages (by id) that the store wrote without
    reading them: the items as they were before the batch was handled and as they are after. A
    message taken from ``queued`` and moved on in the same handling is told ``sending`` too, at
    its ``sending_at``."""
    return notify(moves_between(before, after))


def moves_between(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The notices ``notify_moves`` queues, in order (pure)."""
    found: list[dict[str, Any]] = []
    for mid, item in after.items():
        was, now = before.get(mid, {}).get("state"), item.get("state")
        if was == now:
            continue
        if was == "queued" and now != "sending" and item.get("sending_at"):
            found.append({**item, "state": "sending", "updated_at": item["sending_at"]})
        if now in UNREAD_MOVES:
            found.append(dict(item))
    return found
