"""Subscription items (R8): the city office defines them, a city reviewer who did not write an
item puts it on sale; IT operations choose the system templates the channels use (the
verification code and the renewal reminder).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.audit import trail
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import subscription_items
from sms_platform.sources.subscription_models import Item, ItemDraft
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["付费订阅"]


class ItemList(BaseModel):
    items: list[Item]


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("驳回理由", multiline=True)] = Field(
        min_length=1, max_length=300, description="驳回理由"
    )


class SettingsIn(BaseModel):
    otp_template_id: str | None = Field(default=None, max_length=64, description="验证码短信模板（含变量 code）")
    reminder_template_id: str | None = Field(
        default=None, max_length=64, description="续订提醒模板（含变量 product、end_date）"
    )


class SettingsOut(SettingsIn):
    pass


def _audit(action: str, product_id: str, before: Item | None, after: Item) -> Item:
    staff = current_staff()
    trail.record(staff, f"subscription_item.{action}", f"subscription_item:{product_id}",
                 before.model_dump(mode="json") if before else None, after.model_dump(mode="json"),
                 staff.office)  # fmt: skip
    return after


@router.get("/subscription-items", summary="订阅项目列表", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def list_items() -> ItemList:
    return ItemList(items=subscription_items.list_items())


@router.get("/subscription-items/<product_id>", summary="订阅项目", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def get_item(product_id: str) -> Item:
    return subscription_items.get_item(product_id)


@router.post("/subscription-items", summary="新建订阅项目（草稿）", tags=TAGS)
@allow(Role.city_operator)
def create_item(body: Annotated[ItemDraft, Body()]) -> Item:
    item = subscription_items.create_item(body, author=current_staff().account_id, now=get_clock().now())
    return _audit("create", item.product_id, None, item)


@router.put("/subscription-items/<product_id>", summary="修改草稿或被驳回的订阅项目", tags=TAGS)
@allow(Role.city_operator)
def update_item(product_id: str, body: Annotated[ItemDraft, Body()]) -> Item:
    before, after = subscription_items.update_item(product_id, body, author=current_staff().account_id,
                                              now=get_clock().now())  # fmt: skip
    return _audit("update", product_id, before, after)


@router.post("/subscription-items/<product_id>/submission", summary="提交审核", tags=TAGS)
@allow(Role.city_operator)
def submit_item(product_id: str) -> Item:
    before, after = subscription_items.submit_item(product_id, now=get_clock().now())
    return _audit("submit", product_id, before, after)


@router.post("/subscription-items/<product_id>/approval", summary="审核通过并上架（审核人不能是编写人）", tags=TAGS)
@allow(Role.city_reviewer)
def approve_item(product_id: str) -> Item:
    before, after = subscription_items.approve_item(product_id, reviewer=current_staff().account_id,
                                               now=get_clock().now())  # fmt: skip
    return _audit("approve", product_id, before, after)


@router.post("/subscription-items/<product_id>/rejection", summary="驳回", tags=TAGS)
@allow(Role.city_reviewer)
def reject_item(product_id: str, body: Annotated[ReasonIn, Body()]) -> Item:
    before, after = subscription_items.reject_item(product_id, reviewer=current_staff().account_id, reason=body.reason,
                                              now=get_clock().now())  # fmt: skip
    return _audit("reject", product_id, before, after)


@router.post("/subscription-items/<product_id>/withdrawal", summary="下架（已付费的订阅期照常发送）", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def withdraw_item(product_id: str) -> Item:
    before, after = subscription_items.withdraw_item(product_id, now=get_clock().now())
    return _audit("withdraw", product_id, before, after)


@router.get("/subscription-settings", summary="订阅渠道使用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def get_settings() -> SettingsOut:
    return SettingsOut(**subscription_items.settings())


@router.put("/subscription-settings", summary="设置订阅渠道使用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def put_settings(body: Annotated[SettingsIn, Body()]) -> SettingsOut:
    staff = current_staff()
    before = subscription_items.settings()
    after = subscription_items.set_settings(body.otp_template_id, body.reminder_template_id, actor=staff.account_id,
                                       now=get_clock().now())  # fmt: skip
    trail.record(staff, "subscription_settings.update", "subscription_settings", before, after, staff.office)
    return SettingsOut(**after)
