"""IT operations' side of routing between carriers: each lane's weights, draining a carrier by
hand and returning it, the health view, and the health watch that takes an unhealthy carrier
out of the rotation for a probation and brings it back (``sending.carrier_health_rules``).

Every change is audited: an operator's in their name, the watch's as the platform's
(``carrier.weights``, ``carrier.drain``, ``carrier.restore``, ``carrier.take_out``,
``carrier.return``). The watch logs how many carriers are unhealthy or out at each run
(``carriers_unhealthy``), which a CloudWatch metric filter and alarm read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sms_platform.audit import trail
from sms_platform.carrier import configured
from sms_platform.foundation.errors import Conflict, NotFound, ValidationFailed
from sms_platform.foundation.observability import logger
from sms_platform.sending import carrier_health_counts, carrier_rotation
from sms_platform.sending.carrier_health_rules import (
    WINDOW_MINUTES,
    CarrierHealth,
    Thresholds,
    decide,
    health,
    minute_keys,
)
from sms_platform.sending.carrier_rotation import MAX_WEIGHT, PLATFORM, CarrierState, LaneWeights
from sms_platform.sending.lanes import Lane
from sms_platform.staff.context import Office, StaffContext

CARRIER_NAMES: dict[str, str] = {"alibaba": "阿里云短信", "tencent": "腾讯云短信"}
LANE_NAMES: dict[str, str] = {"high": "高优先级队列", "normal": "普通队列", "bulk": "批量队列"}
STATE_NAMES: dict[str, str] = {"active": "轮换中", "drained": "已人工停用", "out": "健康检查停用（观察期）"}


class CarrierView(BaseModel):
    carrier: str
    name: str = Field(description="运营商名称")
    state: CarrierState
    state_name: str = Field(description="状态（中文）")
    health: CarrierHealth


class ThresholdsView(BaseModel):
    window_minutes: int = Field(description="健康指标统计的最近分钟数")
    max_error_rate: float
    max_throttle_rate: float
    max_latency_ms: int
    max_receipts_missing: float
    min_outcomes: int = Field(description="判定所需的最少结果数")
    receipt_wait_minutes: int = Field(description="发送多少分钟后仍无回执计为缺失")
    probation_minutes: int = Field(description="停用后的观察期（分钟）")


class CarrierOverview(BaseModel):
    at: datetime
    carriers: list[CarrierView]
    lanes: list[LaneWeights]
    thresholds: ThresholdsView


class WatchResult(BaseModel):
    taken_out: list[str]
    returned: list[str]
    unhealthy: list[str]


# ---------------------------------------------------------------------------- pure checks


def _weight_problem(name: str, value: Any, known: tuple[str, ...]) -> str | None:
    if name not in known:
        return f"未配置的运营商：{name}"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WEIGHT:
        return f"{CARRIER_NAMES.get(name, name)}的权重须为 0 到 {MAX_WEIGHT} 的整数"
    return None


def check_weights(weights: dict[str, Any], known: tuple[str, ...], active: set[str]) -> dict[str, int]:
    """The lane's weights of every configured carrier in ``known`` (0 where not given); refused
    (422, one detail per fault) unless each is an integer 0-100 of a configured carrier and at
    least one carrier that is ``active`` has a weight above 0."""
    details = [
        {"field": f"weights.{name}", "message": problem}
        for name, value in weights.items()
        if (problem := _weight_problem(name, value, known))
    ]
    if details:
        raise ValidationFailed(details[0]["message"], field=details[0]["field"], details=details)
    complete = {name: int(weights.get(name, 0)) for name in known}
    if not any(complete[name] > 0 for name in known if name in active):
        raise ValidationFailed("至少一个轮换中的运营商权重须大于 0", field="weights")
    return complete


def lanes_left_without(carrier: str, lanes: dict[Lane, LaneWeights], active: set[str]) -> list[str]:
    """The lanes that would have no active carrier of weight above 0 once ``carrier`` is out."""
    left = active - {carrier}
    return [lane.value for lane, found in lanes.items() if not any(found.weights.get(name, 0) > 0 for name in left)]


# ---------------------------------------------------------------------------- reading


def _thresholds_view(limits: Thresholds) -> ThresholdsView:
    return ThresholdsView(
        window_minutes=WINDOW_MINUTES, max_error_rate=limits.max_error_rate, max_throttle_rate=limits.max_throttle_rate,
        max_latency_ms=limits.max_latency_ms, max_receipts_missing=limits.max_receipts_missing,
        min_outcomes=limits.min_outcomes, receipt_wait_minutes=limits.receipt_wait_minutes,
        probation_minutes=limits.probation_minutes,
    )  # fmt: skip


def _health_of(name: str, now: datetime, limits: Thresholds) -> CarrierHealth:
    starts = minute_keys(now, WINDOW_MINUTES + limits.receipt_wait_minutes)
    return health(name, carrier_health_counts.minutes(name, starts), now, limits)


def overview(ctx: StaffContext, *, now: datetime) -> CarrierOverview:
    """Each configured carrier's state and health, and each lane's weights."""
    limits = Thresholds.from_settings()
    names = configured.configured_names()
    states = carrier_rotation.carrier_states(names)
    carriers = [
        CarrierView(carrier=name, name=CARRIER_NAMES.get(name, name), state=states[name],
                    state_name=STATE_NAMES[states[name].state], health=_health_of(name, now, limits))
        for name in names
    ]  # fmt: skip
    lanes = list(carrier_rotation.all_lane_weights().values())
    return CarrierOverview(at=now, carriers=carriers, lanes=lanes, thresholds=_thresholds_view(limits))


# ---------------------------------------------------------------------------- operators' changes


def _configured(carrier: str) -> tuple[str, ...]:
    names = configured.configured_names()
    if carrier not in names:
        raise NotFound(f"没有已配置的运营商：{carrier}", field="carrier")
    return names


def _active(names: tuple[str, ...]) -> set[str]:
    return {name for name, found in carrier_rotation.carrier_states(names).items() if found.state == "active"}


def set_weights(ctx: StaffContext, lane: Lane, weights: dict[str, Any], *, now: datetime) -> LaneWeights:
    """Set ``lane``'s weights (``check_weights``); audited with the weights before and after."""
    names = configured.configured_names()
    complete = check_weights(weights, names, _active(names))
    before = carrier_rotation.lane_weights(lane)
    stored = carrier_rotation.put_lane_weights(lane, complete, ctx.account_id, now)
    trail.record(ctx, "carrier.weights", f"carrier_route:{lane.value}", {"weights": before.weights},
                 {"weights": stored.weights}, at=now)  # fmt: skip
    return stored


def drain(ctx: StaffContext, carrier: str, reason: str, *, now: datetime) -> CarrierState:
    """Take ``carrier`` out of the rotation by hand until an operator returns it. Refused for a
    carrier already drained, and when some lane would be left with no active carrier of weight
    above 0 (its weights are to be changed first)."""
    names = _configured(carrier)
    read = carrier_rotation.carrier_state(carrier)
    if read.state == "drained":
        raise Conflict(f"{CARRIER_NAMES.get(carrier, carrier)}已人工停用", field="carrier")
    stranded = lanes_left_without(carrier, carrier_rotation.all_lane_weights(), _active(names))
    if stranded:
        lanes = "、".join(LANE_NAMES[lane] for lane in stranded)
        raise Conflict(f"停用后{lanes}没有权重大于 0 的轮换中运营商，请先调整权重", field="carrier")
    new = CarrierState(
        carrier=carrier, state="drained", since=now, reason=reason.strip() or "人工停用", by=ctx.account_id
    )
    stored = carrier_rotation.put_carrier_state(new, read)
    trail.record(ctx, "carrier.drain", f"carrier:{carrier}", _snapshot(read), _snapshot(stored), at=now)
    return stored


def restore(ctx: StaffContext, carrier: str, *, now: datetime) -> CarrierState:
    """Return a drained (or probation) carrier to the rotation."""
    _configured(carrier)
    read = carrier_rotation.carrier_state(carrier)
    if read.state == "active":
        raise Conflict(f"{CARRIER_NAMES.get(carrier, carrier)}已在轮换中", field="carrier")
    new = CarrierState(carrier=carrier, state="active", since=now, reason="人工恢复", by=ctx.account_id)
    stored = carrier_rotation.put_carrier_state(new, read)
    trail.record(ctx, "carrier.restore", f"carrier:{carrier}", _snapshot(read), _snapshot(stored), at=now)
    return stored


def _snapshot(state: CarrierState) -> dict[str, Any]:
    return state.model_dump(mode="json", exclude={"carrier", "version"})


# ---------------------------------------------------------------------------- the health watch


def watch(*, now: datetime) -> WatchResult:
    """One run of the health watch over every configured carrier (scheduled every minute)."""
    limits = Thresholds.from_settings()
    names = configured.configured_names()
    states = carrier_rotation.carrier_states(names)
    result = WatchResult(taken_out=[], returned=[], unhealthy=[])
    for name in names:
        found = _health_of(name, now, limits)
        read = states[name]
        others = any(other != name and states[other].state == "active" for other in names)
        move = decide(read.state, read.until, found, now, limits, others_active=others)
        if move is not None:
            new = CarrierState(carrier=name, state=move.state, since=now if move.state != read.state else read.since,
                               until=move.until, reason=move.reason, by=PLATFORM)  # fmt: skip
            try:
                states[name] = carrier_rotation.put_carrier_state(new, read)
            except Conflict:  # an operator changed it meanwhile: theirs stands, the next run judges again
                continue
            action = "carrier.return" if move.state == "active" else "carrier.take_out"
            trail.record(None, action, f"carrier:{name}", _snapshot(read), _snapshot(states[name]), Office.it.value,
                         at=now)  # fmt: skip
            (result.returned if move.state == "active" else result.taken_out).append(name)
        if not found.healthy or states[name].state == "out":
            result.unhealthy.append(name)
    logger().info(
        "carrier health watch",
        extra={"carriers_unhealthy": len(result.unhealthy), "taken_out": result.taken_out, "returned": result.returned},
    )
    return result
