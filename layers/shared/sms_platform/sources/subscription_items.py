"""Subscription items as the city office manages them (R8): written by an operator, approved by a
reviewer who did not write them, then on sale until withdrawn; and the channel settings (which
templates carry verification codes and renewal reminders). Each change is written to the audit
trail with the item (or the settings) before and after it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.foundation.errors import Conflict, Forbidden, ValidationFailed
from sms_platform.sources import channel_sends, subscription_store
from sms_platform.sources.subscription_models import ChannelSettings, Item, ItemDraft, ItemList
from sms_platform.staff.context import StaffContext


def _audit(ctx: StaffContext, action: str, before: Item | None, after: Item, now: datetime) -> Item:
    trail.record(ctx, f"subscription_item.{action}", f"subscription_item:{after.product_id}",
                 before.snapshot() if before else None, after.snapshot(), ctx.office, at=now)  # fmt: skip
    return after


def get_item(product_id: str) -> Item:
    """An item in whatever status; ``NotFound`` if there is none."""
    return subscription_store.get_item(product_id)


def list_items() -> ItemList:
    return ItemList(items=subscription_store.list_items())


def create_item(ctx: StaffContext, draft: ItemDraft, *, now: datetime) -> Item:
    item = Item(**draft.model_dump(), product_id=f"sub-{uuid.uuid4().hex[:10]}", status="draft",
                author=ctx.account_id, created_at=now, updated_at=now)  # fmt: skip
    subscription_store.save_item(item, condition="attribute_not_exists(pk)")
    return _audit(ctx, "create", None, item, now)


def update_item(ctx: StaffContext, product_id: str, draft: ItemDraft, *, now: datetime) -> Item:
    before = subscription_store.get_item(product_id)
    if before.status not in ("draft", "rejected"):
        raise Conflict("只有草稿或审核未通过的订阅项目可以修改；已上架的项目请新建")
    # The draft's own attribute values (model_copy does not validate, so no dumping nested models to dicts).
    changes = {name: getattr(draft, name) for name in ItemDraft.model_fields}
    after = before.model_copy(update={**changes, "status": "draft", "author": ctx.account_id, "updated_at": now,
                                      "reject_reason": None})  # fmt: skip
    subscription_store.save_item(after, condition="#s = :s", values={":s": before.status})
    return _audit(ctx, "update", before, after, now)


def _move(ctx: StaffContext, action: str, product_id: str, expected: str, now: datetime, **changes: Any) -> Item:
    before = subscription_store.get_item(product_id)
    if before.status != expected:
        raise Conflict(f"订阅项目当前状态为 {before.status}，不能执行此操作")
    after = before.model_copy(update={**changes, "updated_at": now})
    subscription_store.save_item(after, condition="#s = :s", values={":s": expected})
    return _audit(ctx, action, before, after, now)


def submit_item(ctx: StaffContext, product_id: str, *, now: datetime) -> Item:
    return _move(ctx, "submit", product_id, "draft", now, status="submitted")


def approve_item(ctx: StaffContext, product_id: str, *, now: datetime) -> Item:
    """A reviewer who did not write it puts the item on sale (its template must be usable)."""
    item = subscription_store.get_item(product_id)
    if item.author == ctx.account_id:
        raise Forbidden("不能审核自己编写的订阅项目")
    usable = channel_sends.active_template(item.template_id, now, category="subscription")
    if item.status == "submitted" and usable is None:
        raise Conflict("订阅项目使用的模板不是生效中的付费订阅类模板，不能上架")
    return _move(ctx, "approve", product_id, "submitted", now, status="active", reviewer=ctx.account_id)


def reject_item(ctx: StaffContext, product_id: str, reason: str, *, now: datetime) -> Item:
    if subscription_store.get_item(product_id).author == ctx.account_id:
        raise Forbidden("不能审核自己编写的订阅项目")
    return _move(ctx, "reject", product_id, "submitted", now, status="rejected", reviewer=ctx.account_id,
                 reject_reason=reason)  # fmt: skip


def withdraw_item(ctx: StaffContext, product_id: str, *, now: datetime) -> Item:
    """Off sale; paid periods still run to their end."""
    return _move(ctx, "withdraw", product_id, "active", now, status="withdrawn")


# ---------------------------------------------------------------- channel settings


def settings() -> ChannelSettings:
    """The templates chosen for verification codes and renewal reminders (None when not chosen)."""
    return ChannelSettings(**subscription_store.settings())


def set_settings(
    ctx: StaffContext, otp_template_id: str | None, reminder_template_id: str | None, *, now: datetime
) -> ChannelSettings:
    """Choose the verification-code template (a platform ``system`` one) and the renewal reminder
    (a ``subscription`` one); a template of another category, or none at all, is refused."""
    wanted = (("otp_template_id", otp_template_id, "system", "平台系统消息"),
              ("reminder_template_id", reminder_template_id, "subscription", "付费订阅类"))  # fmt: skip
    for field, template_id, category, name in wanted:
        if template_id is not None and channel_sends.template_category(template_id) != category:
            raise ValidationFailed(f"应选择“{name}”类别的模板", field=field)
    before = subscription_store.settings()
    subscription_store.put_settings(otp_template_id, reminder_template_id, actor=ctx.account_id, now=now)
    after = subscription_store.settings()
    trail.record(ctx, "subscription_settings.update", "subscription_settings", before, after, ctx.office, at=now)
    return ChannelSettings(**after)
