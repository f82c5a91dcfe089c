"""How full each queue lane is, for IT operations: messages waiting (visible), being worked on
(in flight), waiting out a delay (delayed), and what lies in its dead-letter queue.

SQS gives approximate counts (``ApproximateNumberOfMessages...``); they are what CloudWatch
shows too. The lanes are the queues ``dlq`` knows (high, normal, bulk, the fan-out queue and
the work queue of contact imports), each read only when the function's environment names it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from sms_platform import aws
from sms_platform.foundation.settings import settings
from sms_platform.sending import dlq

ATTRIBUTES = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


class LaneDepth(BaseModel):
    lane: dlq.Lane
    visible: int = Field(description="等待处理的消息数（约数）")
    in_flight: int = Field(description="正在处理的消息数（约数）")
    delayed: int = Field(description="延迟投递中的消息数（约数）")
    dead_letters: int = Field(description="死信队列中的消息数（约数）")


class LaneDepths(BaseModel):
    lanes: list[LaneDepth]


def counts(attributes: dict[str, Any]) -> dict[str, int]:
    """The three counts from a ``get_queue_attributes`` answer (missing ones are 0)."""
    return {name: int(attributes.get(attribute, 0)) for name, attribute in ATTRIBUTES.items()}


def lane_depth(lane: str) -> LaneDepth:
    """One lane's counts and its dead-letter queue's depth."""
    sqs = aws.client("sqs")
    answer = sqs.get_queue_attributes(QueueUrl=dlq.source_url(lane), AttributeNames=list(ATTRIBUTES.values()))
    return LaneDepth(lane=lane, **counts(answer.get("Attributes", {})), dead_letters=dlq.depth(lane))


def lane_depths() -> LaneDepths:
    """Every configured lane, in the order ``dlq.SOURCE_QUEUES`` lists them."""
    return LaneDepths(lanes=[lane_depth(lane) for lane, env in dlq.SOURCE_QUEUES.items() if settings().get(env)])
