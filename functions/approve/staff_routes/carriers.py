"""Carriers for IT operations (运营商通道): each carrier's state and recent health, each lane's
weights between the configured carriers, a carrier drained by hand and returned, all audited
(``sms_platform.reports.carrier_operations``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.validation_messages import labels
from sms_platform.reports import carrier_operations
from sms_platform.reports.carrier_operations import CarrierOverview
from sms_platform.sending.carrier_rotation import CarrierState, LaneWeights
from sms_platform.sending.lanes import Lane
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["运维与送达"]


class WeightsIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"weights": "权重"}))

    # Checked by the service (integers 0-100 of configured carriers), so that each fault is named
    # by its carrier in Chinese.
    weights: dict[str, int | float | str | bool | None] = Field(
        description='各运营商的权重，如 {"alibaba": 80, "tencent": 20}'
    )


class DrainIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"reason": "停用原因"}))

    reason: str = Field(default="", max_length=200)


@router.get("/carriers", summary="各运营商的状态、近期健康状况与各队列权重", tags=TAGS)
@allow(Role.it_ops, Role.auditor)
def carriers() -> CarrierOverview:
    return carrier_operations.overview(current_staff(), now=get_clock().now())


@router.put("/carriers/weights/<lane>", summary="设置某队列在各运营商之间的权重", tags=TAGS)
@allow(Role.it_ops)
def set_weights(lane: Lane, body: Annotated[WeightsIn, Body()]) -> LaneWeights:
    return carrier_operations.set_weights(current_staff(), lane, dict(body.weights), now=get_clock().now())


@router.post("/carriers/<carrier>/drain", summary="人工停用运营商（不再分配新批次）", tags=TAGS)
@allow(Role.it_ops)
def drain(carrier: str, body: Annotated[DrainIn, Body()]) -> CarrierState:
    return carrier_operations.drain(current_staff(), carrier, body.reason, now=get_clock().now())


@router.post("/carriers/<carrier>/restore", summary="恢复运营商轮换", tags=TAGS)
@allow(Role.it_ops)
def restore(carrier: str) -> CarrierState:
    return carrier_operations.restore(current_staff(), carrier, now=get_clock().now())
