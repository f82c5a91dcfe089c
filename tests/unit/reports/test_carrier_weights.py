"""Table tests of the checks on a lane's weights between carriers and on draining a carrier."""

from __future__ import annotations

import pytest
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.reports.carrier_operations import check_weights, lanes_left_without
from sms_platform.sending.carrier_rotation import LaneWeights
from sms_platform.sending.lanes import Lane

BOTH = ("alibaba", "tencent")
ALL_ACTIVE = {"alibaba", "tencent"}


@pytest.mark.parametrize(
    ("weights", "known", "active", "expected"),
    [
        ({"alibaba": 80, "tencent": 20}, BOTH, ALL_ACTIVE, {"alibaba": 80, "tencent": 20}),
        ({"alibaba": 100}, BOTH, ALL_ACTIVE, {"alibaba": 100, "tencent": 0}),  # a carrier left out weighs 0
        ({"tencent": 1}, BOTH, ALL_ACTIVE, {"alibaba": 0, "tencent": 1}),
        ({"alibaba": 0, "tencent": 100}, BOTH, {"tencent"}, {"alibaba": 0, "tencent": 100}),
        ({"alibaba": 100}, ("alibaba",), {"alibaba"}, {"alibaba": 100}),
    ],
)
def test_weights_accepted(weights, known, active, expected):
    assert check_weights(weights, known, active) == expected


@pytest.mark.parametrize(
    ("weights", "known", "active", "field", "message"),
    [
        ({"alibaba": 101}, BOTH, ALL_ACTIVE, "weights.alibaba", "阿里云短信的权重须为 0 到 100 的整数"),
        ({"alibaba": -1}, BOTH, ALL_ACTIVE, "weights.alibaba", "阿里云短信的权重须为 0 到 100 的整数"),
        ({"tencent": 50.5}, BOTH, ALL_ACTIVE, "weights.tencent", "腾讯云短信的权重须为 0 到 100 的整数"),
        ({"tencent": "50"}, BOTH, ALL_ACTIVE, "weights.tencent", "腾讯云短信的权重须为 0 到 100 的整数"),
        ({"tencent": True}, BOTH, ALL_ACTIVE, "weights.tencent", "腾讯云短信的权重须为 0 到 100 的整数"),
        ({"tencent": None}, BOTH, ALL_ACTIVE, "weights.tencent", "腾讯云短信的权重须为 0 到 100 的整数"),
        # Tencent not configured in this deployment
        ({"alibaba": 50, "tencent": 50}, ("alibaba",), {"alibaba"}, "weights.tencent", "未配置的运营商：tencent"),
        ({"unicom": 10}, BOTH, ALL_ACTIVE, "weights.unicom", "未配置的运营商：unicom"),
        # at least one active carrier above 0
        ({"alibaba": 0, "tencent": 0}, BOTH, ALL_ACTIVE, "weights", "至少一个轮换中的运营商权重须大于 0"),
        ({}, BOTH, ALL_ACTIVE, "weights", "至少一个轮换中的运营商权重须大于 0"),
        ({"alibaba": 100, "tencent": 0}, BOTH, {"tencent"}, "weights", "至少一个轮换中的运营商权重须大于 0"),
    ],
)
def test_weights_refused(weights, known, active, field, message):
    with pytest.raises(ValidationFailed) as refused:
        check_weights(weights, known, active)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_every_fault_is_listed():
    with pytest.raises(ValidationFailed) as refused:
        check_weights({"alibaba": 500, "tencent": -3}, BOTH, ALL_ACTIVE)
    assert [d["field"] for d in refused.value.details] == ["weights.alibaba", "weights.tencent"]


def lanes(**weights: dict[str, int]) -> dict[Lane, LaneWeights]:
    return {Lane(lane): LaneWeights(lane=Lane(lane), weights=w) for lane, w in weights.items()}


HALVES, ALIBABA_ONLY = {"alibaba": 50, "tencent": 50}, {"alibaba": 100, "tencent": 0}


@pytest.mark.parametrize(
    ("carrier", "found", "active", "stranded"),
    [
        (
            "alibaba",
            lanes(high={"alibaba": 50, "tencent": 50}, bulk={"alibaba": 100, "tencent": 0}),
            ALL_ACTIVE,
            ["bulk"],
        ),
        ("tencent", lanes(high={"alibaba": 50, "tencent": 50}, bulk={"alibaba": 100, "tencent": 0}), ALL_ACTIVE, []),
        ("alibaba", lanes(high={"alibaba": 50, "tencent": 50}), ALL_ACTIVE, []),
        ("alibaba", lanes(high={"alibaba": 50, "tencent": 50}), {"alibaba"}, ["high"]),  # tencent already out
    ],
)
def test_draining_must_leave_every_lane_a_carrier(carrier, found, active, stranded):
    assert lanes_left_without(carrier, found, active) == stranded
