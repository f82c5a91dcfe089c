"""What the carrier pushes back to the platform: delivery receipts (SmsReport) for the messages
it accepted, after ``receipt_delay`` seconds and again when the receiver refuses them, and
replies (SmsUp) on demand, in Alibaba's shapes. The scheduling is shared with the Tencent
simulator (``infra.simulator_base.Pushes``).
"""

from __future__ import annotations

import math
from typing import Any

from sms_platform.foundation.clock import BEIJING

from infra.carrier_simulator.contract import DAY_FORMAT, DELIVERED, FAILED, SentMessage
from infra.simulator_base import RECEIPT_ATTEMPTS, RECEIPT_RETRY_SECONDS, Pushes

__all__ = ["RECEIPT_ATTEMPTS", "RECEIPT_RETRY_SECONDS", "AlibabaPushes"]


class AlibabaPushes(Pushes):
    """Receipts (SmsReport) pushed to ``receipt_url``, replies (SmsUp) to ``inbound_url``."""

    DELIVERED, FAILED, DELIVERED_CODE = DELIVERED, FAILED, "DELIVERED"

    def _receipt(self, message: SentMessage) -> dict[str, Any]:
        return _receipt(message)

    def _reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        return {
            "phone_number": phone,
            "send_time": self._now().astimezone(BEIJING).strftime(DAY_FORMAT),
            "content": content,
            "sign_name": sign_name,
            "dest_code": "1234",
            "sequence_id": next(self._sequence),
        }


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
