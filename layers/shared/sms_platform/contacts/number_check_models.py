"""What staff see of numbers to verify and numbers blocked: the answers of ``number_checks`` and
``number_blocks``, numbers masked throughout.

The answers below have no docstrings: pydantic would put them into the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels

# The kinds of SMS as staff name them (the dashboard and the send pages use the same words).
KIND_NAMES = {
    "targeted": "定向通知",
    "publicity": "宣传公告",
    "triggered": "业务触发",
    "hangup": "12333挂机短信",
    "subscription": "订阅短信",
    "system": "平台消息",
}


class FailureView(BaseModel):
    failed_at: str
    reason: str = Field(description="失败原因（中文类别）")
    error_code: str = Field(description="运营商返回的原始错误码")
    kind: str
    kind_name: str
    source_id: str = Field(description="失败短信所属的发送（消息来源）")
    request_id: str | None = Field(default=None, description="属于发送申请时，申请编号")


class NumberCheckEntry(BaseModel):
    ref: str
    kind: str
    kind_name: str
    name: str
    id_masked: str
    district: str
    district_name: str
    phone_masked: str
    since: str = Field(description="号码被标记为待核实的时间")
    failures: list[FailureView]


class NumberCheckPage(BaseModel):
    district: str
    district_name: str
    entries: list[NumberCheckEntry]
    cursor: str | None = Field(description="下一页的游标；没有更多时为空")


class DistrictCount(BaseModel):
    district: str
    district_name: str
    count: int


class NumberCheckCounts(BaseModel):
    total: int
    districts: list[DistrictCount]


class NumberCheckDone(BaseModel):
    ref: str
    action: Literal["confirmed", "replaced"]
    phone_masked: str = Field(description="现在使用的号码（已脱敏）")
    previous_masked: str | None = None
    on_worklist: bool = Field(description="处理后是否仍在待核实名单中")


class NewNumberIn(BaseModel):
    phone: str = Field(min_length=1, max_length=32, description="新的手机号码")
    source: str = Field(default="service_hall", max_length=32, description="号码来源渠道，默认服务大厅")


# ------------------------------------------------------------------ blocks


class BlockIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"ref": "通讯录记录编号"}))

    phone: str | None = Field(default=None, max_length=32, description="手机号码（放在请求内容中）")
    ref: str | None = Field(default=None, max_length=80, description="或通讯录记录编号：其当前使用的号码")
    reason: Annotated[str, Visible("原因", multiline=True)] = Field(min_length=2, max_length=200)

    @model_validator(mode="after")
    def _one_number(self) -> BlockIn:
        if bool(self.phone) == bool(self.ref):
            raise ValueError("请提供手机号码或通讯录记录，二者选一")
        return self


class NumberBlock(BaseModel):
    phone_masked: str
    blocked: bool
    reason: str | None = None
    blocked_at: str | None = None
    blocked_by: str | None = None
    office: str | None = None
    office_name: str | None = None
    applied: bool = Field(description="为 false 时表示号码本已是该状态，本次未作改变")


class BlockPage(BaseModel):
    blocks: list[NumberBlock]
    cursor: str | None = Field(description="下一页的游标；没有更多时为空")
