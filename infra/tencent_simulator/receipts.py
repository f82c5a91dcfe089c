"""What Tencent pushes back to the platform (CONTRACTS §8): status receipts for the messages it
accepted, after ``receipt_delay`` seconds and again when the receiver refuses them, and replies
on demand, in Tencent's callback shapes. The scheduling is shared with the Alibaba simulator
(``infra.simulator_base.Pushes``).
"""

from __future__ import annotations

from typing import Any

from infra.simulator_base import Pushes
from infra.tencent_simulator.contract import DELIVERED, FAILED, SentMessage, beijing, utc_seconds

ACCEPTED = {"result": 0, "errmsg": "OK"}


class TencentPushes(Pushes):
    """Receipts pushed to ``receipt_url``, replies to ``inbound_url``; a receipt counts as taken
    when the receiver answers ``{"result": 0}``."""

    DELIVERED, FAILED, DELIVERED_CODE = DELIVERED, FAILED, "DELIVRD"

    def _receipt(self, message: SentMessage) -> dict[str, Any]:
        return receipt(message)

    def _acknowledged(self, answer: Any) -> bool:
        return answer.status_code < 300 and answer.json().get("result") == 0

    def _reply(self, phone: str, content: str, sign_name: str) -> dict[str, Any]:
        return {"extend": "", "mobile": phone, "nationcode": "86", "sign": sign_name, "text": content,
                "time": utc_seconds(self._now())}  # fmt: skip


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
