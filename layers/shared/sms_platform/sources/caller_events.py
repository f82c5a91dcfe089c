"""What a business system may later ask about an event it sent (CONTRACTS §7): when it arrived,
how many rules it matched, which API key sent it (only that key may read its status) and
whether that key was a test key. Its messages are found by their caller index
(``message_items.Caller``, ``caller#evt#<event>``), not kept here.

Storage in SENDS_TABLE: ``pk=evstatus#{event_id}``, ``sk=event``, kept as long as messages are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings
from sms_platform.sending.message_items import RETENTION_DAYS, Caller
from sms_platform.sources import channel_sends


def _table() -> Any:
    return aws.table(settings().sends_table)


def _key(event_id: str) -> dict[str, str]:
    return {"pk": f"evstatus#{event_id}", "sk": "event"}


def event_caller(event_id: str, api_key_id: str | None, *, test: bool, notify: bool) -> Caller:
    """How the event's messages name it: indexed under the event, marked test for a test key,
    and with the key to notify when the key has a callback URL."""
    return Caller(
        ref="evt#" + channel_sends.source_key(event_id), outside_id=event_id, test=test,
        notify_key=api_key_id if notify else None,
    )  # fmt: skip


def call_caller(call_id: str) -> Caller:
    """How a 12333 call's messages name it (the hotline's status route reads them by it)."""
    return Caller(ref="call#" + channel_sends.source_key(call_id), outside_id=call_id)


def remember(event_id: str, *, api_key_id: str | None, test: bool, matched_rules: int, received_at: datetime) -> None:
    item = {
        **_key(event_id),
        "event_id": event_id,
        "received_at": received_at.isoformat(),
        "matched_rules": matched_rules,
        "test": test,
        "expires_at": int((received_at + timedelta(days=RETENTION_DAYS)).timestamp()),
    }
    if api_key_id:
        item["api_key_id"] = api_key_id
    _table().put_item(Item=item)


def recall(event_id: str) -> dict[str, Any] | None:
    """The event's record, or None for an event the platform has not received."""
    return _table().get_item(Key=_key(event_id), ConsistentRead=True).get("Item")
