"""Every contract route as the OpenAPI document describes it: who may call it (its security),
what it takes and answers (models and examples), and the refusals it may give.

A route added to ``template.yaml`` for an outside system gets its line here; a test holds the
document to the template's routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from sms_platform.contracts import examples, shapes
from sms_platform.sending.messages import CarrierReceipt, CarrierReply
from sms_platform.sending.tencent_pushes import TencentReceipt, TencentReply
from sms_platform.sources.business_events import BusinessEvent
from sms_platform.sources.subscriptions import LookupRequest, OrderRequest, OtpRequest, PaymentNotice

# Security schemes, by the names operations use. Those of one operation are required together.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "每个业务系统、每个服务渠道各一个 API 密钥，由信息技术科发放（python -m infra.keys issue）。",
    },
    "hotlineSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Hotline-Signature",
        "description": '十六进制 HMAC-SHA256：密钥为 HOTLINE_WEBHOOK_SECRET，内容为 时间戳 + "." + 原始请求体。',
    },
    "hotlineTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Hotline-Timestamp",
        "description": "Unix 时间（秒）；与平台时间相差超过 300 秒的请求被拒绝（401）。",
    },
    "paymentSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Payment-Signature",
        "description": "十六进制 HMAC-SHA256：密钥为 PAYMENT_WEBHOOK_SECRET，内容为原始请求体。",
    },
    "carrierToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "运营商推送地址中的回调令牌 CARRIER_CALLBACK_TOKEN（运营商推送无法签名，访问日志中隐去）。",
    },
}

# Refusals, by status: what each means for the caller (the body is always the error shape).
UNREADABLE = {400: "请求体无法读取（如不是 UTF-8）", 413: "请求体过大", 415: "请求体须为 JSON"}
INVALID = {422: "请求内容不符合要求（逐项说明见 error.details）"}
API_KEY = {403: "缺少或无效的 API 密钥，或该密钥无权进行此操作", 429: "请求过于频繁，或超过本日调用配额"}
BODY = {**UNREADABLE, **INVALID}

HOTLINE, EVENTS, SUBSCRIPTIONS, PAYMENTS, CARRIER, CONTACTS = (
    "12333 挂机短信",
    "业务事件",
    "订阅（服务渠道）",
    "支付通知",
    "运营商推送",
    "通讯录采集",
)
TAGS = {
    HOTLINE: "12333 电话系统在通话挂机后调用，按坐席选定的问答条目给来电人发短信（CONTRACTS §2）。",
    EVENTS: "社保业务系统提交业务事件，命中触发规则即发送通知短信（CONTRACTS §3）。",
    SUBSCRIPTIONS: "网上服务大厅、自助终端、手机 APP 的付费订阅（CONTRACTS §4），金额以分为单位。",
    PAYMENTS: "支付机构的支付结果通知（CONTRACTS §4）。",
    CARRIER: "运营商推送的状态报告和上行回复：阿里云短信（CONTRACTS §1）和腾讯云短信（CONTRACTS §8）。",
    CONTACTS: "服务渠道和业务系统采集的通讯录，逐条答复。",
}


@dataclass(frozen=True)
class Answer:
    status: int
    model: type[BaseModel]
    example: Any
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    description: str
    security: tuple[str, ...]
    answer: Answer
    refusals: dict[int, str]
    request: type[BaseModel] | None = None
    request_is_list: bool = False  # the body is a JSON array of ``request``
    example: Any = None
    path_parameters: dict[str, str] = field(default_factory=dict)


SUBSCRIPTION_ID = {"subscription_id": "订阅编号（下单时答复的 subscription_id）"}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", "/v1/hotline/hangups", "receive_hangup", HOTLINE, "挂机短信请求",
        "通话挂机后提交；每个问答条目一条短信，同一 call_id 再次提交不会重复发送，答复与第一次相同。"
        "条目不存在、未启用或超过 3 条时答复 422。",
        ("hotlineSignature", "hotlineTimestamp"),
        Answer(202, shapes.HangupOut, examples.HANGUP_ANSWER, "已受理"),
        {**BODY, 401: "签名缺失或不正确，或时间戳与平台时间相差超过 300 秒"},
        shapes.HangupIn, example=examples.HANGUP,
    ),
    Operation(
        "post", "/v1/events", "post_event", EVENTS, "提交业务事件",
        "event_id 至少 30 天内唯一：重复提交不再发送，答复与第一次相同。"
        "每个 API 密钥只能提交信息技术科授权的事件类型。",
        ("apiKey",),
        Answer(202, shapes.EventAccepted, examples.EVENT_ANSWER, "已受理"),
        {**BODY, **API_KEY, 409: "同一事件正在处理中，请稍后重试"},
        BusinessEvent, example=examples.EVENT,
    ),
    Operation(
        "get", "/v1/events/{event_id}", "get_event_status", EVENTS, "查询事件的短信状态",
        "只有提交该事件的 API 密钥可以查询，其他密钥或未知事件答复 404。号码脱敏；原因为中文类别（如 空号、停机）。"
        "信息技术科为密钥配置回调地址后，每条短信每次状态变化都会 POST {\"event_id\", \"message\"} 到该地址，"
        "请求头 X-Platform-Timestamp（Unix 秒）和 X-Platform-Signature（十六进制 HMAC-SHA256，密钥为回调密钥，"
        "内容为 时间戳 + \".\" + 原始请求体）；5 秒内答复 2xx 即成功，否则在 24 小时内退避重试；"
        "回调可能乱序，以 updated_at 排序。"
        "测试密钥的事件及其回调带 \"test\": true，短信不会真正发出。",
        ("apiKey",), Answer(200, shapes.EventStatusOut, examples.EVENT_STATUS, "事件及其短信的状态"),
        {**API_KEY, 404: "没有该事件，或该事件不是用此 API 密钥发送的"},
        path_parameters={"event_id": "提交事件时的 event_id"},
    ),
    Operation(
        "get", "/v1/hotline/hangups/{call_id}", "get_hangup_status", HOTLINE, "查询挂机短信状态",
        "签名方式与挂机请求相同，但签名内容为 时间戳 + \".\" + 请求路径（如 /v1/hotline/hangups/abc），"
        "时间戳同样须在平台时间 300 秒以内。号码脱敏；原因为中文类别。",
        ("hotlineSignature", "hotlineTimestamp"),
        Answer(200, shapes.CallStatusOut, examples.CALL_STATUS, "通话及其短信的状态"),
        {401: "签名缺失或不正确，或时间戳与平台时间相差超过 300 秒", 404: "没有该通话"},
        path_parameters={"call_id": "挂机请求中的 call_id"},
    ),
    Operation(
        "get", "/v1/subscriptions/products", "list_products", SUBSCRIPTIONS, "在售订阅项目", "",
        ("apiKey",), Answer(200, shapes.Products, examples.PRODUCTS, "在售项目"), dict(API_KEY),
    ),
    Operation(
        "post", "/v1/subscriptions/otp", "request_otp", SUBSCRIPTIONS, "发送短信验证码",
        "向手机号发送 6 位验证码，5 分钟内有效；同一号码每天最多 5 次，超过答复 429。"
        "测试密钥的验证码不会发出，固定为 123456，与正式验证码分开计数（每天同样最多 5 次）。",
        ("apiKey",), Answer(202, shapes.OtpSent, examples.OTP_ANSWER, "验证码已发送"),
        {**BODY, **API_KEY, 409: "验证码短信模板尚未配置"}, OtpRequest, example=examples.OTP,
    ),
    Operation(
        "post", "/v1/subscriptions", "create_subscription", SUBSCRIPTIONS, "下单订阅",
        "验证码正确后生成待支付订单，30 分钟内未支付即失效。同一 channel_order_id 再次提交答复同一订阅。"
        "测试密钥的订单同样校验、同样答复（另带 \"test\": true），但订阅和订单都不保存；"
        "其订单编号以 t 开头，支付通知照常校验金额和时限，答复 \"test\": true，不生效。",
        ("apiKey",), Answer(201, shapes.OrderCreated, examples.ORDER_ANSWER, "订单已生成"),
        {**BODY, **API_KEY, 409: "与当前状态冲突"}, OrderRequest, example=examples.ORDER,
    ),
    Operation(
        "post", "/v1/subscriptions/lookup", "lookup_subscriptions", SUBSCRIPTIONS, "查询参保人或单位的订阅",
        "证件号码放在请求体中，从不出现在 URL 里。",
        ("apiKey",), Answer(200, shapes.Subscriptions, examples.LOOKUP_ANSWER, "订阅列表"),
        {**BODY, **API_KEY}, LookupRequest, example=examples.LOOKUP,
    ),
    Operation(
        "post", "/v1/subscriptions/{subscription_id}/renewals", "renew_subscription", SUBSCRIPTIONS, "续订",
        "下一期从当前期结束时开始；未支付的续订订单再次请求时答复同一订单。"
        "测试密钥续订同样校验，答复一笔不保存的测试订单。",
        ("apiKey",), Answer(201, shapes.RenewalCreated, examples.RENEWAL_ANSWER, "续订订单已生成"),
        {**UNREADABLE, **API_KEY, 404: "没有这个订阅", 409: "订阅未生效，或项目已下架"},
        path_parameters=SUBSCRIPTION_ID,
    ),
    Operation(
        "delete", "/v1/subscriptions/{subscription_id}", "cancel_subscription", SUBSCRIPTIONS, "退订",
        "此后不再发送，不退款；重复退订答复相同。测试密钥退订同样答复，订阅不变。",
        ("apiKey",), Answer(200, shapes.Cancelled, examples.CANCEL_ANSWER, "已退订"),
        {**UNREADABLE, **API_KEY, 404: "没有这个订阅"}, path_parameters=SUBSCRIPTION_ID,
    ),
    Operation(
        "post", "/v1/payments/notify", "notify_payment", PAYMENTS, "支付结果通知",
        "金额不符、订单已失效或已由另一笔交易支付时答复 409，订单不存在答复 404，均不生效；"
        "同一 transaction_id 再次通知不改变任何状态，答复与第一次相同。"
        "测试订单（编号以 t 开头）同样校验，答复带 \"test\": true，不生效。",
        ("paymentSignature",), Answer(200, shapes.PaymentRecorded, examples.PAYMENT_ANSWER, "已入账"),
        {**BODY, 401: "签名缺失或不正确", 404: "没有这个订单", 409: "金额不符、订单已失效或已支付"},
        PaymentNotice, example=examples.PAYMENT,
    ),
    Operation(
        "post", "/v1/carrier/receipts", "push_receipts", CARRIER, "短信状态报告（SmsReport）",
        "可能重复，也可能早于平台记录“已发送”到达；以 success 为准，err_code 为明细。收到即答复，随后分批入账。",
        ("carrierToken",), Answer(200, shapes.PushAccepted, examples.PUSH_ANSWER, "已接收"),
        {**BODY, 401: "回调令牌不正确"}, CarrierReceipt, request_is_list=True, example=examples.RECEIPTS,
    ),
    Operation(
        "post", "/v1/carrier/inbound", "push_replies", CARRIER, "上行回复（SmsUp）",
        "回复 R、T、TD 或 退订（不区分大小写，忽略首尾空白）即退订宣传类短信；其他回复留给工作人员查看。",
        ("carrierToken",), Answer(200, shapes.PushAccepted, examples.PUSH_ANSWER, "已接收"),
        {**BODY, 401: "回调令牌不正确"}, CarrierReply, request_is_list=True, example=examples.REPLIES,
    ),
    Operation(
        "post", "/v1/carrier/tencent/receipts", "push_tencent_receipts", CARRIER, "腾讯云短信状态回执",
        "以 sid（发送时的 SerialNo）找到对应短信；可能重复，也可能早于平台记录发送结果到达；以 report_status 为准，"
        "errmsg 为明细。收到即答复，随后分批入账。",
        ("carrierToken",), Answer(200, shapes.TencentPushAccepted, examples.TENCENT_PUSH_ANSWER, "已接收"),
        {**BODY, 401: "回调令牌不正确"}, TencentReceipt, request_is_list=True, example=examples.TENCENT_RECEIPTS,
    ),
    Operation(
        "post", "/v1/carrier/tencent/inbound", "push_tencent_replies", CARRIER, "腾讯云短信上行回复",
        "回复 R、T、TD 或 退订（不区分大小写，忽略首尾空白）即退订宣传类短信；其他回复留给工作人员查看。",
        ("carrierToken",), Answer(200, shapes.TencentPushAccepted, examples.TENCENT_PUSH_ANSWER, "已接收"),
        {**BODY, 401: "回调令牌不正确"}, TencentReply, request_is_list=True, example=examples.TENCENT_REPLIES,
    ),
    Operation(
        "post", "/v1/contacts/batch", "post_contacts", CONTACTS, "批量提交通讯录",
        "每条记录分别校验（证件号码校验位、手机号码）并逐条答复 created、updated、unchanged 或 rejected；"
        "与已有记录相同的记录答复 unchanged。每个号码的来源渠道须是该密钥获准的渠道。"
        "同一密钥一天内提交相同的请求体，答复与第一次相同。"
        "测试密钥按其正式密钥的授权校验、按通讯录现状逐条答复（另带 \"test\": true），但不保存任何记录。",
        ("apiKey",), Answer(200, shapes.ContactBatchOut, examples.CONTACTS_ANSWER, "逐条结果"),
        {**BODY, **API_KEY, 409: "相同的请求正在处理"}, shapes.ContactBatchIn, example=examples.CONTACTS,
    ),
)  # fmt: skip
