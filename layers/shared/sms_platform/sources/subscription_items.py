"""Subscription items as the city office manages them (R8): written by an operator, approved by a
reviewer who did not write them, then on sale until withdrawn; and the channel settings (which
templates carry verification codes and renewal reminders). Callers audit each change with the
item before and after that these functions return.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sms_platform.foundation.errors import Conflict, Forbidden, ValidationFailed
from sms_platform.sources import channel_sends, subscription_store
from sms_platform.sources.subscription_models import Item, ItemDraft


def get_item(product_id: str) -> Item:
    """An item in whatever status; ``NotFound`` if there is none."""
    return subscription_store.get_item(product_id)


def list_items() -> list[Item]:
    return subscription_store.list_items()


def create_item(draft: ItemDraft, *, author: str, now: datetime) -> Item:
    item = Item(**draft.model_dump(), product_id=f"sub-{uuid.uuid4().hex[:10]}", status="draft", author=author,
                created_at=now, updated_at=now)  # fmt: skip
    subscription_store.save_item(item, condition="attribute_not_exists(pk)")
    return item


def update_item(product_id: str, draft: ItemDraft, *, author: str, now: datetime) -> tuple[Item, Item]:
    before = subscription_store.get_item(product_id)
    if before.status not in ("draft", "rejected"):
        raise Conflict("只有草稿或被驳回的订阅项目可以修改；已上架的项目请新建")
    # The draft's own attribute values (model_copy does not validate, so no dumping nested models to dicts).
    changes = {name: getattr(draft, name) for name in ItemDraft.model_fields}
    after = before.model_copy(update={**changes, "status": "draft", "author": author, "updated_at": now,
                                      "reject_reason": None})  # fmt: skip
    subscription_store.save_item(after, condition="#s = :s", values={":s": before.status})
    return before, after


def _move(product_id: str, expected: str, now: datetime, **changes: Any) -> tuple[Item, Item]:
    before = subscription_store.get_item(product_id)
    if before.status != expected:
        raise Conflict(f"订阅项目当前状态为 {before.status}，不能执行此操作")
    after = before.model_copy(update={**changes, "updated_at": now})
    subscription_store.save_item(after, condition="#s = :s", values={":s": expected})
    return before, after


def submit_item(product_id: str, *, now: datetime) -> tuple[Item, Item]:
    return _move(product_id, "draft", now, status="submitted")


def approve_item(product_id: str, *, reviewer: str, now: datetime) -> tuple[Item, Item]:
    """A reviewer who did not write it puts the item on sale (its template must be usable)."""
    item = subscription_store.get_item(product_id)
    if item.author == reviewer:
        raise Forbidden("不能审核自己编写的订阅项目")
    usable = channel_sends.active_template(item.template_id, now, category="subscription")
    if item.status == "submitted" and usable is None:
        raise Conflict("订阅项目使用的模板不是生效中的付费订阅类模板，不能上架")
    return _move(product_id, "submitted", now, status="active", reviewer=reviewer)


def reject_item(product_id: str, *, reviewer: str, reason: str, now: datetime) -> tuple[Item, Item]:
    if subscription_store.get_item(product_id).author == reviewer:
        raise Forbidden("不能审核自己编写的订阅项目")
    return _move(product_id, "submitted", now, status="rejected", reviewer=reviewer, reject_reason=reason)


def withdraw_item(product_id: str, *, now: datetime) -> tuple[Item, Item]:
    """Off sale; paid periods still run to their end."""
    return _move(product_id, "active", now, status="withdrawn")


# ---------------------------------------------------------------- channel settings


def settings() -> dict[str, Any]:
    """The templates chosen for verification codes and renewal reminders (None when not chosen)."""
    return subscription_store.settings()


def set_settings(otp_template_id: str | None, reminder_template_id: str | None, *, actor: str, now: datetime) -> dict:
    """Choose the verification-code template (a platform ``system`` one) and the renewal reminder
    (a ``subscription`` one); a template of another category, or none at all, is refused."""
    wanted = (("otp_template_id", otp_template_id, "system", "平台系统消息"),
              ("reminder_template_id", reminder_template_id, "subscription", "付费订阅类"))  # fmt: skip
    for field, template_id, category, name in wanted:
        if template_id is not None and channel_sends.template_category(template_id) != category:
            raise ValidationFailed(f"应选择“{name}”类别的模板", field=field)
    subscription_store.put_settings(otp_template_id, reminder_template_id, actor=actor, now=now)
    return settings()
