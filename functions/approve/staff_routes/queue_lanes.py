"""Queue lanes for IT operations: each lane's messages waiting, in flight and delayed, and its
dead-letter queue's depth, shown next to the dead-letter redrive (``operations`` routes)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from sms_platform.sending import lane_depths
from sms_platform.sending.lane_depths import LaneDepths
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow

router = Router()
TAGS = ["运维与送达"]


@router.get("/operations/lanes", summary="各队列的积压、处理中、延迟与死信数量", tags=TAGS)
@allow(Role.it_ops)
def lanes() -> LaneDepths:
    return lane_depths.lane_depths()
