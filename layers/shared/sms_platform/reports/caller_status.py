"""What an outside system may read about the messages it caused (CONTRACTS §7): a business
system about its event (``GET /v1/events/{event_id}``, the sending key only), the 12333 system
about a call (``GET /v1/hotline/hangups/{call_id}``), and the body of each status callback.

A message shows its number masked, its state as the platform keeps it (the contract's eight
states are the platform's own) and, when it did not arrive, the reason in the Chinese category
staff read (空号, 停机 ...), never the carrier's raw code. A test key's event and its messages
carry ``"test": true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import NotFound
from sms_platform.reports import reasons
from sms_platform.sending import message_store
from sms_platform.sources import caller_events, hotline


class CallerMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str
    phone: str
    state: str
    reason: str | None
    updated_at: str


class EventStatus(BaseModel):
    event_id: str
    received_at: str
    matched_rules: int
    messages: list[CallerMessage]
    test: bool | None = None  # present (true) only for a test key's event

    def answer(self) -> dict[str, Any]:
        """The contract's body: ``test`` only when true, a message's ``reason`` null or not."""
        body = self.model_dump(mode="json")
        if not self.test:
            body.pop("test")
        return body


class CallStatus(BaseModel):
    call_id: str
    status: str
    messages: list[CallerMessage]


def message_view(item: Mapping[str, Any]) -> CallerMessage:
    """One message as its caller sees it."""
    return CallerMessage(
        message_id=str(item["message_id"]),
        phone=str(item.get("phone_masked") or ""),
        state=str(item["state"]),
        reason=reasons.reason_of(item)[0],
        updated_at=_beijing(str(item.get("updated_at") or item.get("created_at") or "")),
    )


def _beijing(stamp: str) -> str:
    """A message's times are written by whichever clock moved it (UTC or Beijing): shown in the
    platform's zone, so a caller's callbacks sort by ``updated_at`` as written."""
    try:
        return datetime.fromisoformat(stamp).astimezone(BEIJING).isoformat(timespec="milliseconds")
    except ValueError:
        return stamp


def _messages(ref: str) -> list[CallerMessage]:
    items = message_store.items_of_caller(ref)
    return [message_view(item) for item in sorted(items, key=lambda i: (str(i.get("created_at")), i["message_id"]))]


def event_status(api_key_id: str | None, event_id: str) -> EventStatus:
    """The event's status for the key that sent it; ``NotFound`` for an unknown event or
    another key's (which must not learn that it exists)."""
    record = caller_events.recall(event_id)
    if not record or not api_key_id or record.get("api_key_id") != api_key_id:
        raise NotFound("没有该事件，或该事件不是用此 API 密钥发送的")
    ref = caller_events.event_caller(event_id, api_key_id, test=False, notify=False).ref
    return EventStatus(
        event_id=event_id,
        received_at=str(record["received_at"]),
        matched_rules=int(record.get("matched_rules", 0)),
        messages=_messages(ref),
        test=True if record.get("test") else None,
    )


def call_status(call_id: str, now: datetime) -> CallStatus:
    """The call's status and its answers' messages; ``NotFound`` for an unknown call."""
    status = hotline.call_status(call_id, now)
    if status is None:
        raise NotFound("没有该通话")
    return CallStatus(call_id=call_id, status=status, messages=_messages(caller_events.call_caller(call_id).ref))


def callback_body(notice: Mapping[str, Any]) -> dict[str, Any]:
    """The body posted to the key's callback URL for one state change (a queued notice,
    ``sending.status_notices``)."""
    body: dict[str, Any] = {
        "event_id": notice.get("caller_id"),
        "message": message_view(notice).model_dump(),
    }
    if notice.get("test"):
        body["test"] = True
    return body
