"""What a simulator pushes back to the platform: receipts for the messages it accepted, after
``receipt_delay`` seconds by a thread of their own and again when the receiver refuses them, and
replies on demand. Each simulator gives their shapes."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.simulator_base.carrier import MOBILE

RECEIPT_ATTEMPTS = 3
RECEIPT_RETRY_SECONDS = 1.0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    messages: list[Any] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Pushes:
    """Receipts pushed to ``receipt_url`` by a thread of their own, replies to ``inbound_url``.

    Mixed in beside a ``SimulatedCarrier`` (its lock and clock) and a ``SimulatorServer`` (its
    stop event and HTTP session). A simulator gives the shapes: ``_receipt`` (one message's
    receipt), ``_acknowledged`` (whether the receiver took them) and ``_reply`` (one reply);
    ``DELIVERED``, ``FAILED`` and ``DELIVERED_CODE`` are how its messages record the outcome."""

    DELIVERED: Any
    FAILED: Any
    DELIVERED_CODE: str
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

    def _receipt(self, message: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _acknowledged(self, answer: Any) -> bool:
        return answer.status_code < 300

    def _reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        raise NotImplementedError

    def _schedule_receipts(self, messages: list[Any]) -> None:
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

    def _settle(self, messages: list[Any]) -> None:
        """Each message's outcome as its receipt reports it: failed when it was given an error
        code on acceptance, delivered otherwise."""
        reported = self._now()
        for m in messages:
            m.status, m.reported_at = (self.FAILED if m.err_code else self.DELIVERED), reported
            m.err_code = m.err_code or self.DELIVERED_CODE

    def _push_receipts(self, due: _Due) -> None:
        url = self.receipt_url
        if not url:
            return
        items = [self._receipt(m) for m in due.messages]
        try:
            ok = self._acknowledged(self._http.post(url, json=items, timeout=10))
        except Exception:  # noqa: BLE001 - a receiver that is down gets the receipt again later
            ok = False
        with self._lock:
            if ok:
                self.receipts.extend(items)
            elif due.attempt + 1 < RECEIPT_ATTEMPTS:
                again = time.monotonic() + self.receipt_retry_delay
                heapq.heappush(self._due, _Due(again, next(self._due_seq), due.messages, due.attempt + 1))

    def push_reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        """Push one reply to ``inbound_url``; answers the item and the receiver's HTTP status."""
        if not self.inbound_url:
            raise RuntimeError("no inbound_url to push replies to")
        match = MOBILE.match(phone.strip())
        if not match:
            raise ValueError("not a mainland mobile number")
        item = self._reply(match.group(1), content, sign_name)
        import requests  # not the receipt thread's session: a Session is not shared across threads

        response = requests.post(self.inbound_url, json=[item], timeout=10)
        return {"item": item, "status": response.status_code}
