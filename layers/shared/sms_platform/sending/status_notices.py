"""Notices of a message's state change for the caller that caused it (CONTRACTS §7, callbacks).

A message whose API key had a callback URL when it was queued carries ``notify_key``; each of
its state moves puts a notice on the callback queue (``CALLBACK_QUEUE_URL``), where the callback
worker signs it and posts it to the key's URL, retrying for 24 hours. A notice is the message as
the move left it (only what the caller may see: the number masked), so callbacks that arrive out
of order are still ordered by their ``updated_at``.

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
