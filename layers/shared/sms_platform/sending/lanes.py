"""Kinds of SMS and the queue lane each kind travels on.

Lanes keep urgent messages ahead of mass ones: a hang-up answer or a verification code goes on
``high`` and is never stuck behind a two-million-person publicity send on ``bulk``, whose
consumers are capped in the template.
"""

from __future__ import annotations

from enum import StrEnum

from sms_platform.foundation.settings import settings


class SmsKind(StrEnum):
    TRIGGERED = "triggered"  # business events (R4)
    TARGETED = "targeted"  # targeted notices (R5)
    PUBLICITY = "publicity"  # publicity and announcements (R5)
    HANGUP = "hangup"  # 12333 hang-up answers (R6)
    SUBSCRIPTION = "subscription"  # paid subscriptions (R8)
    SYSTEM = "system"  # verification codes and other platform messages


class Lane(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    BULK = "bulk"


LANE_OF_KIND: dict[SmsKind, Lane] = {
    SmsKind.HANGUP: Lane.HIGH,
    SmsKind.TRIGGERED: Lane.HIGH,
    SmsKind.SUBSCRIPTION: Lane.HIGH,
    SmsKind.SYSTEM: Lane.HIGH,
    SmsKind.TARGETED: Lane.NORMAL,
    SmsKind.PUBLICITY: Lane.BULK,
}

QUEUE_URL_ENV: dict[Lane, str] = {
    Lane.HIGH: "HIGH_QUEUE_URL",
    Lane.NORMAL: "NORMAL_QUEUE_URL",
    Lane.BULK: "BULK_QUEUE_URL",
}


def lane_for(kind: SmsKind | str) -> Lane:
    # A kind's value finds its lane as the kind does (a StrEnum hashes as its value), without
    # making the kind first; the dispatcher asks once per batch.
    lane = LANE_OF_KIND.get(kind)
    return lane if lane is not None else LANE_OF_KIND[SmsKind(kind)]


def queue_url(lane: Lane | str) -> str:
    """The URL of a lane's queue, from the settings."""
    return settings().value(QUEUE_URL_ENV[Lane(lane)])


def is_transactional(kind: SmsKind | str) -> bool:
    """Everything but publicity: no opt-out, no time-of-day window, delayed (never dropped) by limits."""
    return SmsKind(kind) is not SmsKind.PUBLICITY
