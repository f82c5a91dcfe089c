"""What the recipients of a send look like to staff: the rows of its table, their totals, and the
exports built from them in the background."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.foundation.validation_messages import labels
from sms_platform.sending.recipient_groups import GroupSource


class RowState(StrEnum):
    """The five states staff filter a send's recipients by (each covers message states)."""

    delivered = "delivered"
    failed = "failed"
    undeliverable = "undeliverable"
    suppressed = "suppressed"
    sending = "sending"


class RecipientRow(BaseModel):
    message_id: str
    phone_masked: str = Field(description="手机号码（已脱敏）")
    name: str | None = Field(default=None, description="姓名或单位名称")
    id_masked: str | None = Field(default=None, description="证件号码或统一社会信用代码（已脱敏）")
    district: str | None = None
    district_name: str | None = None
    state: RowState
    state_name: str
    message_state: str = Field(description="短信本身的状态（queued、sending、sent、delivered ...）")
    reason: str | None = Field(default=None, description="未送达的原因（中文类别）")
    reason_code: str | None = Field(default=None, description="原始错误码或平台原因")
    queued_at: str | None = Field(default=None, description="排队时间")
    sent_at: str | None = Field(default=None, description="运营商接收时间")
    final_at: str | None = Field(default=None, description="结果时间")


class RecipientTotals(BaseModel):
    all: int = Field(description="可查看的收件人总数")
    states: dict[RowState, int] = Field(description="各状态的人数")
    failure_categories: dict[str, int] = Field(description="发送失败的原因类别及人数，多者在前")


class RecipientPage(BaseModel):
    source: GroupSource
    id: str | None = Field(default=None, description="发送申请、触发规则或订阅项目的编号")
    period: str | None = Field(default=None, description="日期（YYYY-MM-DD）或月份（YYYY-MM）")
    title: str = Field(description="这批短信的名称")
    district: str | None = Field(default=None, description="只含此区县的收件人（区县工作人员）")
    states: list[RowState] = Field(description="所选的状态；为空时为全部")
    totals: RecipientTotals | None = Field(default=None, description="合计（仅第一页给出）")
    rows: list[RecipientRow]
    cursor: str | None = Field(default=None, description="下一页的翻页标记；没有下一页时为空")


class ExportIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        field_title_generator=labels(
            {"source": "来源", "id": "编号", "period": "月份", "format": "文件格式", "states": "状态"}
        ),
    )

    source: GroupSource
    id: str | None = Field(default=None, max_length=64)
    period: str | None = Field(default=None, max_length=10)
    states: list[RowState] = Field(default_factory=list, max_length=5, description="为空时导出全部状态")
    format: Literal["csv", "xlsx"] = "xlsx"


class ExportStatus(StrEnum):
    queued = "queued"
    building = "building"
    ready = "ready"
    failed = "failed"


class RecipientExport(BaseModel):
    export_id: str
    source: GroupSource
    id: str | None = None
    period: str | None = None
    title: str
    district: str | None = None
    states: list[RowState]
    format: Literal["csv", "xlsx"]
    status: ExportStatus
    status_name: str
    rows_done: int = Field(description="已写入的行数")
    rows_total: int = Field(description="申请导出时符合条件的行数（进度以此计）")
    file_name: str
    created_at: datetime
    finished_at: datetime | None = None
    expires_at: datetime = Field(description="过期时间：此后文件删除，下载链接失效")
    download_url: str | None = Field(default=None, description="生成完成后的临时下载链接（几分钟内有效）")
    error: str | None = None
