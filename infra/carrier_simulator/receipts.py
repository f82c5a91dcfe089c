"""What the carrier pushes back to the platform: delivery receipts (SmsReport) for the messages
it accepted, after ``receipt_delay`` seconds and again when the receiver refuses them, and
replies (SmsUp) on demand.

``Pushes`` is mixed into the simulator next to ``contract.Carrier``, whose lock, clock and
accepted messages it uses, and needs the simulator's ``_stopping`` event and HTTP session.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sms_platform.foundation.clock import BEIJING

from infra.carrier_simulator.contract import DAY_FORMAT, DELIVERED, FAILED, MOBILE, SentMessage

RECEIPT_ATTEMPTS = 3
RECEIPT_RETRY_SECONDS = 1.0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    messages: list[SentMessage] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Pushes:
    """Receipts pushed to ``receipt_url`` by a thread of their own, replies to ``inbound_url``."""

    # From the class this is mixed into: the carrier's lock and clock (``contract.Carrier``),
    # the server's stop event and HTTP session.
    _lock: threading.RLock
    _now: Callable[[], datetime]
    _stopping: threading.Event
    _http: Any

    def __init__(self, receipt_url: str | None, inbound_url: str | None, receipt_delay: float) -> None:
        self.receipt_url = receipt_url
        self.inbound_url = inbound_url
        self.receipt_delay = receipt_delay
        self.receipt_retry_delay = RECEIPT_RETRY_SECONDS
        self.receipts: list[dict[str, Any]] = []  # receipts the receiver acknowledged
        self._sequence = itertools.count(1)
        self._due: list[_Due] = []
        self._due_seq = itertools.count()
        self._wake = threading.Condition(self._lock)

    def _schedule_receipts(self, messages: list[SentMessage]) -> None:
        """Report ``messages`` after ``receipt_delay`` seconds (the lock is held)."""
        heapq.heappush(self._due, _Due(time.monotonic() + self.receipt_delay, next(self._due_seq), messages))
        self._wake.notify_all()

    def _deliver_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while not self._stopping.is_set() and (not self._due or self._due[0].at > time.monotonic()):
                    self._wake.wait(timeout=(self._due[0].at - time.monotonic()) if self._due else 1.0)
                if self._stopping.is_set():
                    return
                due = heapq.heappop(self._due)
                if due.attempt == 0:
                    self._settle(due.messages)
            self._push_receipts(due)

    def _settle(self, messages: list[SentMessage]) -> None:
        """Each message's outcome as its receipt reports it: failed when it was given an error
        code on acceptance, delivered otherwise."""
        reported = self._now()
        for m in messages:
            m.status, m.reported_at = (FAILED, reported) if m.err_code else (DELIVERED, reported)
            m.err_code = m.err_code or "DELIVERED"

    def _push_receipts(self, due: _Due) -> None:
        url = self.receipt_url
        if not url:
            return
        items = [_receipt(m) for m in due.messages]
        try:
            ok = self._http.post(url, json=items, timeout=10).status_code < 300
        except Exception:  # noqa: BLE001 - a receiver that is down gets the receipt again later
            ok = False
        with self._lock:
            if ok:
                self.receipts.extend(items)
            elif due.attempt + 1 < RECEIPT_ATTEMPTS:
                again = time.monotonic() + self.receipt_retry_delay
                heapq.heappush(self._due, _Due(again, next(self._due_seq), due.messages, due.attempt + 1))

    def push_reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        """Push one reply (SmsUp) to ``inbound_url``; answers the item and the receiver's HTTP status."""
        if not self.inbound_url:
            raise RuntimeError("no inbound_url to push replies to")
        match = MOBILE.match(phone.strip())
        if not match:
            raise ValueError("not a mainland mobile number")
        item = {
            "phone_number": match.group(1),
            "send_time": self._now().astimezone(BEIJING).strftime(DAY_FORMAT),
            "content": content,
            "sign_name": sign_name,
            "dest_code": "1234",
            "sequence_id": next(self._sequence),
        }
        import requests  # not the receipt thread's session: a Session is not shared across threads

        response = requests.post(self.inbound_url, json=[item], timeout=10)
        return {"item": item, "status": response.status_code}


def _sms_size(content: str | None) -> str:
    length = len(content or "")
    return "1" if length <= 70 else str(math.ceil(length / 67))


def _receipt(m: SentMessage) -> dict[str, Any]:
    delivered = m.status == DELIVERED
    return {
        "phone_number": m.phone,
        "send_time": m.sent_at.astimezone(BEIJING).strftime(DAY_FORMAT),
        "report_time": (m.reported_at or m.sent_at).astimezone(BEIJING).strftime(DAY_FORMAT),
        "success": delivered,
        "err_code": m.err_code,
        "err_msg": "用户接收成功" if delivered else "用户未接收",
        "sms_size": _sms_size(m.content),
        "biz_id": m.biz_id,
        "out_id": m.out_id or "",
    }
