"""Contract shapes that no handler's own model declares (the hang-up webhook checks its body by
hand, for its cold start; the other answers are built as plain JSON), as CONTRACTS.md words them.

Field descriptions are read by the outside systems' developers, in Chinese.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.contacts.collection import MAX_BATCH
from sms_platform.contacts.models import MAX_PHONES_PER_RECORD, ContactIn, PhoneIn, SourceChannel
from sms_platform.contacts.views_models import ContactBatch
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources.hotline import MAX_ENTRIES_PER_CALL

PRINTABLE_ASCII = r"^[\x21-\x7e]+$"


# ---------------------------------------------------------------- §2 12333 hang-ups
class HangupIn(BaseModel):
    """A hang-up of the 12333 telephony system (CONTRACTS §2)."""

    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(
        min_length=1, max_length=128, pattern=PRINTABLE_ASCII, description="通话编号；同一通话再次提交不会重复发送"
    )
    caller: str = Field(min_length=3, max_length=32, description="主叫号码；固定电话不发短信（not_mobile）")
    agent_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE_ASCII, description="坐席工号")
    ended_at: datetime = Field(description="挂机时间（ISO 8601）")
    faq_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]] = Field(
        default_factory=list,
        max_length=MAX_ENTRIES_PER_CALL,
        description=f"坐席选定的问答条目，最多 {MAX_ENTRIES_PER_CALL} 条，每条一条短信；可省略，由坐席稍后在门户中选择",
    )


class HangupOut(BaseModel):
    """The answer to a hang-up: the first one given for the call."""

    call_id: str
    status: Literal["queued", "awaiting_agent", "not_mobile"] = Field(
        description="queued 已排队发送；awaiting_agent 等待坐席选择条目；not_mobile 主叫为固定电话，不发送"
    )


# ---------------------------------------------------------------- §3 business events
class EventAccepted(BaseModel):
    """The answer to a business event (the first answer again for a repeated ``event_id``)."""

    event_id: str
    matched_rules: int = Field(ge=0, description="命中的触发规则数")
    messages: int = Field(ge=0, description="生成的短信条数")
    test: Literal[True] | None = Field(None, description="测试密钥提交的事件才有，值为 true：其短信不会发出")


# ---------------------------------------------------------------- §7 status for callers
MessageState = Literal["queued", "sending", "sent", "delivered", "failed", "suppressed", "undeliverable", "expired"]


class CallerMessageOut(BaseModel):
    """One message as its caller reads it."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(description="短信编号")
    phone: str = Field(description="接收号码（脱敏），如 138****1234")
    state: MessageState = Field(
        description="queued 排队中；sending 发送中；sent 已发送，等待回执；delivered 已送达；failed 发送失败；"
        "suppressed 未发送（已拦截）；undeliverable 无可用号码；expired 已过期"
    )
    reason: str | None = Field(description="未送达的原因（中文类别，如 空号、停机），其他情况为 null")
    updated_at: str = Field(description="状态更新时间（ISO 8601）；同一短信的回调可能乱序到达，以此排序")


class EventStatusOut(BaseModel):
    """An event's status, for the API key that sent it."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    received_at: str = Field(description="平台收到事件的时间（ISO 8601）")
    matched_rules: int = Field(ge=0, description="命中的触发规则数")
    messages: list[CallerMessageOut]
    test: Literal[True] | None = Field(None, description="测试密钥提交的事件才有，值为 true")


class CallStatusOut(BaseModel):
    """A 12333 call's status and the messages of its answers."""

    model_config = ConfigDict(extra="forbid")

    call_id: str
    status: Literal["queued", "awaiting_agent", "not_mobile", "expired"] = Field(
        description="queued 已排队发送；awaiting_agent 等待坐席选择条目；not_mobile 主叫为固定电话；"
        "expired 坐席未在 24 小时内选择"
    )
    messages: list[CallerMessageOut]


class StatusCallback(BaseModel):
    """What the platform posts to an API key's callback URL on each state change of a message."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    message: CallerMessageOut
    test: Literal[True] | None = Field(None, description="测试密钥的短信才有，值为 true")


# ---------------------------------------------------------------- §4 subscriptions and payments
class Product(BaseModel):
    product_id: str
    name: str
    description: str | None = None
    price_fen: int = Field(ge=0, description="每期价格（分）")
    period_months: int = Field(ge=1, description="每期月数")


class Products(BaseModel):
    """The items on sale."""

    products: list[Product]
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true")


class OtpSent(BaseModel):
    expires_in: int = Field(description="验证码有效秒数")
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true：验证码不会发出，固定为 123456")


class OrderCreated(BaseModel):
    """A new subscription waiting for payment."""

    subscription_id: str
    order_id: str
    status: str = Field(description="新订单为 pending_payment；同一渠道订单号再次提交时为该订阅当前状态")
    amount_fen: int = Field(ge=0, description="应付金额（分）")
    pay_before: datetime = Field(description="支付截止时间，下单后 30 分钟")
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true：订阅和订单都不会保存")


class RenewalCreated(BaseModel):
    order_id: str
    amount_fen: int = Field(ge=0)
    pay_before: datetime
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true：订单不会保存")


class SubscriberView(BaseModel):
    kind: Literal["person", "unit"]
    id: str = Field(description="证件号码（遮蔽显示）")
    name: str | None = None


class SubscriptionView(BaseModel):
    """A subscription as a channel sees it: numbers masked, never in clear."""

    subscription_id: str
    product_id: str
    product_name: str | None = None
    status: Literal["pending_payment", "active", "lapsed", "ended", "cancelled"]
    subscriber: SubscriberView
    phone: str = Field(description="手机号码（遮蔽显示，如 138****1234）")
    period_start: datetime | None = None
    period_end: datetime | None = None
    created_at: datetime


class Subscriptions(BaseModel):
    subscriptions: list[SubscriptionView]
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true")


class Cancelled(BaseModel):
    subscription_id: str
    status: Literal["cancelled"]
    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true：订阅不会改变")


class PaymentRecorded(BaseModel):
    order_id: str
    status: Literal["paid"]
    test: Literal[True] | None = Field(None, description="测试订单（测试密钥下的单）才有，值为 true：不生效")


# ---------------------------------------------------------------- §1 carrier pushes
class PushAccepted(BaseModel):
    """What the carrier expects back from a push, however many items it held."""

    code: Literal[0]
    msg: str


class TencentPushAccepted(BaseModel):
    """What Tencent expects back from a push (CONTRACTS §8), however many items it held."""

    result: Literal[0]
    errmsg: str


# ---------------------------------------------------------------- contacts from channels
class ChannelPhoneIn(PhoneIn):
    """A number as a channel sends it: without a source it takes the key's one channel."""

    source: SourceChannel | None = Field(  # type: ignore[assignment]
        default=None, description="来源渠道；密钥只获准一个渠道时可省略"
    )


class ChannelContactIn(ContactIn):
    """A unit or person with its numbers, as a channel or business system sends it."""

    phones: list[ChannelPhoneIn] = Field(min_length=1, max_length=MAX_PHONES_PER_RECORD)  # type: ignore[assignment]


class ContactBatchIn(BaseModel):
    """Up to ``MAX_BATCH`` records, each answered on its own."""

    model_config = ConfigDict(extra="forbid", field_title_generator=labels({"contacts": "通讯录记录"}))

    contacts: list[ChannelContactIn] = Field(min_length=1, max_length=MAX_BATCH)


class ContactBatchOut(ContactBatch):
    """Each record's result; a test key's batch is answered the same way and saves nothing."""

    test: Literal[True] | None = Field(None, description="测试密钥的答复才有，值为 true：通讯录不会改变")
