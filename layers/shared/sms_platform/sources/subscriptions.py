"""Paid subscriptions as the service channels use them (R8, CONTRACTS §4): the products on sale,
verification codes, orders, payments, lookup by subscriber and cancellation.

Verification codes go by SMS (``verification_codes``: 6 digits, 5 minutes, at most 5 a day per
number, compared in constant time, at most 5 wrong tries per code). An order lapses unpaid after
30 minutes; a payment notification is signed, a wrong amount or a lapsed order is refused, and
a subscription is activated exactly once per order. A renewal starts when the current period
ends. Cancelling stops further sends, with no refund. A channel's test key (``test``, CONTRACTS
§7) is checked the same way and changes nothing (``subscription_test_orders``).

The items on sale are managed in ``subscription_items``, the sends are ``subscription_sends``'s,
everything is stored by ``subscription_store``. Money is in fen (integers). No ID number or
phone number is stored or answered in clear.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sms_platform.foundation import crypto, identifiers
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict, NotFound, ValidationFailed
from sms_platform.foundation.http import validation_failed_from
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.message_items import Caller
from sms_platform.sources import channel_sends, subscription_store, subscription_test_orders, verification_codes
from sms_platform.sources.subscription_models import PAY_WINDOW, Item, add_months, order_state, subscription_state

# ---------------------------------------------------------------- what the channels send


class SubscriberRef(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"kind": "对象类型", "id": "证件号码"}))

    kind: Literal["person", "unit"]
    id: Annotated[str, Visible("证件号码")] = Field(min_length=1, max_length=64)

    @field_validator("id")
    @classmethod
    def _valid(cls, value: str, info: Any) -> str:
        value = value.strip().upper()
        if info.data.get("kind") == "person" and not identifiers.is_id_number(value):
            raise ValueError("身份证号码无效")
        if info.data.get("kind") == "unit" and not identifiers.is_credit_code(value):
            raise ValueError("统一社会信用代码无效")
        return value


class Subscriber(SubscriberRef):
    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=50)


class OtpRequest(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"phone": "手机号码"}))

    phone: str = Field(min_length=1, max_length=32)


class OrderRequest(BaseModel):
    model_config = ConfigDict(
        field_title_generator=labels(
            {"phone": "手机号码", "otp": "验证码", "channel_order_id": "渠道订单号", "subscriber": "订阅人"}
        )
    )

    product_id: Annotated[str, Visible("产品编号")] = Field(min_length=1, max_length=64)
    subscriber: Subscriber
    phone: str = Field(min_length=1, max_length=32)
    otp: str = Field(pattern=r"^\d{6}$")
    channel_order_id: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")


class PaymentNotice(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"amount_fen": "金额（分）", "paid_at": "支付时间"}))

    transaction_id: Annotated[str, Visible("交易号")] = Field(min_length=1, max_length=128)
    order_id: Annotated[str, Visible("订单号")] = Field(min_length=1, max_length=64)
    amount_fen: int = Field(ge=0, strict=True)
    paid_at: datetime


class LookupRequest(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"subscriber": "订阅人"}))

    subscriber: SubscriberRef


def parse(model: type[BaseModel], body: Any) -> Any:
    """A request body as ``model``; 422 listing each fault, without echoing any value."""
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", field="body")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_failed_from(exc.errors(), model) from exc  # messages never repeat a value


def _phone(raw: str) -> str:
    return identifiers.normalize_mobile(raw, field="phone")


def _subscriber_hash(kind: str, identifier: str) -> str:
    return crypto.keyed_hash(f"{kind}:{identifier}", purpose="id")


def products() -> list[dict[str, Any]]:
    """The items on sale, as the channels show them."""
    return [item.product() for item in subscription_store.list_items() if item.status == "active"]


# ---------------------------------------------------------------- verification codes


def request_otp(phone_raw: str, now: datetime, *, test: bool = False) -> dict[str, Any]:
    """Send a new code to the number (``verification_codes``: 429 after 5 in a Beijing day). A
    test key's code (``test``, CONTRACTS §7) is settled by the platform, never sent, always
    ``subscription_test_orders.TEST_CODE``, and kept and counted apart from the number's live codes."""
    phone = _phone(phone_raw)
    template_id = subscription_store.settings()["otp_template_id"]
    template = channel_sends.active_template(template_id, now, category="system") if template_id else None
    if template is None:
        raise Conflict("验证码短信模板尚未配置，暂时无法发送验证码")
    phone_hash = crypto.keyed_hash(phone)
    day = now.astimezone(BEIJING).date()
    sequence = subscription_store.count_otp_today(phone_hash, now, test=test)
    code = subscription_test_orders.TEST_CODE if test else verification_codes.new_code()
    subscription_store.put_otp(phone_hash, code, now, test=test)
    # A test code's message has a source of its own: its numbering is not the live codes'.
    source_id = f"otp#{phone_hash}#{day.isoformat()}#{'t' if test else ''}{sequence}"
    caller = Caller(ref=source_id, outside_id=source_id, test=True) if test else None
    channel_sends.send(SmsKind.SYSTEM, source_id, template, [(phone, {"code": code})], caller=caller)
    return {"expires_in": int(verification_codes.TTL.total_seconds())}


# ---------------------------------------------------------------- orders and subscriptions


def _order_answer(order: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": order["order_id"], "amount_fen": int(order["amount_fen"]), "pay_before": order["pay_before"]}


def get_subscription(subscription_id: str) -> dict[str, Any]:
    item = subscription_store.subscription(subscription_id)
    if not item:
        raise NotFound("没有这个订阅")
    return item


def _new_order(item: Item, subscription_id: str, kind: str, now: datetime) -> dict[str, Any]:
    """A pending order for one period of ``item`` (``new`` or ``renewal``), payable for ``PAY_WINDOW``."""
    return {"order_id": "o" + uuid.uuid4().hex[:23], "subscription_id": subscription_id, "kind": kind,
            "amount_fen": item.price_fen, "period_months": item.period_months, "status": "pending_payment",
            "pay_before": (now + PAY_WINDOW).isoformat(), "created_at": now.isoformat()}  # fmt: skip


def _item_on_sale(product_id: str) -> Item:
    try:
        item = subscription_store.get_item(product_id)
    except NotFound:
        item = None
    if item is None or item.status != "active":
        raise ValidationFailed("没有这个在售的订阅项目", field="product_id")
    return item


def create_order(request: OrderRequest, *, channel: str, now: datetime, test: bool = False) -> dict[str, Any]:
    """A new subscription waiting for payment. The same channel order id gets the same answer. A
    test key's order (``test``) is checked against its own codes and answered, never stored."""
    subscription_id = "s" + hashlib.sha256(f"{channel}|{request.channel_order_id}".encode()).hexdigest()[:23]
    existing = subscription_store.subscription(subscription_id)
    if existing:
        order = subscription_store.order(existing["first_order_id"])
        status = subscription_state(existing, now, order)
        return {"subscription_id": subscription_id, "status": status, **_order_answer(order)}
    item = _item_on_sale(request.product_id)
    phone = _phone(request.phone)
    phone_hash = crypto.keyed_hash(phone)
    subscription_store.check_otp(phone_hash, request.otp, now, test=test)
    if test:
        order = subscription_test_orders.order(subscription_id, item, now)
        return {"subscription_id": subscription_id, "status": "pending_payment", **order}

    subscriber = request.subscriber
    masked_id = (identifiers.mask_id_number if subscriber.kind == "person" else identifiers.mask_credit_code)(
        subscriber.id
    )
    order = _new_order(item, subscription_id, "new", now)
    subscription = {
        "subscription_id": subscription_id, "product_id": item.product_id, "product_name": item.name,
        "status": "pending_payment", "subscriber_kind": subscriber.kind,
        "subscriber_token": crypto.encrypt(subscriber.id), "subscriber_masked": masked_id,
        "subscriber_name": subscriber.name, "phone_token": crypto.encrypt(phone), "phone_hash": phone_hash,
        "phone_masked": identifiers.mask_mobile(phone), "channel": channel,
        "channel_order_id": request.channel_order_id, "first_order_id": order["order_id"], "applied_orders": [],
        "created_at": now.isoformat(),
    }  # fmt: skip
    subscription_store.put_order(order)
    created = subscription_store.create_subscription(
        subscription, subscriber_hash=_subscriber_hash(subscriber.kind, subscriber.id), created_at=now
    )
    if not created:  # the same channel order arrived twice at once: answer with the winner
        return create_order(request, channel=channel, now=now)
    subscription_store.consume_otp(phone_hash)
    return {"subscription_id": subscription_id, "status": "pending_payment", **_order_answer(order)}


def renew(subscription_id: str, now: datetime, *, test: bool = False) -> dict[str, Any]:
    """An order for the next period; an unpaid, unlapsed renewal order is answered again. A test
    key's renewal (``test``) is checked the same way and answered with a test order, never stored."""
    subscription = get_subscription(subscription_id)
    if subscription["status"] != "active":
        raise Conflict("只有生效中的订阅可以续订")
    pending_id = subscription.get("renewal_order_id")
    pending = subscription_store.order(pending_id) if pending_id else None
    if pending and order_state(pending, now) == "pending_payment":
        return _order_answer(pending)
    item = subscription_store.get_item(subscription["product_id"])
    if item.status != "active":
        raise Conflict("该订阅项目已下架，不能续订")
    if test:
        return subscription_test_orders.order(subscription_id, item, now)
    order = _new_order(item, subscription_id, "renewal", now)
    subscription_store.put_order(order)
    subscription_store.set_renewal_order(subscription_id, order["order_id"])
    return _order_answer(order)


def _refuse_unpayable(order: dict[str, Any], state: str, notice: PaymentNotice) -> None:
    """Refuse a notice for an order already paid by another transaction, or lapsed (written
    down as lapsed now if it still reads pending)."""
    if state == "paid" and order.get("transaction_id") != notice.transaction_id:
        raise Conflict("该订单已由另一笔交易支付")
    if state == "lapsed":
        if order["status"] == "pending_payment":
            subscription_store.mark_order_lapsed(order["order_id"])
        raise Conflict("订单已超过 30 分钟未支付，已失效")


def record_payment(notice: PaymentNotice, now: datetime) -> dict[str, Any]:
    """Apply a payment exactly once: order paid, subscription active for the order's period. A
    test order's payment is checked as a live one and answered with ``"test": true``; it changes
    nothing (``subscription_test_orders``)."""
    if subscription_test_orders.is_test_order(notice.order_id):
        return subscription_test_orders.payment(notice.order_id, notice.amount_fen, now)
    order = subscription_store.order(notice.order_id)
    if not order:
        raise NotFound("没有这个订单")
    state = order_state(order, now)
    _refuse_unpayable(order, state, notice)
    if state != "paid":
        if notice.amount_fen != int(order["amount_fen"]):
            raise Conflict("支付金额与订单金额不符")
        subscription = get_subscription(order["subscription_id"])
        if subscription["status"] == "cancelled":
            raise Conflict("订阅已取消，不能支付")
        if not subscription_store.mark_order_paid(order["order_id"], notice.transaction_id, notice.paid_at):
            return record_payment(notice, now)  # another notice got there first: answer by the stored state
    _activate(order, now)
    return {"order_id": order["order_id"], "status": "paid"}


def _activate(order: dict[str, Any], now: datetime) -> None:
    """Extend the subscription by the order's period, once per order (safe to repeat)."""
    subscription = get_subscription(order["subscription_id"])
    if order["order_id"] in subscription.get("applied_orders", []):
        return
    if order["kind"] == "renewal" and subscription.get("period_end"):
        start = max(datetime.fromisoformat(subscription["period_end"]), now)
    else:
        start = now
    end = add_months(start, int(order["period_months"]))
    period_start = subscription.get("period_start") or start.isoformat()
    subscription_store.apply_order(subscription, order["order_id"], period_start, end)


# ---------------------------------------------------------------- lookup and cancellation


def view(subscription: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a channel sees: the status as it reads now, masked subscriber and phone, never their
    numbers in clear."""
    pending = subscription["status"] == "pending_payment"
    first_order = subscription_store.order(subscription["first_order_id"]) if pending else None
    return {
        "subscription_id": subscription["subscription_id"], "product_id": subscription["product_id"],
        "product_name": subscription.get("product_name"),
        "status": subscription_state(subscription, now, first_order),
        "subscriber": {"kind": subscription["subscriber_kind"], "id": subscription["subscriber_masked"],
                       "name": subscription.get("subscriber_name")},
        "phone": subscription["phone_masked"], "period_start": subscription.get("period_start"),
        "period_end": subscription.get("period_end"), "created_at": subscription["created_at"],
    }  # fmt: skip


def lookup(subscriber: SubscriberRef, now: datetime) -> list[dict[str, Any]]:
    found = subscription_store.subscriptions_of(_subscriber_hash(subscriber.kind, subscriber.id))
    return [view(item, now) for item in found]


def cancel(subscription_id: str, now: datetime, *, test: bool = False) -> dict[str, Any]:
    """No further sends, no refund. Cancelling twice gives the same answer. A test key's cancelling
    (``test``) is answered the same way and leaves the subscription as it is."""
    subscription = get_subscription(subscription_id)
    if subscription["status"] != "cancelled" and not test:
        subscription_store.mark_cancelled(subscription, now)
    return {"subscription_id": subscription_id, "status": "cancelled"}
