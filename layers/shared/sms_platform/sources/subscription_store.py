"""Paid subscriptions in their tables: the only code that reads or writes their items.

``CONTROL_TABLE``: ``pk="subitem#<id>"``, ``sk="item"`` (an item; ``gsi1pk="subitems"`` lists
them) and ``pk="config"``, ``sk="subscriptions"`` (the channel settings).

``SUBSCRIPTIONS_TABLE``:

- ``sub#<id>`` / ``sub``: a subscription (subscriber encrypted, found by keyed hash through
  ``gsi1pk="subscriber#<hash>"``), and ``sub#<id>`` / ``send#<key>``: what each scheduled or
  event send did;
- ``order#<id>`` / ``order``: an order;
- ``members#<product_id>`` / ``sub#<id>``: one item per active subscription, for scheduled sends;
- ``otp#<phone hash>``: the current code and the day's counter, expiring (a test key's under
  ``otptest#<phone hash>``, CONTRACTS §7);
- ``latest#<subject hash>`` / ``type#<event type>``: a subject's latest event data of a type.

Ids longer than 64 characters are never looked up: no such item is ever written.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings as platform_settings
from sms_platform.sources import verification_codes
from sms_platform.sources.subscription_models import Item

MAX_ID = 64
RUN_KEPT = timedelta(days=400)


def _control() -> Any:
    return aws.table(platform_settings().control_table)


def _subs() -> Any:
    return aws.table(platform_settings().subscriptions_table)


# ---------------------------------------------------------------- items and settings


def save_item(item: Item, *, condition: str | None = None, values: dict[str, Any] | None = None) -> None:
    """Write an item, if ``condition`` holds (``#s`` names its status); ``Conflict`` if not."""
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


def _item_of(record: dict[str, Any]) -> Item:
    fields = {k: v for k, v in record.items() if k in Item.model_fields}
    fields["price_fen"], fields["period_months"] = int(fields["price_fen"]), int(fields["period_months"])
    if fields["trigger"].get("day") is not None:
        fields["trigger"] = {**fields["trigger"], "day": int(fields["trigger"]["day"])}
    return Item.model_validate(fields)


def get_item(product_id: str) -> Item:
    record = _control().get_item(Key={"pk": f"subitem#{product_id}", "sk": "item"}).get("Item")
    if not record:
        raise NotFound("没有这个订阅项目")
    return _item_of(record)


def list_items() -> list[Item]:
    records = queries.items(
        _control().query,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": "subitems"},
    )
    return [_item_of(record) for record in records]


def settings() -> dict[str, Any]:
    item = _control().get_item(Key={"pk": "config", "sk": "subscriptions"}).get("Item") or {}
    return {"otp_template_id": item.get("otp_template_id"), "reminder_template_id": item.get("reminder_template_id")}


def put_settings(otp_template_id: str | None, reminder_template_id: str | None, *, actor: str, now: datetime) -> None:
    _control().put_item(
        Item={"pk": "config", "sk": "subscriptions", "otp_template_id": otp_template_id,
              "reminder_template_id": reminder_template_id, "updated_by": actor, "updated_at": now.isoformat()}
    )  # fmt: skip


# ---------------------------------------------------------------- verification codes


def _otp_key(phone_hash: str, what: str, test: bool = False) -> dict[str, str]:
    # A test key's codes (CONTRACTS §7) live beside the number's live ones, never in their place.
    return {"pk": f"otptest#{phone_hash}" if test else f"otp#{phone_hash}", "sk": what}


def count_otp_today(phone_hash: str, now: datetime, *, test: bool = False) -> int:
    """Count one more code for the number today (``verification_codes.count_today``); a test
    key's codes are counted apart from the live ones."""
    day = now.astimezone(BEIJING).date()
    return verification_codes.count_today(_subs(), _otp_key(phone_hash, f"day#{day.isoformat()}", test), now)


def put_otp(phone_hash: str, code: str, now: datetime, *, test: bool = False) -> None:
    _subs().put_item(Item=verification_codes.code_item(_otp_key(phone_hash, "code", test), phone_hash, code, now))


def check_otp(phone_hash: str, code: str, now: datetime, *, test: bool = False) -> None:
    verification_codes.check(_subs(), _otp_key(phone_hash, "code", test), phone_hash, code, now, field="otp")


def consume_otp(phone_hash: str) -> None:
    _subs().delete_item(Key=_otp_key(phone_hash, "code"))


# ---------------------------------------------------------------- subscriptions and orders


def _get(pk: str) -> dict[str, Any] | None:
    return _subs().get_item(Key={"pk": pk, "sk": pk.split("#", 1)[0]}).get("Item")


def subscription(subscription_id: str) -> dict[str, Any] | None:
    return _get(f"sub#{subscription_id}") if len(subscription_id or "") <= MAX_ID else None


def order(order_id: str) -> dict[str, Any] | None:
    return _get(f"order#{order_id}") if len(order_id or "") <= MAX_ID else None


def put_order(order: dict[str, Any]) -> None:
    """A new order (``order_id`` and its other attributes)."""
    _subs().put_item(Item={"pk": f"order#{order['order_id']}", "sk": "order", **order})


def create_subscription(subscription: dict[str, Any], *, subscriber_hash: str, created_at: datetime) -> bool:
    """A new subscription, found later by its subscriber's keyed hash; False when one with the
    same id was written first (the same channel order arriving twice at once)."""
    subscription_id = subscription["subscription_id"]
    item = {"pk": f"sub#{subscription_id}", "sk": "sub", **subscription, "gsi1pk": f"subscriber#{subscriber_hash}",
            "gsi1sk": f"{created_at.isoformat()}#{subscription_id}"}  # fmt: skip
    return aws.put_new(_subs(), item)


def subscriptions_of(subscriber_hash: str) -> list[dict[str, Any]]:
    return list(
        queries.items(
            _subs().query,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"subscriber#{subscriber_hash}"},
        )
    )


def set_renewal_order(subscription_id: str, order_id: str) -> None:
    _subs().update_item(
        Key={"pk": f"sub#{subscription_id}", "sk": "sub"},
        UpdateExpression="SET renewal_order_id = :o",
        ExpressionAttributeValues={":o": order_id},
    )


def mark_order_lapsed(order_id: str) -> None:
    """A pending order past its deadline, written down as lapsed (refused if it is no longer pending)."""
    _subs().update_item(
        Key={"pk": f"order#{order_id}", "sk": "order"}, UpdateExpression="SET #s = :l",
        ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":l": "lapsed", ":p": "pending_payment"},
    )  # fmt: skip


def mark_order_paid(order_id: str, transaction_id: str, paid_at: datetime) -> bool:
    """A pending order paid by ``transaction_id``; False when it was no longer pending."""
    try:
        _subs().update_item(
            Key={"pk": f"order#{order_id}", "sk": "order"},
            UpdateExpression="SET #s = :paid, transaction_id = :t, paid_at = :at",
            ConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":paid": "paid", ":t": transaction_id, ":p": "pending_payment",
                                       ":at": paid_at.isoformat()},
        )  # fmt: skip
    except Exception as exc:
        if aws.condition_failed(exc):
            return False
        raise
    return True


def apply_order(subscription: dict[str, Any], order_id: str, period_start: str, period_end: datetime) -> bool:
    """Make the subscription active for the period an order paid for and list it among its
    item's members; False (nothing written) when the order was applied already or the
    subscription is cancelled."""
    try:
        _subs().update_item(
            Key={"pk": f"sub#{subscription['subscription_id']}", "sk": "sub"},
            UpdateExpression="SET #s = :a, period_start = :ps, period_end = :pe, "
            "applied_orders = list_append(applied_orders, :o)",
            ConditionExpression="NOT contains(applied_orders, :oid) AND #s <> :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":a": "active", ":ps": period_start, ":pe": period_end.isoformat(),
                                       ":o": [order_id], ":oid": order_id, ":c": "cancelled"},
        )  # fmt: skip
    except Exception as exc:
        if not aws.condition_failed(exc):
            raise
        return False
    _subs().put_item(
        Item={"pk": f"members#{subscription['product_id']}", "sk": f"sub#{subscription['subscription_id']}",
              "subscription_id": subscription["subscription_id"]}
    )  # fmt: skip
    return True


def _drop_member(subscription: dict[str, Any]) -> None:
    _subs().delete_item(
        Key={"pk": f"members#{subscription['product_id']}", "sk": f"sub#{subscription['subscription_id']}"}
    )


def mark_cancelled(subscription: dict[str, Any], now: datetime) -> None:
    _subs().update_item(
        Key={"pk": f"sub#{subscription['subscription_id']}", "sk": "sub"},
        UpdateExpression="SET #s = :c, cancelled_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "cancelled", ":at": now.isoformat()},
    )
    _drop_member(subscription)


def mark_ended(subscription: dict[str, Any]) -> None:
    """An active subscription whose period is over (refused if it is no longer active)."""
    _subs().update_item(
        Key={"pk": f"sub#{subscription['subscription_id']}", "sk": "sub"}, UpdateExpression="SET #s = :e",
        ConditionExpression="#s = :a", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":e": "ended", ":a": "active"},
    )  # fmt: skip
    _drop_member(subscription)


def members(product_id: str) -> list[dict[str, Any]]:
    """The subscriptions listed as active members of an item (``subscription_id`` each)."""
    return list(
        queries.items(
            _subs().query, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"members#{product_id}"}
        )
    )


# ---------------------------------------------------------------- event data and send runs


def put_latest_data(subject_hash: str, event_type: str, data: dict[str, Any], occurred_at: datetime) -> None:
    """Keep a subject's latest data of an event type (an older event never overwrites it)."""
    data = json.loads(json.dumps(data), parse_float=Decimal)  # DynamoDB numbers are Decimals
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


def latest_data(subject_hash: str, event_type: str) -> dict[str, Any] | None:
    """The subject's latest data of the type (``data``, ``occurred_at``), or None."""
    return _subs().get_item(Key={"pk": f"latest#{subject_hash}", "sk": f"type#{event_type}"}).get("Item")


def record_run(subscription_id: str, key: str, outcome: str, now: datetime, detail: str = "") -> None:
    _subs().put_item(
        Item={"pk": f"sub#{subscription_id}", "sk": f"send#{key}", "outcome": outcome, "detail": detail,
              "at": now.isoformat(), "expires_at": int((now + RUN_KEPT).timestamp())}
    )  # fmt: skip


def already_ran(subscription_id: str, key: str) -> bool:
    found = _subs().get_item(Key={"pk": f"sub#{subscription_id}", "sk": f"send#{key}"}).get("Item")
    return found is not None


def send_history(subscription_id: str) -> list[dict[str, Any]]:
    """What each send of the subscription did: its key, outcome, detail and time."""
    items = queries.items(
        _subs().query,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
        ExpressionAttributeValues={":pk": f"sub#{subscription_id}", ":s": "send#"},
    )
    return [{"key": i["sk"][5:], "outcome": i["outcome"], "detail": i.get("detail", ""), "at": i["at"]} for i in items]
