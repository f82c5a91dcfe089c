"""Which carriers take each lane's messages: the lanes' weights and each carrier's state.

IT operations set, per lane, the weight of each configured carrier (integers 0-100; a carrier
takes a lane's batches in proportion to its weight among the carriers that are active). A
carrier is ``active``, ``drained`` (taken out by hand, until an operator returns it) or ``out``
(taken out by the health watch, until its probation ends, ``until``). The dispatcher reads
these items to choose a carrier; this module is the one that writes them.

Storage in ``SENDS_TABLE``: ``pk = "carrierroute"``, ``sk = "<lane>"`` with ``weights``
(``{carrier: int}``), ``updated_at``, ``updated_by``; ``pk = "carrierstate"``, ``sk = "<carrier>"``
with ``state``, ``since``, ``until``, ``reason``, ``by``. Absent items mean the defaults:
Alibaba 100, Tencent 0, every carrier active. A state is written on the condition that it is
still the one its writer read (``version``), so the health watch and an operator never undo
each other's change unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.carrier.base import CarrierName
from sms_platform.foundation.errors import Conflict
from sms_platform.foundation.settings import settings
from sms_platform.sending.lanes import Lane

ROUTE_PK = "carrierroute"
STATE_PK = "carrierstate"
DEFAULT_WEIGHTS: dict[str, int] = {CarrierName.ALIBABA.value: 100, CarrierName.TENCENT.value: 0}
MAX_WEIGHT = 100
PLATFORM = "platform"  # ``by`` of a change the health watch made

StateName = Literal["active", "drained", "out"]


class LaneWeights(BaseModel):
    lane: Lane
    weights: dict[str, int] = Field(description="各运营商的权重（0-100），按权重比例分配本队列的批次")
    updated_at: datetime | None = Field(default=None, description="最近修改时间；为空表示默认权重")
    updated_by: str | None = Field(default=None, description="最近修改人账号")


class CarrierState(BaseModel):
    carrier: str
    state: StateName = Field(
        default="active", description="active 轮换中；drained 人工停用；out 健康检查停用，观察期中"
    )
    since: datetime | None = Field(default=None, description="进入此状态的时间")
    until: datetime | None = Field(default=None, description="观察期结束时间（仅 out）")
    reason: str = Field(default="", description="原因")
    by: str = Field(default="", description="操作人账号；platform 为健康检查")
    version: int = Field(default=0, description="修改次数，用于并发修改检查")


def _table() -> Any:
    return aws.table(settings().sends_table)


def _partition(pk: str) -> dict[str, dict[str, Any]]:
    """The items of partition ``pk`` by sort key."""
    query = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": pk}}
    return {str(item["sk"]): item for item in queries.items(_table().query, **query)}


# ---------------------------------------------------------------------------- weights


def lane_weights(lane: Lane | str) -> LaneWeights:
    """The weights of ``lane`` (the defaults when never set)."""
    item = _table().get_item(Key={"pk": ROUTE_PK, "sk": str(lane)}).get("Item")
    return _weights_of(Lane(lane), item)


def all_lane_weights() -> dict[Lane, LaneWeights]:
    """Every lane's weights, in the lanes' order."""
    found = _partition(ROUTE_PK)
    return {lane: _weights_of(lane, found.get(lane.value)) for lane in Lane}


def _weights_of(lane: Lane, item: dict[str, Any] | None) -> LaneWeights:
    if not item:
        return LaneWeights(lane=lane, weights=dict(DEFAULT_WEIGHTS))
    weights = {str(name): int(value) for name, value in dict(item.get("weights") or {}).items()}
    at = item.get("updated_at")
    return LaneWeights(
        lane=lane, weights=weights, updated_at=datetime.fromisoformat(str(at)) if at else None,
        updated_by=item.get("updated_by"),
    )  # fmt: skip


def put_lane_weights(lane: Lane, weights: dict[str, int], by: str, at: datetime) -> LaneWeights:
    """Write ``lane``'s weights (already checked by the caller)."""
    item = {"pk": ROUTE_PK, "sk": lane.value, "weights": dict(weights), "updated_at": at.isoformat(), "updated_by": by}
    _table().put_item(Item=item)
    return _weights_of(lane, item)


# ---------------------------------------------------------------------------- states


def carrier_states(names: tuple[str, ...]) -> dict[str, CarrierState]:
    """The state of each carrier in ``names`` (active when never changed)."""
    found = _partition(STATE_PK)
    return {name: _state_of(name, found.get(name)) for name in names}


def carrier_state(name: str) -> CarrierState:
    return _state_of(name, _table().get_item(Key={"pk": STATE_PK, "sk": name}).get("Item"))


def _state_of(name: str, item: dict[str, Any] | None) -> CarrierState:
    if not item:
        return CarrierState(carrier=name)

    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(str(item[key])) if item.get(key) else None

    return CarrierState(
        carrier=name, state=item.get("state", "active"), since=when("since"), until=when("until"),
        reason=str(item.get("reason") or ""), by=str(item.get("by") or ""), version=int(item.get("version") or 0),
    )  # fmt: skip


def put_carrier_state(new: CarrierState, read: CarrierState) -> CarrierState:
    """Write ``new`` in place of ``read``, the state its writer read; ``Conflict`` when another
    change came in between."""
    stored = new.model_copy(update={"version": read.version + 1})
    item: dict[str, Any] = {
        "pk": STATE_PK, "sk": new.carrier, "state": new.state, "reason": new.reason, "by": new.by,
        "version": stored.version,
    }  # fmt: skip
    for key in ("since", "until"):
        value = getattr(new, key)
        if value is not None:
            item[key] = value.isoformat()
    try:
        if read.version:
            _table().put_item(
                Item=item, ConditionExpression="version = :v", ExpressionAttributeValues={":v": read.version}
            )
        else:
            _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except _table().meta.client.exceptions.ConditionalCheckFailedException:
        raise Conflict("运营商状态刚被修改，请刷新后重试", field="carrier") from None
    return stored
