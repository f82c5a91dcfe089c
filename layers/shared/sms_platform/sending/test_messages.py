"""A test key's messages (CONTRACTS §7): they never reach the carrier; the dispatcher settles
them itself, the way a carrier and its receipts would, so a business system can try every answer
against production without sending a real SMS.

- A ``send`` batch moves its messages ``queued → sending`` (no frequency window counts them),
  then settles them: the numbers ``13800000001`` and ``13800000002`` end ``failed`` at once with
  the receipt codes whose categories are 空号 and 停机; every other number waits for a ``settle``
  batch, delayed: ``13800000003`` for 60 s, the rest for a few seconds.
- A ``settle`` batch, once due (the dispatcher queues it again while it is early, by the
  platform's clock), moves those still ``sending`` to ``delivered``.

Nothing here sleeps: waiting is a delayed SQS message, as every wait of the dispatcher is. The
messages count in no statistics (``daily_stats``) and no frequency limit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sms_platform.sending import message_store, outbox, status_notices
from sms_platform.sending.messages import BatchAction, QueuedBatch

# Numbers that end as the contract says, and the receipt codes that say it (failure_reasons).
FAILING = {"13800000001": ("DB:0101", "测试号码：空号"), "13800000002": ("DB:0102", "测试号码：停机")}
SLOW = "13800000003"
SLOW_SECONDS = 60
DELIVERY_SECONDS = 2


def settle(batch: QueuedBatch, numbers: list[str], now: datetime) -> None:
    """Handle a test batch that is due (``numbers`` its recipients' numbers, in order)."""
    if batch.action is BatchAction.SETTLE:
        for mid in batch.message_ids:
            message_store.mark_delivered(mid, now)
        return
    attempt = uuid.uuid4().hex
    quick: list[int] = []
    slow: list[int] = []
    for index, (mid, number) in enumerate(zip(batch.message_ids, numbers, strict=True)):
        if not message_store.mark_sending(mid, attempt, batch.out_id, now):
            continue  # an earlier delivery of the batch took it
        _tell_sending(mid)
        if number in FAILING:
            code, note = FAILING[number]
            message_store.mark_failed(mid, code, note, now)
        else:
            (slow if number == SLOW else quick).append(index)
    for indexes, seconds in ((quick, DELIVERY_SECONDS), (slow, SLOW_SECONDS)):
        if indexes:
            outbox.send_again(batch, indexes=indexes, numbers=numbers, action=BatchAction.SETTLE, attempt=1,
                              not_before=now + timedelta(seconds=seconds))  # fmt: skip


def _tell_sending(mid: str) -> None:
    """The ``sending`` move of a message whose caller wants callbacks (the store's moves to
    ``sending`` return nothing to tell it with)."""
    item = message_store.get(mid)
    if item and item.get("notify_key"):
        status_notices.notify([item])
