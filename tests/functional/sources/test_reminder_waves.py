"""Reminder waves through the staff API and the real release, fan-out, dispatch, receipt and
business-event handlers on moto: a targeted notice approved once goes out 7 and 2 days before its
deadline, the second wave leaving out the people whose done-event arrived in between; each
wave's counts are reported; cancelling the request cancels the waves still to come."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sms_platform.foundation.clock import BEIJING

from tests.contacts_support import credit_code, id_number, mobile, unit
from tests.events import eventbridge_event
from tests.functional.dispatch_support import push, receipt_for, receipts_event
from tests.functional.sending.test_operations import audited
from tests.functional.sends_support import (
    NOTICE_VALUES,
    REVIEWER,
    WENDENG,
    active_template,
    add_people,
    detail,
    sends,  # noqa: F401
)
from tests.staff_calls import call

DEADLINE = date(2025, 3, 12)  # the clock starts on Monday 2025-03-03 10:00 Beijing time
WAVE_1 = datetime(2025, 3, 5, 11, 0, tzinfo=BEIJING)  # 7 days before, at 11:00
WAVE_2 = datetime(2025, 3, 10, 11, 0, tzinfo=BEIJING)  # 2 days before
REMINDER = {"deadline": DEADLINE.isoformat(), "done_event": "medical.paid", "days_before": [2, 7], "at": "11:00"}


def propose(template_id: str, **change):
    audience = {"kind": "person", "districts": ["wendeng"]}
    body = {"template_id": template_id, "values": NOTICE_VALUES, "audience": audience, "reminder": REMINDER, **change}
    return call(WENDENG, "POST", "/v1/staff/send-requests", body)


def approved_waves(world) -> tuple[str, str]:
    """Five Wendeng people and a reminder to them in two waves, approved; (first id, second id)."""
    add_people(5)
    proposed = propose(active_template(world.clock))
    assert proposed.status == 200, proposed.body
    first = proposed.body["request_id"]
    assert call(REVIEWER, "POST", f"/v1/staff/send-requests/{first}/approval").status == 200
    return first, proposed.body["reminder"]["waves"][1]["request_id"]


def sent_to(world, request_id: str) -> list[str]:
    return sorted(m.phone for m in world.simulator.sent if m.out_id == f"send:{request_id}")


def business_event(event_id: str, event_type: str, seq: int, lambda_context) -> dict:
    """A business system's event about person ``seq``, from the bus (as EventBridge delivers it)."""
    import events_intake

    body = {"event_id": event_id, "event_type": event_type, "occurred_at": "2025-03-07T09:00:00+08:00",
            "subject": {"kind": "person", "id": id_number(seq, birth=f"19{50 + seq // 1000 % 50:02d}0101")},
            "data": {}}  # fmt: skip
    return events_intake.handler(eventbridge_event("weihai.si.business", event_type, body), lambda_context)


def unit_event(event_id: str, seq: int, lambda_context) -> dict:
    import events_intake

    body = {"event_id": event_id, "event_type": "contribution.declared", "occurred_at": "2025-03-07T09:00:00+08:00",
            "subject": {"kind": "unit", "id": credit_code(seq)}, "data": {}}  # fmt: skip
    return events_intake.handler(eventbridge_event("weihai.si.business", "contribution.declared", body), lambda_context)


def send_at(world, moment: datetime) -> None:
    world.clock.set(moment)
    world.release()
    world.pump.run()


def receipts(world, request_id: str, failing: tuple[str, ...] = ()) -> None:
    sent = [m for m in world.simulator.sent if m.out_id == f"send:{request_id}"]
    items = [receipt_for(m, success=m.phone not in failing, err_code="DB:0101" if m.phone in failing else "DELIVERED")
             for m in sent]  # fmt: skip
    assert push(receipts_event(items), world.pump.context)["statusCode"] == 200


def counts(wave: dict) -> dict:
    return {k: wave[k] for k in ("number", "status", "targeted", "skipped_done", "sent", "delivered", "failed")}


def test_the_second_wave_reaches_only_those_whose_done_event_has_not_arrived(sends, lambda_context):  # noqa: F811
    add_people(5)
    proposed = propose(active_template(sends.clock))
    first = proposed.body["request_id"]
    second = proposed.body["reminder"]["waves"][1]["request_id"]
    reviewed = detail(first)
    approved = call(REVIEWER, "POST", f"/v1/staff/send-requests/{first}/approval")
    scheduled = audited("send_request.wave_schedule", sends.clock)
    approvals = audited("send_request.approve", sends.clock)

    send_at(sends, WAVE_1)
    receipts(sends, first)
    # Between the waves persons 1 and 3 pay; person 4's pension is paid, which is not the done-event.
    for event_id, event_type, seq in (("e-1", "medical.paid", 1), ("e-3", "medical.paid", 3),
                                      ("e-4", "pension.paid", 4)):  # fmt: skip
        assert business_event(event_id, event_type, seq, lambda_context)["messages"] == 0
    send_at(sends, WAVE_2)
    receipts(sends, second, failing=(mobile(2),))
    shown = detail(first)

    assert proposed.status == 200, proposed.body
    assert proposed.body["send_at"] == WAVE_1.isoformat()  # the first wave's time is the send time
    assert [(w["number"], w["days_before"], w["send_at"]) for w in proposed.body["reminder"]["waves"]] == [
        (1, 7, WAVE_1.isoformat()), (2, 2, WAVE_2.isoformat()),
    ]  # fmt: skip
    # The reviewer sees the waves, their times and the done-event before approving.
    assert reviewed["request"]["reminder"]["done_event"] == "medical.paid"
    assert [(w["number"], w["send_at"], w["status_name"]) for w in reviewed["waves"]] == [
        (1, WAVE_1.isoformat(), "待审核"), (2, WAVE_2.isoformat(), "待审核"),
    ]  # fmt: skip
    # One approval covers both waves: the second is approved by the same reviewer, audited.
    assert approved.status == 200, approved.body
    assert len([a for a in approvals if a["target"] == f"send_request:{first}"]) == 1
    assert [e["target"] for e in scheduled] == [f"send_request:{second}"]
    assert scheduled[0]["after"]["wave"]["number"] == 2 and scheduled[0]["after"]["status"] == "approved"

    assert sent_to(sends, first) == [mobile(i) for i in range(5)]
    assert sent_to(sends, second) == [mobile(0), mobile(2), mobile(4)]
    assert [counts(w) for w in shown["waves"]] == [
        {"number": 1, "status": "fanned_out", "targeted": 5, "skipped_done": 0, "sent": 5, "delivered": 5,
         "failed": 0},
        {"number": 2, "status": "fanned_out", "targeted": 5, "skipped_done": 2, "sent": 3, "delivered": 2,
         "failed": 1},
    ]  # fmt: skip
    # The second wave's own page shows the same waves, and which wave it is.
    own = detail(second, who=WENDENG)
    assert own["request"]["wave"]["number"] == 2 and own["request"]["wave"]["first_request_id"] == first
    assert [counts(w) for w in own["waves"]] == [counts(w) for w in shown["waves"]]
    assert own["progress"]["sent"] == 3
    assert id_number(1) not in json.dumps(shown) and mobile(1) not in json.dumps(shown)


def test_a_done_event_before_any_reminder_is_approved_is_not_kept(sends, lambda_context):  # noqa: F811
    business_event("early-1", "medical.paid", 1, lambda_context)
    first, second = approved_waves(sends)
    send_at(sends, WAVE_1)
    send_at(sends, WAVE_2)

    assert sent_to(sends, second) == [mobile(i) for i in range(5)]


def test_cancelling_before_release_cancels_every_wave(sends):  # noqa: F811
    first, second = approved_waves(sends)

    cancelled = call(WENDENG, "POST", f"/v1/staff/send-requests/{first}/cancellation")
    send_at(sends, WAVE_1)
    send_at(sends, WAVE_2)

    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    assert [w["status"] for w in detail(first)["waves"]] == ["cancelled", "cancelled"]
    assert sent_to(sends, first) == [] and sent_to(sends, second) == []


@pytest.mark.parametrize("how", ["cancellation", "stop"])
def test_cancelling_or_stopping_after_the_first_wave_cancels_the_waves_to_come(sends, how):  # noqa: F811
    first, second = approved_waves(sends)
    send_at(sends, WAVE_1)

    who, body = (WENDENG, None) if how == "cancellation" else (REVIEWER, {"reason": "政策调整，不再提醒"})
    answer = call(who, "POST", f"/v1/staff/send-requests/{first}/{how}", body)
    again = call(WENDENG, "POST", f"/v1/staff/send-requests/{first}/cancellation")
    send_at(sends, WAVE_2)

    assert answer.status == 200, answer.body
    assert [w["status"] for w in detail(first)["waves"]] == [
        "fanned_out" if how == "cancellation" else "stopped", "cancelled",
    ]  # fmt: skip
    assert len(sent_to(sends, first)) == 5 and sent_to(sends, second) == []
    assert again.status == 409 and "不能取消" in again.body["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reminder": {**REMINDER, "days_before": [7]}}, "reminder.days_before", "至少设置 2 轮"),
        ({"reminder": {**REMINDER, "days_before": [14, 7]}}, "reminder.days_before", "第 1 轮提醒"),
        ({"reminder": {**REMINDER, "deadline": "2025-03-01"}}, "reminder.deadline", "截止日期须晚于今天"),
        ({"reminder": {**REMINDER, "done_event": "已缴费"}}, "reminder.done_event", "例如 medical.paid"),
        ({"send_at": "2025-03-04T09:00:00+08:00"}, "send_at", "请不要另填发送时间"),
    ],
)
def test_refused_waves_say_why_in_chinese_and_change_nothing(sends, change, field, message):  # noqa: F811
    add_people(2)
    refused = propose(active_template(sends.clock), **change)

    assert refused.status == 422, refused.body
    assert message in refused.body["error"]["message"]
    assert field in json.dumps(refused.body)
    assert call(WENDENG, "GET", "/v1/staff/send-requests").body["requests"] == []


def test_a_units_done_event_leaves_the_unit_out_of_the_next_wave(sends, lambda_context):  # noqa: F811
    from sms_platform.contacts import collection

    units = [unit(seq, district="wendeng", phones=[{"number": mobile(70 + seq), "source": "online_declaration",
                                                     "contact_name": "王经办"}]) for seq in range(3)]  # fmt: skip
    collection.upsert_batch(units, at=sends.clock.now())
    reminder = {**REMINDER, "done_event": "contribution.declared"}
    proposed = propose(active_template(sends.clock), audience={"kind": "unit", "districts": ["wendeng"]},
                       reminder=reminder)  # fmt: skip
    assert proposed.status == 200, proposed.body
    first, second = proposed.body["request_id"], proposed.body["reminder"]["waves"][1]["request_id"]
    assert call(REVIEWER, "POST", f"/v1/staff/send-requests/{first}/approval").status == 200
    send_at(sends, WAVE_1)
    unit_event("u-1", 1, lambda_context)
    send_at(sends, WAVE_2)

    assert sent_to(sends, first) == [mobile(70), mobile(71), mobile(72)]
    assert sent_to(sends, second) == [mobile(70), mobile(72)]
    second_wave = detail(first)["waves"][1]
    assert (second_wave["targeted"], second_wave["skipped_done"], second_wave["sent"]) == (3, 1, 2)


def test_a_wave_whose_receipts_will_not_come_reads_finished_in_the_waves_of_another_page(sends):  # noqa: F811
    first, second = approved_waves(sends)
    send_at(sends, WAVE_1)
    receipts(sends, first)
    send_at(sends, WAVE_2)  # the second wave is sent; its receipts never come back

    def second_wave_as_the_first_page_shows_it() -> str:
        return detail(first)["waves"][1]["status_name"]

    assert second_wave_as_the_first_page_shows_it() == "发送中"
    sends.clock.advance(hours=71)
    assert second_wave_as_the_first_page_shows_it() == "发送中"  # a receipt may still come
    sends.clock.advance(hours=2)  # three days after sending: none will come any more
    # Decided as the wave's own page decides it, without that page having been opened.
    assert second_wave_as_the_first_page_shows_it() == "已发送完毕"
    assert detail(first)["waves"][0]["status_name"] == "已发送完毕"
    assert detail(second, who=WENDENG)["finished"] is True
