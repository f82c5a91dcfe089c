"""Subscription items (R8): the city office defines them, a city reviewer who did not write an
item puts it on sale; IT operations choose the system templates the channels use (the
verification code and the renewal reminder).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import subscription_items
from sms_platform.sources.subscription_models import ChannelSettings, Item, ItemDraft, ItemList
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["付费订阅"]


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("不通过的原因", multiline=True)] = Field(
        min_length=1, max_length=300, description="不通过的原因，将告知编写人"
    )


class SettingsIn(BaseModel):
    otp_template_id: str | None = Field(default=None, max_length=64, description="验证码短信模板（含变量 code）")
    reminder_template_id: str | None = Field(
        default=None, max_length=64, description="续订提醒模板（含变量 product、end_date）"
    )


@router.get("/subscription-items", summary="订阅项目列表", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def list_items() -> ItemList:
    return subscription_items.list_items()


@router.get("/subscription-items/<product_id>", summary="订阅项目", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def get_item(product_id: str) -> Item:
    return subscription_items.get_item(product_id)


@router.post("/subscription-items", summary="新建订阅项目（草稿）", tags=TAGS)
@allow(Role.city_operator)
def create_item(body: Annotated[ItemDraft, Body()]) -> Item:
    return subscription_items.create_item(current_staff(), body, now=get_clock().now())


@router.put("/subscription-items/<product_id>", summary="修改草稿或审核未通过的订阅项目", tags=TAGS)
@allow(Role.city_operator)
def update_item(product_id: str, body: Annotated[ItemDraft, Body()]) -> Item:
    return subscription_items.update_item(current_staff(), product_id, body, now=get_clock().now())


@router.post("/subscription-items/<product_id>/submission", summary="提交审核", tags=TAGS)
@allow(Role.city_operator)
def submit_item(product_id: str) -> Item:
    return subscription_items.submit_item(current_staff(), product_id, now=get_clock().now())


@router.post("/subscription-items/<product_id>/approval", summary="审核通过并上架（审核人不能是编写人）", tags=TAGS)
@allow(Role.city_reviewer)
def approve_item(product_id: str) -> Item:
    return subscription_items.approve_item(current_staff(), product_id, now=get_clock().now())


@router.post("/subscription-items/<product_id>/rejection", summary="审核不通过（须说明原因）", tags=TAGS)
@allow(Role.city_reviewer)
def reject_item(product_id: str, body: Annotated[ReasonIn, Body()]) -> Item:
    return subscription_items.reject_item(current_staff(), product_id, body.reason, now=get_clock().now())


@router.post("/subscription-items/<product_id>/withdrawal", summary="下架（已付费的订阅期照常发送）", tags=TAGS)
@allow(Role.city_operator, Role.city_reviewer)
def withdraw_item(product_id: str) -> Item:
    return subscription_items.withdraw_item(current_staff(), product_id, now=get_clock().now())


@router.get("/subscription-settings", summary="订阅渠道使用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def get_settings() -> ChannelSettings:
    return subscription_items.settings()


@router.put("/subscription-settings", summary="设置订阅渠道使用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def put_settings(body: Annotated[SettingsIn, Body()]) -> ChannelSettings:
    return subscription_items.set_settings(current_staff(), body.otp_template_id, body.reminder_template_id,
                                           now=get_clock().now())  # fmt: skip
