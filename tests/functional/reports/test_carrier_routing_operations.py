"""IT operations' side of routing between carriers, through the staff API and the scheduled
health watch on moto: lanes' weights set and audited, a carrier drained by hand and returned,
and the health switch: out after bad minutes, still out during its probation, back after it
(the clock moved), with the alarm's figure logged at each run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sms_platform import aws as platform_aws
from sms_platform.foundation import settings
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.staff.context import Office, Role

from tests.events import schedule_event
from tests.staff_calls import call, member

IT_OPS = member("ops1", Office.it, Role.it_ops, real_name="冯运维")
AUDITOR = member("aud1", Office.it, Role.auditor)
WENDENG = member("wdop", Office.wendeng, Role.district_operator)
MONDAY_10 = datetime(2025, 3, 3, 10, 0, 30, tzinfo=BEIJING)


@pytest.fixture
def ops(aws, monkeypatch):
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "1400000001")  # both carriers configured
    settings.reset()
    clock = FixedClock(MONDAY_10)
    set_clock(clock)
    yield clock
    set_clock(None)


def audited(action: str, clock: FixedClock) -> list[dict]:
    from sms_platform.audit import archive

    lines, _, broken = archive.archive_lines(clock.now().astimezone(BEIJING).date(), clock.now())
    assert broken is None
    return [entry for entry in map(json.loads, lines[1:]) if entry["action"] == action]


def outcomes(carrier: str, at: datetime, **counters: int) -> None:
    """The dispatcher's counters of ``carrier`` for the Beijing minute of ``at``."""
    minute = at.astimezone(BEIJING).strftime("%Y%m%d%H%M")
    item = {"pk": f"carrierhealth#{carrier}#{minute}", "sk": "count", **counters}
    platform_aws.table(settings.settings().sends_table).put_item(Item=item)


def bad_minutes(clock: FixedClock, carrier: str, count: int) -> None:
    for n in range(count):
        outcomes(
            carrier,
            clock.now() - timedelta(minutes=n),
            sent=4,
            retry=6,
            latency_ms_sum=800,
            latency_n=10,
            receipt_delivered=4,
        )


def watch(lambda_context) -> dict:
    import carrier_watch

    return carrier_watch.handler(schedule_event(), lambda_context)


def carriers(who=IT_OPS) -> dict:
    answer = call(who, "GET", "/v1/staff/carriers")
    assert answer.status == 200, answer.body
    return {c["carrier"]: c for c in answer.body["carriers"]} | {"lanes": {x["lane"]: x for x in answer.body["lanes"]}}


def test_the_defaults_before_anyone_set_anything(ops):
    seen = carriers(AUDITOR)
    assert [seen["lanes"][lane]["weights"] for lane in ("high", "normal", "bulk")] == [
        {"alibaba": 100, "tencent": 0}
    ] * 3
    assert (seen["alibaba"]["state"]["state"], seen["tencent"]["state"]["state"]) == ("active", "active")
    assert seen["tencent"]["name"] == "腾讯云短信" and seen["tencent"]["health"]["healthy"] is True
    assert call(WENDENG, "GET", "/v1/staff/carriers").status == 403


def test_weights_are_checked_set_and_audited(ops):
    refused = [
        call(IT_OPS, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 0, "tencent": 0}}),
        call(IT_OPS, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 120}}),
        call(IT_OPS, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 50, "unicom": 50}}),
        call(IT_OPS, "PUT", "/v1/staff/carriers/weights/slow", {"weights": {"alibaba": 50}}),
    ]
    assert [answer.status for answer in refused] == [422, 422, 422, 422]
    assert refused[0].error["message"] == "至少一个轮换中的运营商权重须大于 0"
    assert refused[1].error["message"] == "阿里云短信的权重须为 0 到 100 的整数"
    assert refused[2].error["message"] == "未配置的运营商：unicom"
    assert audited("carrier.weights", ops) == []
    assert call(AUDITOR, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 50}}).status == 403

    done = call(IT_OPS, "PUT", "/v1/staff/carriers/weights/bulk", {"weights": {"alibaba": 30, "tencent": 70}})

    assert done.status == 200, done.body
    assert done.body["weights"] == {"alibaba": 30, "tencent": 70} and done.body["updated_by"] == "ops1"
    assert carriers()["lanes"]["bulk"]["weights"] == {"alibaba": 30, "tencent": 70}
    assert carriers()["lanes"]["high"]["weights"] == {"alibaba": 100, "tencent": 0}
    [entry] = audited("carrier.weights", ops)
    assert (entry["target"], entry["actor"]["account_id"], entry["office"]) == ("carrier_route:bulk", "ops1", "it")
    assert entry["before"] == {"weights": {"alibaba": 100, "tencent": 0}}
    assert entry["after"] == {"weights": {"alibaba": 30, "tencent": 70}}


def test_a_carrier_is_drained_by_hand_and_returned(ops, lambda_context):
    # Tencent carries nothing yet: draining Alibaba would leave every lane without a carrier.
    stranded = call(IT_OPS, "POST", "/v1/staff/carriers/alibaba/drain", {"reason": "运营商通知维护"})
    assert stranded.status == 409
    assert (
        stranded.error["message"] == "停用后高优先级队列、普通队列、批量队列没有权重大于 0 的轮换中运营商，请先调整权重"
    )
    for lane in ("high", "normal", "bulk"):
        call(IT_OPS, "PUT", f"/v1/staff/carriers/weights/{lane}", {"weights": {"alibaba": 50, "tencent": 50}})

    drained = call(IT_OPS, "POST", "/v1/staff/carriers/alibaba/drain", {"reason": "运营商通知维护"})
    again = call(IT_OPS, "POST", "/v1/staff/carriers/alibaba/drain", {"reason": "再次"})
    # With Alibaba drained, Tencent is the last carrier: it cannot be drained too.
    last = call(IT_OPS, "POST", "/v1/staff/carriers/tencent/drain", {"reason": "试试"})
    # nor may a lane's weights rest on the drained carrier alone
    lone = call(IT_OPS, "PUT", "/v1/staff/carriers/weights/high", {"weights": {"alibaba": 100, "tencent": 0}})
    unknown = call(IT_OPS, "POST", "/v1/staff/carriers/unicom/drain", {"reason": ""})

    assert drained.status == 200, drained.body
    assert (drained.body["state"], drained.body["reason"], drained.body["by"]) == ("drained", "运营商通知维护", "ops1")
    assert (again.status, again.error["message"]) == (409, "阿里云短信已人工停用")
    assert last.status == 409 and lone.status == 422 and unknown.status == 404
    seen = carriers()
    assert (seen["alibaba"]["state"]["state"], seen["alibaba"]["state_name"]) == ("drained", "已人工停用")

    ops.advance(minutes=30)  # the watch leaves a drained carrier alone
    assert watch(lambda_context)["returned"] == [] and carriers()["alibaba"]["state"]["state"] == "drained"

    back = call(IT_OPS, "POST", "/v1/staff/carriers/alibaba/restore")
    twice = call(IT_OPS, "POST", "/v1/staff/carriers/alibaba/restore")

    assert back.status == 200, back.body
    assert (back.body["state"], back.body["reason"]) == ("active", "人工恢复")
    assert (twice.status, twice.error["message"]) == (409, "阿里云短信已在轮换中")
    [drain_entry] = audited("carrier.drain", ops)
    [restore_entry] = audited("carrier.restore", ops)
    assert drain_entry["target"] == "carrier:alibaba" and drain_entry["before"]["state"] == "active"
    assert drain_entry["after"]["state"] == "drained" and drain_entry["after"]["reason"] == "运营商通知维护"
    assert (restore_entry["before"]["state"], restore_entry["after"]["state"]) == ("drained", "active")


def test_an_unhealthy_carrier_is_taken_out_for_its_probation_and_comes_back(ops, lambda_context, caplog):
    assert watch(lambda_context) == {"taken_out": [], "returned": [], "unhealthy": []}

    bad_minutes(ops, "alibaba", 5)  # 60% of requests failing for five minutes
    first = watch(lambda_context)

    assert first == {"taken_out": ["alibaba"], "returned": [], "unhealthy": ["alibaba"]}
    seen = carriers()["alibaba"]
    assert seen["state"]["state"] == "out" and seen["state"]["by"] == "platform"
    assert seen["state"]["reason"] == "错误率 60%，超过上限 20%"
    until = datetime.fromisoformat(seen["state"]["until"])
    assert until == ops.now() + timedelta(minutes=15)
    assert seen["health"]["error_rate"] == 0.6 and seen["health"]["latency_ms"] == 80
    assert seen["health"]["problems"] == ["错误率 60%，超过上限 20%"]
    assert carriers()["tencent"]["state"]["state"] == "active"  # the other carries on
    [entry] = audited("carrier.take_out", ops)
    assert (entry["target"], entry["actor"]["account_id"], entry["office"]) == ("carrier:alibaba", "system", "it")
    assert entry["after"]["reason"] == "错误率 60%，超过上限 20%"

    logged = [record.carriers_unhealthy for record in caplog.records if hasattr(record, "carriers_unhealthy")]
    assert logged == [0, 1]  # the figure the alarm's metric filter reads

    # During the probation it stays out, though its window has emptied.
    ops.advance(minutes=14, seconds=59)
    assert watch(lambda_context) == {"taken_out": [], "returned": [], "unhealthy": ["alibaba"]}
    assert carriers()["alibaba"]["state"]["state"] == "out"

    # Probation over and nothing bad in the last 15 minutes: back in the rotation.
    ops.advance(seconds=1)
    assert watch(lambda_context) == {"taken_out": [], "returned": ["alibaba"], "unhealthy": []}
    seen = carriers()["alibaba"]
    assert (seen["state"]["state"], seen["state"]["reason"]) == ("active", "观察期结束，健康检查正常，恢复轮换")
    [back] = audited("carrier.return", ops)
    assert (back["before"]["state"], back["after"]["state"]) == ("out", "active")


def test_a_carrier_still_failing_when_its_probation_ends_stays_out(ops, lambda_context):
    bad_minutes(ops, "tencent", 3)
    assert watch(lambda_context)["taken_out"] == ["tencent"]
    ops.advance(minutes=15)
    bad_minutes(ops, "tencent", 2)  # it was tried again and failed again (short probation, new faults)

    assert watch(lambda_context) == {"taken_out": ["tencent"], "returned": [], "unhealthy": ["tencent"]}
    seen = carriers()["tencent"]["state"]
    assert seen["state"] == "out" and seen["reason"].startswith("观察期结束仍不健康：错误率")
    assert datetime.fromisoformat(seen["until"]) == ops.now() + timedelta(minutes=15)


def test_the_last_active_carrier_is_never_taken_out(ops, lambda_context):
    for lane in ("high", "normal", "bulk"):
        call(IT_OPS, "PUT", f"/v1/staff/carriers/weights/{lane}", {"weights": {"alibaba": 50, "tencent": 50}})
    assert call(IT_OPS, "POST", "/v1/staff/carriers/tencent/drain", {"reason": "维护"}).status == 200
    bad_minutes(ops, "alibaba", 5)

    # Unhealthy (the alarm's figure says so) but kept: with none left nothing would be sent.
    assert watch(lambda_context) == {"taken_out": [], "returned": [], "unhealthy": ["alibaba"]}
    assert carriers()["alibaba"]["state"]["state"] == "active"
