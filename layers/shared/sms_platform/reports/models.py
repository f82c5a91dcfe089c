"""What the reports services answer with: the daily delivery report of sends, a citizen's recent
messages (the 12333 desk's lookup), the daily statistics of every kind of SMS, and the dead-letter
queues as IT operations see them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.sending.dlq import Lane
from sms_platform.staff.context import Office

# ---------------------------------------------------------------- daily delivery report (sends)


class OfficeDelivery(BaseModel):
    office: str
    sends: int = Field(description="当天放行的发送数")
    messages: int
    parts_used: int = Field(description="计费条数")
    states: dict[str, int] = Field(description="各状态的短信条数")
    failure_reasons: dict[str, int] = Field(description="失败原因（运营商错误码）及条数，多者在前")
    failure_categories: dict[str, int] = Field(description="失败原因类别（空号、停机……）及条数，多者在前")
    delivery_rate: float | None = Field(description="送达 /（送达 + 失败）；无结果时为空")


class DailyDelivery(BaseModel):
    day: date = Field(description="北京时间日期")
    offices: list[OfficeDelivery]


# ---------------------------------------------------------------- a citizen's messages (12333 desk)


class CitizenMessage(BaseModel):
    message_id: str
    kind: str | None = None
    office: str
    office_name: str
    template_id: str | None = None
    state: str
    state_name: str
    reason: str | None = Field(default=None, description="未送达的原因（中文：空号、停机、本人已退订……）")
    reason_code: str | None = Field(default=None, description="原始错误码或平台原因")
    created_at: str | None = None
    sent_at: str | None = None
    final_at: str | None = None
    test: bool | None = Field(default=None, description="测试密钥的短信（从未发给运营商）才有，值为 true")


class CitizenMessages(BaseModel):
    phone_masked: str = Field(description="所查号码（已脱敏）")
    messages: list[CitizenMessage] = Field(description="近期短信，新的在前")


# ---------------------------------------------------------------- daily statistics (every kind)


class DailyRow(BaseModel):
    day: date
    kind: str = Field(description="短信类别：triggered、targeted、publicity、hangup、subscription、system")
    office: str = Field(description="所属单位")
    sent: int = Field(description="运营商已接收")
    delivered: int
    failed: int
    suppressed: int = Field(description="未发送（退订、频率限制、停止发送、单位暂停）")
    undeliverable: int = Field(description="无可用号码")
    expired: int
    parts: int = Field(description="计费条数")
    delivery_rate: float | None = Field(description="送达 /（送达 + 失败）；无结果时为空")
    failure_reasons: dict[str, int] = Field(description="失败原因（运营商错误码）及条数，多者在前")
    failure_categories: dict[str, int] = Field(description="失败原因类别（空号、停机……）及条数，多者在前")
    suppress_reasons: dict[str, int] = Field(description="未发送原因及条数，多者在前")


class CarrierTotals(BaseModel):
    carrier: str
    name: str = Field(description="运营商名称")
    sent: int = Field(description="该运营商已接收")
    parts: int = Field(description="计费条数")
    delivered: int
    failed: int
    delivery_rate: float | None = Field(description="送达 /（送达 + 失败）；无结果时为空")
    failure_reasons: dict[str, int] = Field(description="失败原因（运营商错误码）及条数，多者在前")
    failure_categories: dict[str, int] = Field(description="失败原因类别及条数，多者在前")
    price_fen: float = Field(description="每计费条的单价（分，CARRIER_PRICES）")
    cost_yuan: float = Field(description="计费条数 × 单价，单位元")


class DailyStatistics(BaseModel):
    start: date = Field(description="开始日期（即请求的 from）")
    end: date = Field(description="结束日期（即请求的 to）")
    offices: list[Office] = Field(description="统计范围内的单位")
    rows: list[DailyRow]
    carriers: list[CarrierTotals] = Field(default=[], description="这段时间各运营商的合计与费用")


# ---------------------------------------------------------------- dead letters (IT operations)


class DeadLetterDepths(BaseModel):
    depths: dict[str, int] = Field(description="各队列的死信数量（约数）")


class DeadLetter(BaseModel):
    """One dead letter, never a number: its summary (``dlq.describe``: batch or job ids, kind,
    office, recipients or items counted) follows the fields below, as the message held them."""

    # The summary's keys depend on what the message was (a batch, a fan-out, an import job, a
    # piece of a push): they are kept as given rather than listed, each absent key left out.
    model_config = ConfigDict(extra="allow")

    message_id: str
    sent_at_ms: int = Field(description="进入队列的时间（毫秒时间戳）")
    receive_count: int = Field(description="被接收的次数")


class DeadLetterPage(BaseModel):
    lane: Lane
    depth: int = Field(description="死信队列中的消息数（约数）")
    messages: list[DeadLetter]


class Redriven(BaseModel):
    lane: Lane
    redriven: int = Field(description="重新投递回原队列的消息数")
