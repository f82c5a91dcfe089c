"""Paid subscriptions (R8, CONTRACTS §4).

Subscription items are defined by the city office and approved by a city reviewer who is not
their author; an approved item is on sale. Each item names a template, a linked business event
type whose latest data fills each send (``variables`` map template variables to paths such as
``data.amount``), what triggers a send (``monthly`` on a given day, or ``event``: each such
event), a price per period in fen and a period length in months.

Channels: verification codes by SMS (``verification_codes``: 6 digits, 5 minutes, at most 5 a day per number, compared
in constant time, at most 5 wrong tries per code), orders that lapse unpaid after 30 minutes,
signed payment notifications (wrong amount or lapsed order refused, activation exactly once),
renewals starting when the current period ends, lookup by subscriber, cancellation (no refund,
no further sends). Subscribed messages go on the ``high`` lane as kind ``subscription``, which
publicity opt-outs do not touch.

Storage (SUBSCRIPTIONS_TABLE): ``sub#{id}`` (subscriber by keyed hash, gsi1 by subscriber),
``order#{id}``, ``members#{product_id}`` (one item per active subscription, for scheduled sends),
``otp#{phone_hash}`` (code and daily counter, expiring), ``latest#{kind}#{id_hash}`` (latest
event data per type), ``sub#{id}`` / ``send#...`` (what each scheduled send did). Items and the
channel settings live in CONTROL_TABLE (``subitem#{id}``, ``config`` / ``subscriptions``).
Money is in fen (integers). No ID number or phone number is stored or answered in clear.
"""

from __future__ import annotations

import calendar
import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from sms_platform import aws
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sms_platform.foundation.text_rules import Visible

PAY_WINDOW = timedelta(minutes=30)
REMINDER_BEFORE = timedelta(days=7)

ItemStatus = Literal["draft", "submitted", "active", "rejected", "withdrawn"]


# ---------------------------------------------------------------- pure rules


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` later in Beijing, the day clamped to the month's end."""
    from sms_platform.foundation.clock import BEIJING

    local = moment.astimezone(BEIJING)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(moment.tzinfo)


def monthly_send_due(day_of_month: int, now: datetime) -> bool:
    """Whether a ``monthly`` item sends today (Beijing date)."""
    from sms_platform.foundation.clock import BEIJING

    return now.astimezone(BEIJING).day == day_of_month


def reminder_due(period_end: datetime, now: datetime) -> bool:
    """Whether the period ends within the next seven days (by Beijing dates), and has not ended."""
    from sms_platform.foundation.clock import BEIJING

    days_left = (period_end.astimezone(BEIJING).date() - now.astimezone(BEIJING).date()).days
    return now < period_end and days_left <= REMINDER_BEFORE.days


def order_state(order: dict[str, Any], now: datetime) -> str:
    """``paid``, ``lapsed`` or ``pending_payment`` (an unpaid order past its deadline is lapsed)."""
    if order["status"] == "pending_payment" and now > datetime.fromisoformat(order["pay_before"]):
        return "lapsed"
    return order["status"]


def subscription_state(subscription: dict[str, Any], now: datetime, first_order: dict[str, Any] | None = None) -> str:
    """What a subscription reads as now, before any sweep has written it down: waiting for a
    first payment whose order lapsed reads ``lapsed``; active past its period's end reads ``ended``."""
    status = subscription["status"]
    if status == "pending_payment" and first_order is not None and order_state(first_order, now) == "lapsed":
        return "lapsed"
    period_end = subscription.get("period_end")
    if status == "active" and period_end and now >= datetime.fromisoformat(period_end):
        return "ended"
    return status


# ---------------------------------------------------------------- items


class Trigger(BaseModel):
    kind: Literal["monthly", "event"]
    day: int | None = Field(default=None, ge=1, le=28, description="Day of the month (1-28) for monthly sends")

    @model_validator(mode="after")
    def _day(self) -> Trigger:
        if self.kind == "monthly" and self.day is None:
            raise ValueError("按月发送需要指定每月的日期（1-28）")
        return self


class ItemDraft(BaseModel):
    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=40)
    description: Annotated[str, Visible("说明", multiline=True)] = Field(min_length=1, max_length=300)
    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    event_type: str = Field(max_length=64, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    variables: dict[str, str] = Field(default_factory=dict)
    trigger: Trigger
    price_fen: int = Field(gt=0, le=10_000_000)
    period_months: int = Field(ge=1, le=36)

    @field_validator("variables")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        from sms_platform.sources.trigger_rules import check_path

        for path in value.values():
            check_path(path)
        return value


class Item(ItemDraft):
    product_id: str
    status: ItemStatus
    author: str
    reviewer: str | None = None
    reject_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    def product(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "name": self.name, "description": self.description,
                "price_fen": self.price_fen, "period_months": self.period_months}  # fmt: skip


def _control() -> Any:
    return aws.table("CONTROL_TABLE")


def _subs() -> Any:
    return aws.table("SUBSCRIPTIONS_TABLE")


def _save_item(item: Item, *, condition: str | None = None, values: dict[str, Any] | None = None) -> None:
    record = {"pk": f"subitem#{item.product_id}", "sk": "item", "gsi1pk": "subitems",
              "gsi1sk": item.product_id, **item.model_dump(mode="json")}  # fmt: skip
    kwargs: dict[str, Any] = {}
    if condition:
        kwargs = {"ConditionExpression": condition}
        if "#s" in condition:
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
        if values:
            kwargs["ExpressionAttributeValues"] = values
    try:
        _control().put_item(Item={k: v for k, v in record.items() if v is not None}, **kwargs)
    except Exception as exc:
        if aws.condition_failed(exc):
            raise Conflict("订阅项目已被他人修改，请刷新后重试") from exc
        raise


def _load_item(record: dict[str, Any]) -> Item:
    fields = {k: v for k, v in record.items() if k in Item.model_fields}
    fields["price_fen"], fields["period_months"] = int(fields["price_fen"]), int(fields["period_months"])
    if fields["trigger"].get("day") is not None:
        fields["trigger"] = {**fields["trigger"], "day": int(fields["trigger"]["day"])}
    return Item.model_validate(fields)


def get_item(product_id: str) -> Item:
    record = _control().get_item(Key={"pk": f"subitem#{product_id}", "sk": "item"}).get("Item")
    if not record:
        raise NotFound("没有这个订阅项目")
    return _load_item(record)


def list_items() -> list[Item]:
    records = (
        _control()
        .query(IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk", ExpressionAttributeValues={":pk": "subitems"})
        .get("Items", [])
    )
    return [_load_item(record) for record in records]


def products() -> list[dict[str, Any]]:
    return [item.product() for item in list_items() if item.status == "active"]


def create_item(draft: ItemDraft, *, author: str, now: datetime) -> Item:
    item = Item(**draft.model_dump(), product_id=f"sub-{uuid.uuid4().hex[:10]}", status="draft", author=author,
                created_at=now, updated_at=now)  # fmt: skip
    _save_item(item, condition="attribute_not_exists(pk)")
    return item


def update_item(product_id: str, draft: ItemDraft, *, author: str, now: datetime) -> tuple[Item, Item]:
    before = get_item(product_id)
    if before.status not in ("draft", "rejected"):
        raise Conflict("只有草稿或被驳回的订阅项目可以修改；已上架的项目请新建")
    # The draft's own attribute values (model_copy does not validate, so no dumping nested models to dicts).
    changes = {name: getattr(draft, name) for name in ItemDraft.model_fields}
    after = before.model_copy(update={**changes, "status": "draft", "author": author, "updated_at": now,
                                      "reject_reason": None})  # fmt: skip
    _save_item(after, condition="#s = :s", values={":s": before.status})
    return before, after


def _move(product_id: str, expected: str, now: datetime, **changes: Any) -> tuple[Item, Item]:
    before = get_item(product_id)
    if before.status != expected:
        raise Conflict(f"订阅项目当前状态为 {before.status}，不能执行此操作")
    after = before.model_copy(update={**changes, "updated_at": now})
    _save_item(after, condition="#s = :s", values={":s": expected})
    return before, after


def submit_item(product_id: str, *, now: datetime) -> tuple[Item, Item]:
    return _move(product_id, "draft", now, status="submitted")


def approve_item(product_id: str, *, reviewer: str, now: datetime) -> tuple[Item, Item]:
    """A reviewer who did not write it puts the item on sale (its template must be usable)."""
    from sms_platform.sources import channel_sends

    item = get_item(product_id)
    if item.author == reviewer:
        raise Forbidden("不能审核自己编写的订阅项目")
    usable = channel_sends.active_template(item.template_id, now, category="subscription")
    if item.status == "submitted" and usable is None:
        raise Conflict("订阅项目使用的模板不是生效中的付费订阅类模板，不能上架")
    return _move(product_id, "submitted", now, status="active", reviewer=reviewer)


def reject_item(product_id: str, *, reviewer: str, reason: str, now: datetime) -> tuple[Item, Item]:
    if get_item(product_id).author == reviewer:
        raise Forbidden("不能审核自己编写的订阅项目")
    return _move(product_id, "submitted", now, status="rejected", reviewer=reviewer, reject_reason=reason)


def withdraw_item(product_id: str, *, now: datetime) -> tuple[Item, Item]:
    """Off sale; paid periods still run to their end."""
    return _move(product_id, "active", now, status="withdrawn")


# ---------------------------------------------------------------- channel settings


def settings() -> dict[str, Any]:
    item = _control().get_item(Key={"pk": "config", "sk": "subscriptions"}).get("Item") or {}
    return {"otp_template_id": item.get("otp_template_id"), "reminder_template_id": item.get("reminder_template_id")}


def set_settings(otp_template_id: str | None, reminder_template_id: str | None, *, actor: str, now: datetime) -> dict:
    """Choose the verification-code template (a platform ``system`` one) and the renewal reminder
    (a ``subscription`` one); a template of another category, or none at all, is refused."""
    from sms_platform.sources import channel_sends

    wanted = (("otp_template_id", otp_template_id, "system", "平台系统消息"),
              ("reminder_template_id", reminder_template_id, "subscription", "付费订阅类"))  # fmt: skip
    for field, template_id, category, name in wanted:
        if template_id is not None and channel_sends.template_category(template_id) != category:
            raise ValidationFailed(f"应选择“{name}”类别的模板", field=field)
    _control().put_item(
        Item={"pk": "config", "sk": "subscriptions", "otp_template_id": otp_template_id,
              "reminder_template_id": reminder_template_id, "updated_by": actor, "updated_at": now.isoformat()}
    )  # fmt: skip
    return settings()


# ---------------------------------------------------------------- requests from the channels


class SubscriberRef(BaseModel):
    kind: Literal["person", "unit"]
    id: Annotated[str, Visible("证件号码")] = Field(min_length=1, max_length=64)

    @field_validator("id")
    @classmethod
    def _valid(cls, value: str, info: Any) -> str:
        from sms_platform.foundation import identifiers

        value = value.strip().upper()
        if info.data.get("kind") == "person" and not identifiers.is_id_number(value):
            raise ValueError("身份证号码无效")
        if info.data.get("kind") == "unit" and not identifiers.is_credit_code(value):
            raise ValueError("统一社会信用代码无效")
        return value


class Subscriber(SubscriberRef):
    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=50)


class OtpRequest(BaseModel):
    phone: str = Field(min_length=1, max_length=32)


class OrderRequest(BaseModel):
    product_id: Annotated[str, Visible("产品编号")] = Field(min_length=1, max_length=64)
    subscriber: Subscriber
    phone: str = Field(min_length=1, max_length=32)
    otp: str = Field(pattern=r"^\d{6}$")
    channel_order_id: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")


class PaymentNotice(BaseModel):
    transaction_id: Annotated[str, Visible("交易号")] = Field(min_length=1, max_length=128)
    order_id: Annotated[str, Visible("订单号")] = Field(min_length=1, max_length=64)
    amount_fen: int = Field(ge=0, strict=True)
    paid_at: datetime


class LookupRequest(BaseModel):
    subscriber: SubscriberRef


def parse(model: type[BaseModel], body: Any) -> Any:
    """A request body as ``model``; 422 listing each fault, without echoing any value."""
    from sms_platform.foundation.http import validation_failed_from

    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", field="body")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_failed_from(exc.errors(include_input=False)) from exc


def _phone(raw: str) -> str:
    from sms_platform.foundation import identifiers

    return identifiers.normalize_mobile(raw, field="phone")


# ---------------------------------------------------------------- verification codes


def _otp_key(phone_hash: str, what: str) -> dict[str, str]:
    return {"pk": f"otp#{phone_hash}", "sk": what}


def request_otp(phone_raw: str, now: datetime) -> dict[str, Any]:
    """Send a new code to the number (``verification_codes``: 429 after 5 in a Beijing day)."""
    from sms_platform.foundation import crypto
    from sms_platform.foundation.clock import BEIJING
    from sms_platform.sending.lanes import SmsKind
    from sms_platform.sources import channel_sends, verification_codes

    phone = _phone(phone_raw)
    template_id = settings()["otp_template_id"]
    template = channel_sends.active_template(template_id, now, category="system") if template_id else None
    if template is None:
        raise Conflict("验证码短信模板尚未配置，暂时无法发送验证码")
    phone_hash = crypto.keyed_hash(phone)
    day = now.astimezone(BEIJING).date()
    sequence = verification_codes.count_today(_subs(), _otp_key(phone_hash, f"day#{day.isoformat()}"), now)
    code = verification_codes.new_code()
    _subs().put_item(Item=verification_codes.code_item(_otp_key(phone_hash, "code"), phone_hash, code, now))
    channel_sends.send(SmsKind.SYSTEM, f"otp#{phone_hash}#{day.isoformat()}#{sequence}", template,
                       [(phone, {"code": code})])  # fmt: skip
    return {"expires_in": int(verification_codes.TTL.total_seconds())}


def _check_otp(phone_hash: str, code: str, now: datetime) -> None:
    from sms_platform.sources import verification_codes

    verification_codes.check(_subs(), _otp_key(phone_hash, "code"), phone_hash, code, now, field="otp")


def _consume_otp(phone_hash: str) -> None:
    _subs().delete_item(Key=_otp_key(phone_hash, "code"))


# ---------------------------------------------------------------- orders and subscriptions


def _order_answer(order: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": order["order_id"], "amount_fen": int(order["amount_fen"]), "pay_before": order["pay_before"]}


def _get(pk: str) -> dict[str, Any] | None:
    return _subs().get_item(Key={"pk": pk, "sk": pk.split("#", 1)[0]}).get("Item")


def get_subscription(subscription_id: str) -> dict[str, Any]:
    item = _get(f"sub#{subscription_id}") if len(subscription_id or "") <= 64 else None
    if not item:
        raise NotFound("没有这个订阅")
    return item


def get_order(order_id: str) -> dict[str, Any] | None:
    return _get(f"order#{order_id}") if len(order_id or "") <= 64 else None


def create_order(request: OrderRequest, *, channel: str, now: datetime) -> dict[str, Any]:
    """A new subscription waiting for payment. The same channel order id gets the same answer."""
    from sms_platform.foundation import crypto, identifiers

    subscription_id = "s" + hashlib.sha256(f"{channel}|{request.channel_order_id}".encode()).hexdigest()[:23]
    existing = _get(f"sub#{subscription_id}")
    if existing:
        order = _get(f"order#{existing['first_order_id']}")
        status = subscription_state(existing, now, order)
        return {"subscription_id": subscription_id, "status": status, **_order_answer(order)}
    try:
        item = get_item(request.product_id)
    except NotFound:
        item = None
    if item is None or item.status != "active":
        raise ValidationFailed("没有这个在售的订阅项目", field="product_id")
    phone = _phone(request.phone)
    phone_hash = crypto.keyed_hash(phone)
    _check_otp(phone_hash, request.otp, now)

    subscriber = request.subscriber
    subscriber_hash = crypto.keyed_hash(f"{subscriber.kind}:{subscriber.id}", purpose="id")
    order_id = "o" + uuid.uuid4().hex[:23]
    pay_before = (now + PAY_WINDOW).isoformat()
    masked_id = (identifiers.mask_id_number if subscriber.kind == "person" else identifiers.mask_credit_code)(
        subscriber.id
    )
    order = {"pk": f"order#{order_id}", "sk": "order", "order_id": order_id, "subscription_id": subscription_id,
             "kind": "new", "amount_fen": item.price_fen, "period_months": item.period_months,
             "status": "pending_payment", "pay_before": pay_before, "created_at": now.isoformat()}  # fmt: skip
    subscription = {
        "pk": f"sub#{subscription_id}", "sk": "sub", "subscription_id": subscription_id,
        "product_id": item.product_id, "product_name": item.name, "status": "pending_payment",
        "subscriber_kind": subscriber.kind, "subscriber_token": crypto.encrypt(subscriber.id),
        "subscriber_masked": masked_id, "subscriber_name": subscriber.name,
        "gsi1pk": f"subscriber#{subscriber_hash}", "gsi1sk": f"{now.isoformat()}#{subscription_id}",
        "phone_token": crypto.encrypt(phone), "phone_hash": phone_hash,
        "phone_masked": identifiers.mask_mobile(phone), "channel": channel,
        "channel_order_id": request.channel_order_id, "first_order_id": order_id, "applied_orders": [],
        "created_at": now.isoformat(),
    }  # fmt: skip
    _subs().put_item(Item=order)
    try:
        _subs().put_item(Item=subscription, ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:
        if aws.condition_failed(exc):  # the same channel order arrived twice at once: answer with the winner
            return create_order(request, channel=channel, now=now)
        raise
    _consume_otp(phone_hash)
    return {"subscription_id": subscription_id, "status": "pending_payment", **_order_answer(order)}


def renew(subscription_id: str, now: datetime) -> dict[str, Any]:
    """An order for the next period; an unpaid, unlapsed renewal order is answered again."""
    subscription = get_subscription(subscription_id)
    if subscription["status"] != "active":
        raise Conflict("只有生效中的订阅可以续订")
    pending_id = subscription.get("renewal_order_id")
    pending = get_order(pending_id) if pending_id else None
    if pending and order_state(pending, now) == "pending_payment":
        return _order_answer(pending)
    item = get_item(subscription["product_id"])
    if item.status != "active":
        raise Conflict("该订阅项目已下架，不能续订")
    order_id = "o" + uuid.uuid4().hex[:23]
    order = {"pk": f"order#{order_id}", "sk": "order", "order_id": order_id, "subscription_id": subscription_id,
             "kind": "renewal", "amount_fen": item.price_fen, "period_months": item.period_months,
             "status": "pending_payment", "pay_before": (now + PAY_WINDOW).isoformat(),
             "created_at": now.isoformat()}  # fmt: skip
    _subs().put_item(Item=order)
    _subs().update_item(
        Key={"pk": f"sub#{subscription_id}", "sk": "sub"},
        UpdateExpression="SET renewal_order_id = :o",
        ExpressionAttributeValues={":o": order_id},
    )
    return _order_answer(order)


def record_payment(notice: PaymentNotice, now: datetime) -> dict[str, Any]:
    """Apply a payment exactly once: order paid, subscription active for the order's period."""
    order = get_order(notice.order_id)
    if not order:
        raise NotFound("没有这个订单")
    state = order_state(order, now)
    if state == "paid":
        if order.get("transaction_id") != notice.transaction_id:
            raise Conflict("该订单已由另一笔交易支付")
    elif state == "lapsed":
        if order["status"] == "pending_payment":
            _subs().update_item(
                Key={"pk": order["pk"], "sk": "order"}, UpdateExpression="SET #s = :l",
                ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":l": "lapsed", ":p": "pending_payment"},
            )  # fmt: skip
        raise Conflict("订单已超过 30 分钟未支付，已失效")
    else:
        if notice.amount_fen != int(order["amount_fen"]):
            raise Conflict("支付金额与订单金额不符")
        subscription = get_subscription(order["subscription_id"])
        if subscription["status"] == "cancelled":
            raise Conflict("订阅已取消，不能支付")
        try:
            _subs().update_item(
                Key={"pk": order["pk"], "sk": "order"},
                UpdateExpression="SET #s = :paid, transaction_id = :t, paid_at = :at",
                ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":paid": "paid", ":t": notice.transaction_id, ":p": "pending_payment",
                                           ":at": notice.paid_at.isoformat()},
            )  # fmt: skip
        except Exception as exc:
            if aws.condition_failed(exc):
                return record_payment(notice, now)  # another notice got there first: answer by the stored state
            raise
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
    try:
        _subs().update_item(
            Key={"pk": subscription["pk"], "sk": "sub"},
            UpdateExpression="SET #s = :a, period_start = :ps, period_end = :pe, "
            "applied_orders = list_append(applied_orders, :o)",
            ConditionExpression="NOT contains(applied_orders, :oid) AND #s <> :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":a": "active", ":ps": period_start, ":pe": end.isoformat(),
                                       ":o": [order["order_id"]], ":oid": order["order_id"], ":c": "cancelled"},
        )  # fmt: skip
    except Exception as exc:
        if not aws.condition_failed(exc):
            raise
        return
    _subs().put_item(
        Item={"pk": f"members#{subscription['product_id']}", "sk": f"sub#{subscription['subscription_id']}",
              "subscription_id": subscription["subscription_id"]}
    )  # fmt: skip


def view(subscription: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a channel sees: the status as it reads now, masked subscriber and phone, never their
    numbers in clear."""
    first_order = get_order(subscription["first_order_id"]) if subscription["status"] == "pending_payment" else None
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
    from sms_platform.foundation import crypto

    subscriber_hash = crypto.keyed_hash(f"{subscriber.kind}:{subscriber.id}", purpose="id")
    items = _subs().query(
        IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": f"subscriber#{subscriber_hash}"},
    ).get("Items", [])  # fmt: skip
    return [view(item, now) for item in items]


def cancel(subscription_id: str, now: datetime) -> dict[str, Any]:
    """No further sends, no refund. Cancelling twice gives the same answer."""
    subscription = get_subscription(subscription_id)
    if subscription["status"] != "cancelled":
        _subs().update_item(
            Key={"pk": subscription["pk"], "sk": "sub"}, UpdateExpression="SET #s = :c, cancelled_at = :at",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": "cancelled", ":at": now.isoformat()},
        )  # fmt: skip
        _subs().delete_item(Key={"pk": f"members#{subscription['product_id']}", "sk": f"sub#{subscription_id}"})
    return {"subscription_id": subscription_id, "status": "cancelled"}


# ---------------------------------------------------------------- sending


def remember_event_data(
    kind: str, subject_id: str, event_type: str, data: dict[str, Any], occurred_at: datetime
) -> None:
    """Keep the subject's latest data of this event type (an older event never overwrites it)."""
    import json
    from decimal import Decimal

    from sms_platform.foundation import crypto

    data = json.loads(json.dumps(data), parse_float=Decimal)  # DynamoDB numbers are Decimals

    subject_hash = crypto.keyed_hash(f"{kind}:{subject_id}", purpose="id")
    try:
        _subs().put_item(
            Item={"pk": f"latest#{subject_hash}", "sk": f"type#{event_type}", "data": data,
                  "occurred_at": occurred_at.isoformat()},
            ConditionExpression="attribute_not_exists(pk) OR occurred_at <= :at",
            ExpressionAttributeValues={":at": occurred_at.isoformat()},
        )  # fmt: skip
    except Exception as exc:
        if not aws.condition_failed(exc):
            raise


def _latest_data(subscription: dict[str, Any], event_type: str) -> dict[str, Any] | None:
    from sms_platform.foundation import crypto

    subject = crypto.decrypt(subscription["subscriber_token"])
    subject_hash = crypto.keyed_hash(f"{subscription['subscriber_kind']}:{subject}", purpose="id")
    item = _subs().get_item(Key={"pk": f"latest#{subject_hash}", "sk": f"type#{event_type}"}).get("Item")
    return item


def _in_period(subscription: dict[str, Any], now: datetime) -> bool:
    if subscription["status"] != "active" or not subscription.get("period_end"):
        return False
    return (
        datetime.fromisoformat(subscription["period_start"]) <= now < datetime.fromisoformat(subscription["period_end"])
    )


def _send_one(subscription: dict[str, Any], item: Item, context: dict[str, Any], source_id: str, now: datetime) -> int:
    from sms_platform.foundation import crypto
    from sms_platform.sending.lanes import SmsKind
    from sms_platform.sources import channel_sends, trigger_rules

    template = channel_sends.active_template(item.template_id, now, category="subscription")
    if template is None:
        raise Conflict("订阅项目的模板未生效")
    values = channel_sends.check_values(template, trigger_rules.fill_variables(item.variables, context))
    phone = crypto.decrypt(subscription["phone_token"])
    return channel_sends.send(SmsKind.SUBSCRIPTION, source_id, template, [(phone, values)])


def _record_run(subscription_id: str, key: str, outcome: str, now: datetime, detail: str = "") -> None:
    _subs().put_item(
        Item={"pk": f"sub#{subscription_id}", "sk": f"send#{key}", "outcome": outcome, "detail": detail,
              "at": now.isoformat(), "expires_at": int((now + timedelta(days=400)).timestamp())}
    )  # fmt: skip


def _already_ran(subscription_id: str, key: str) -> bool:
    found = _subs().get_item(Key={"pk": f"sub#{subscription_id}", "sk": f"send#{key}"}).get("Item")
    return found is not None


def send_history(subscription_id: str) -> list[dict[str, Any]]:
    items = _subs().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
        ExpressionAttributeValues={":pk": f"sub#{subscription_id}", ":s": "send#"},
    ).get("Items", [])  # fmt: skip
    return [{"key": i["sk"][5:], "outcome": i["outcome"], "detail": i.get("detail", ""), "at": i["at"]} for i in items]


def send_on_event(event: Any, now: datetime) -> int:
    """Send each event-triggered subscription of the event's subject; returns messages queued."""
    from sms_platform.foundation import crypto
    from sms_platform.sources import channel_sends

    subject_hash = crypto.keyed_hash(f"{event.subject.kind}:{event.subject.id}", purpose="id")
    found = _subs().query(
        IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": f"subscriber#{subject_hash}"},
    ).get("Items", [])  # fmt: skip
    sent = 0
    for subscription in found:
        if not _in_period(subscription, now):
            continue
        item = get_item(subscription["product_id"])
        if item.trigger.kind != "event" or item.event_type != event.event_type:
            continue
        sent += _send_one(subscription, item, event.as_context(), f"sub#{subscription['subscription_id']}#evt#"
                          f"{channel_sends.source_key(event.event_id)}", now)  # fmt: skip
        _record_run(subscription["subscription_id"], f"evt#{channel_sends.source_key(event.event_id)}", "queued", now)
    return sent


def _members(product_id: str) -> list[dict[str, Any]]:
    table = _subs()
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": f"members#{product_id}"},
    }  # fmt: skip
    found = []
    while True:
        page = table.query(**kwargs)
        found.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_schedule(now: datetime) -> dict[str, int]:
    """The daily run: monthly sends due today, and renewal reminders seven days before the end.

    Each send's source id names the subscription and the day, so running twice sends nothing more.
    """
    from sms_platform.foundation.clock import BEIJING

    today = now.astimezone(BEIJING).date().isoformat()
    counts = {"sent": 0, "no_data": 0, "reminders": 0, "ended": 0}
    reminder_template = settings()["reminder_template_id"]
    for item in list_items():
        if item.status not in ("active", "withdrawn"):
            continue
        due = item.trigger.kind == "monthly" and monthly_send_due(item.trigger.day or 0, now)
        for member in _members(item.product_id):
            subscription = _get(f"sub#{member['subscription_id']}")
            if not subscription or subscription["status"] != "active":
                continue
            if now >= datetime.fromisoformat(subscription["period_end"]):
                _end(subscription)
                counts["ended"] += 1
                continue
            if due and not _already_ran(subscription["subscription_id"], today):
                latest = _latest_data(subscription, item.event_type)
                if latest is None:
                    _record_run(subscription["subscription_id"], today, "no_data", now,
                                f"没有 {item.event_type} 业务数据，本期未发送")  # fmt: skip
                    counts["no_data"] += 1
                else:
                    context = {"event_type": item.event_type, "occurred_at": latest["occurred_at"],
                               "data": latest["data"]}  # fmt: skip
                    counts["sent"] += _send_one(subscription, item, context,
                                                f"sub#{subscription['subscription_id']}#{today}", now)  # fmt: skip
                    _record_run(subscription["subscription_id"], today, "queued", now)
            period_end = datetime.fromisoformat(subscription["period_end"])
            reminder_key = f"reminder#{period_end.date().isoformat()}"
            remind = reminder_template and reminder_due(period_end, now)
            if remind and not _already_ran(subscription["subscription_id"], reminder_key):
                counts["reminders"] += _remind(subscription, item, period_end, reminder_template, now)
                _record_run(subscription["subscription_id"], reminder_key, "queued", now)
    return counts


def _remind(subscription: dict[str, Any], item: Item, period_end: datetime, template_id: str, now: datetime) -> int:
    from sms_platform.foundation import crypto
    from sms_platform.foundation.clock import BEIJING
    from sms_platform.sending.lanes import SmsKind
    from sms_platform.sources import channel_sends

    template = channel_sends.active_template(template_id, now, category="subscription")
    if template is None:
        return 0
    end_date = period_end.astimezone(BEIJING).date()
    values = channel_sends.check_values(template, {"product": item.name, "end_date": end_date.isoformat()})
    phone = crypto.decrypt(subscription["phone_token"])
    return channel_sends.send(SmsKind.SUBSCRIPTION, f"renew#{subscription['subscription_id']}#{end_date}",
                              template, [(phone, values)])  # fmt: skip


def _end(subscription: dict[str, Any]) -> None:
    _subs().update_item(
        Key={"pk": subscription["pk"], "sk": "sub"}, UpdateExpression="SET #s = :e",
        ConditionExpression="#s = :a", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":e": "ended", ":a": "active"},
    )  # fmt: skip
    _subs().delete_item(
        Key={"pk": f"members#{subscription['product_id']}", "sk": f"sub#{subscription['subscription_id']}"}
    )
