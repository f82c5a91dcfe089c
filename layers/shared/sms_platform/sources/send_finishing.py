"""Whether a send is over: fanned out, and none of its messages still waiting to go out or for a
receipt that can still come (``send_request_models.on_the_way``). Staff read it as 已发送完毕 in
the list and on the send's page alike; a send seen over is marked so (``finished_at``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sms_platform.sending import message_store
from sms_platform.sources import send_request_store
from sms_platform.sources.send_request_models import RELEASED, SendRequest, on_the_way


def finished_now(request: SendRequest, now: datetime, counted: dict[str, Any] | None = None) -> bool:
    """Whether a send is over: fanned out, and none of its messages still on its way. A send seen
    over is marked so, and its messages are never counted for this again; until then, each
    reader counts those of the fanned-out sends it shows (one index query each). ``counted``:
    the send's progress when the reader has it (its page): messages waiting say no at once,
    and with none sent and awaiting a receipt it says yes without reading them again."""
    if request.finished_at is not None:
        return True
    if request.status != "fanned_out":
        return False
    if counted is not None and counted.get("waiting"):
        return False
    receipts_awaited = counted is None or bool(counted.get("states", {}).get("sent"))
    if receipts_awaited and any(on_the_way(i, now) for i in message_store.items_of_source(request.source_id)):
        return False
    send_request_store.mark_finished(request.request_id, now)
    return True


def progress_and_finished(
    request: SendRequest, now: datetime, progress: Callable[[SendRequest], dict[str, Any]] | None
) -> dict[str, Any]:
    """A released send's progress (counted by ``progress``) and whether it is over."""
    counted = progress(request) if progress is not None and request.status in RELEASED else None
    return {"progress": counted, "finished": finished_now(request, now, counted)}
