"""What Tencent pushes back to the platform (CONTRACTS §8): status receipts for the messages it
accepted, after ``receipt_delay`` seconds and again when the receiver refuses them, and replies
on demand, in Tencent's callback shapes.

The scheduling is the Alibaba simulator's (``infra.carrier_simulator.receipts.Pushes``); what
is reported and how it is shaped is Tencent's.
"""

from __future__ import annotations

import heapq
import time
from typing import Any

from infra.carrier_simulator.receipts import RECEIPT_ATTEMPTS, Pushes, _Due
from infra.tencent_simulator.contract import DELIVERED, FAILED, MOBILE, SentMessage, beijing, utc_seconds

ACCEPTED = {"result": 0, "errmsg": "OK"}


class TencentPushes(Pushes):
    """Receipts pushed to ``receipt_url`` by a thread of their own, replies to ``inbound_url``."""

    def _settle(self, messages: list[SentMessage]) -> None:  # type: ignore[override]
        """Each message's outcome as its receipt reports it: failed when it was given an error
        code on acceptance, delivered otherwise."""
        reported = self._now()
        for m in messages:
            m.status, m.reported_at = (FAILED if m.err_code else DELIVERED), reported
            m.err_code = m.err_code or "DELIVRD"

    def _push_receipts(self, due: _Due) -> None:
        url = self.receipt_url
        if not url:
            return
        items = [receipt(m) for m in due.messages]
        try:
            answer = self._http.post(url, json=items, timeout=10)
            ok = answer.status_code < 300 and answer.json().get("result") == 0
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
        item = {
            "extend": "",
            "mobile": match.group(1),
            "nationcode": "86",
            "sign": sign_name,
            "text": content,
            "time": utc_seconds(self._now()),
        }
        import requests  # not the receipt thread's session: a Session is not shared across threads

        response = requests.post(self.inbound_url, json=[item], timeout=10)
        return {"item": item, "status": response.status_code}


def receipt(m: SentMessage) -> dict[str, Any]:
    delivered = m.status == DELIVERED
    return {
        "user_receive_time": beijing(m.reported_at or m.sent_at),
        "nationcode": "86",
        "mobile": m.phone,
        "report_status": "SUCCESS" if delivered else "FAIL",
        "errmsg": m.err_code,
        "description": "用户短信送达成功" if delivered else "用户短信未送达",
        "sid": m.serial_no,
    }
