"""What Tencent pushes back (CONTRACTS §8), in Tencent's shapes: status receipts and citizens'
replies, and how each becomes the platform's own.

A reply becomes a ``CarrierReply`` at once (opt-out words as §1). A receipt names its message
only by Tencent's id of it (``sid``, the SerialNo ``SendSms`` answered) and the number, so it is
recorded from the push queue by looking that id up (``carrier_pushes.record_tencent_receipts``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.foundation.clock import BEIJING
from sms_platform.sending.messages import CarrierReply

TENCENT = "tencent"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class TencentReceipt(BaseModel):
    """One status receipt Tencent pushes."""

    model_config = ConfigDict(extra="ignore")

    user_receive_time: str | None = Field(default=None, max_length=32)
    nationcode: str | None = Field(default=None, max_length=8)
    mobile: str = Field(max_length=32)
    report_status: str = Field(max_length=16, pattern=r"^(?i:SUCCESS|FAIL)$")
    errmsg: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=256)
    sid: str = Field(min_length=1, max_length=128)

    @property
    def success(self) -> bool:
        return self.report_status.upper() == "SUCCESS"


class TencentReply(BaseModel):
    """One reply (a citizen's SMS to the signature's number) Tencent pushes."""

    model_config = ConfigDict(extra="ignore")

    extend: str | None = Field(default=None, max_length=32)
    mobile: str = Field(max_length=32)
    nationcode: str | None = Field(default=None, max_length=8)
    sign: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", max_length=1000)
    time: int | None = Field(default=None, ge=0, le=2**40)


def reply_of(reply: TencentReply) -> CarrierReply:
    """The platform's reply: its time as Beijing's wall clock, as Alibaba's replies give it."""
    sent = None
    if reply.time is not None:
        sent = datetime.fromtimestamp(reply.time, BEIJING).strftime(TIME_FORMAT)
    return CarrierReply(
        phone_number=reply.mobile, send_time=sent, content=reply.text, sign_name=reply.sign, dest_code=reply.extend
    )
