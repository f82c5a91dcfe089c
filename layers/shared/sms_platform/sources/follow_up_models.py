"""Follow-up sends as values: what an operator asks for ("对未送达人员再次发送"), what the
preview tells before, and what a follow-up request carries of the send it follows.

A follow-up reaches the recipients of an earlier send request whose messages ended ``failed`` or
``undeliverable``, by their address-book records (so a number entered since is the one used),
with another template or the same.

The answers below have no docstrings: pydantic would put them into the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels

# The message states a follow-up reaches again: the carrier reported a failure, or the platform
# could not send (no usable number, a number held for verification).
FOLLOWED_STATES = ("failed", "undeliverable")
REQUEST_ID = r"^[0-9a-f]{32}$"


class FollowUpOf(BaseModel):
    request_id: str = Field(description="原发送申请编号")
    template_name: str = Field(description="原发送申请使用的模板")
    kind: Literal["person", "unit"]
    recipients: int = Field(description="再次发送的人数（原发送中未送达、且在通讯录中的人）")
    failed: int = Field(description="其中原发送失败的人数")
    undeliverable: int = Field(description="其中原发送无法送达（无可用号码、号码待核实）的人数")
    not_in_book: int = Field(default=0, description="未送达但不在通讯录中、无法再次发送的人数")


class FollowUpPreview(FollowUpOf):
    office: str
    office_name: str
    status: str
    status_name: str


class FollowUpIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", field_title_generator=labels({"template_id": "模板", "values": "变量取值"})
    )

    of: str = Field(pattern=REQUEST_ID, description="原发送申请编号：向其未送达人员再次发送")
    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    values: dict[str, Annotated[str, Visible("变量的值")]] = Field(default_factory=dict)
    send_at: datetime | None = Field(default=None, description="发送时间；不填则审核通过后立即发送")
    note: Annotated[str | None, Visible("申请说明", multiline=True)] = Field(
        default=None, max_length=300, description="申请说明"
    )
