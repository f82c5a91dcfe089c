"""Posting one status callback (CONTRACTS §7) to the URL of the API key whose message changed.

The body is ``{"event_id", "message": {...}}`` (``"test": true`` for a test key's message), sent
as it was signed: ``X-Platform-Timestamp`` (Unix seconds) and ``X-Platform-Signature``, hex
HMAC-SHA256 with the key's callback secret over ``timestamp + "." + raw body``. A 2xx answer
within 5 seconds is success; anything else is a failure the worker retries with backoff for 24
hours (``backoff_seconds``), after which the notice stays on the dead-letter queue.

Logs name the URL without its query (it may carry the receiver's own token) and never the secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sms_platform.foundation.signed_webhooks import hex_hmac
from sms_platform.reports import caller_status
from sms_platform.sources import caller_keys

TIMEOUT_SECONDS = 5
# Waits before the 2nd, 3rd, ... try: together a little under 24 hours, then the queue's
# maxReceiveCount (10) leaves the notice on the dead-letter queue.
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
MAX_TRIES = len(BACKOFF_SECONDS) + 1


def backoff_seconds(tries: int) -> int:
    """How long a notice waits after its ``tries``-th failed try (SQS's visibility, at most 12 h)."""
    return BACKOFF_SECONDS[min(max(tries, 1), len(BACKOFF_SECONDS)) - 1]


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    detail: str  # the receiver's status, or why nothing was posted (for logs)
    url: str | None = None  # as logs may show it (no query)


def signed_request(secret: str, body: Mapping[str, Any], now: datetime) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers that sign it."""
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    return raw, {
        "Content-Type": "application/json; charset=utf-8",
        "X-Platform-Timestamp": timestamp,
        "X-Platform-Signature": hex_hmac(secret, timestamp.encode() + b"." + raw),
    }


def deliver(notice: Mapping[str, Any], now: datetime, post: Any = None) -> Delivery:
    """Post the notice to its key's callback URL; a key that no longer has one is done with."""
    key = caller_keys.get(notice.get("notify_key"))
    secret = key.callback_secret() if key else None
    if key is None or not key.callback_url or not secret:
        return Delivery(True, "no callback URL")
    raw, headers = signed_request(secret, caller_status.callback_body(notice), now)
    shown = caller_keys.url_shown(key.callback_url)
    if post is None:
        import requests  # deferred: only a notice that is posted needs it

        post = requests.post
    try:
        answer = post(key.callback_url, data=raw, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except Exception as error:  # noqa: BLE001 - any failure to reach the receiver is retried
        return Delivery(False, type(error).__name__, shown)
    return Delivery(200 <= answer.status_code < 300, f"HTTP {answer.status_code}", shown)
