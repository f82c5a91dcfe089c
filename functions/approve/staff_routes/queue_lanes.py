"""Queue lanes for IT operations: each lane's messages waiting, in flight and delayed, and its
dead-letter queue's depth, shown next to the dead-letter redrive (``operations`` routes)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow

router = Router()
TAGS = ["运维与送达"]


class LaneOut(BaseModel):
    lane: Literal["high", "normal", "bulk", "fanout", "work", "pushes"]  # sms_platform.sending.dlq.SOURCE_QUEUES
    visible: int = Field(description="等待处理的消息数（约数）")
    in_flight: int = Field(description="正在处理的消息数（约数）")
    delayed: int = Field(description="延迟投递中的消息数（约数）")
    dead_letters: int = Field(description="死信队列中的消息数（约数）")


class LanesOut(BaseModel):
    lanes: list[LaneOut]


@router.get("/operations/lanes", summary="各队列的积压、处理中、延迟与死信数量", tags=TAGS)
@allow(Role.it_ops)
def lanes() -> LanesOut:
    from sms_platform.sending import lane_depths

    return LanesOut(lanes=[LaneOut(**depth) for depth in lane_depths.lane_depths()])
