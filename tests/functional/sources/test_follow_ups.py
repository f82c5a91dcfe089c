"""Follow-up sends (对未送达人员再次发送) through the staff API and the real release, fan-out,
dispatch and receipt handlers on moto: a new request reviewed like any other reaches only the
recipients the first send did not reach, each at the number in use now."""

from __future__ import annotations

import json

import pytest
from sms_platform.foundation import crypto
from sms_platform.sending import number_health
from sms_platform.sending.messages import message_id
from sms_platform.staff.context import Office

from tests.contacts_support import mobile, person
from tests.functional.dispatch_support import push, receipt_for, receipts_event
from tests.functional.sending.test_operations import audited
from tests.functional.sends_support import (
    CITY_OPERATOR,
    HUANCUI,
    REVIEWER,
    WENDENG,
    active_template,
    add_people,
    approved_request,
    detail,
    propose,
    sends,  # noqa: F401
)
from tests.staff_calls import call

AGAIN = "${unit}再次提醒您：本年度社保缴费基数申报将于${date}截止，如已办理请忽略。"
VALUES = {"unit": "文登社保", "date": "2025-03-31"}


def sent_to(world, request_id: str) -> list[str]:
    return sorted(m.phone for m in world.simulator.sent if m.out_id == f"send:{request_id}")


def hold(phone: str, clock) -> None:
    """``phone`` held for verification before any send (two permanent failures elsewhere)."""
    phone_hash = crypto.keyed_hash(phone)
    for source in ("send:earlier1", "send:earlier2"):
        number_health.note_failure(
            {"message_id": message_id(source, phone_hash), "phone_hash": phone_hash, "phone_masked": "139****",
             "source_id": source, "kind": "targeted", "template_id": "t", "error_code": "DB:0101",
             "state": "failed", "created_at": clock.now().isoformat()},
            at=clock.now(),
        )  # fmt: skip


def first_send(world, template_id: str) -> str:
    """A send to five Wendeng people: 0 and 1 fail at the carrier, 2 is held for verification."""
    add_people(5)
    hold(mobile(2), world.clock)
    request_id = approved_request(world, template_id)
    world.release()
    world.pump.run()
    codes = {mobile(0): "DB:0101", mobile(1): "MI:0024"}
    sent = [m for m in world.simulator.sent if m.out_id == f"send:{request_id}"]
    receipts = [receipt_for(m, success=m.phone not in codes, err_code=codes.get(m.phone, "DELIVERED")) for m in sent]
    assert push(receipts_event(receipts), world.pump.context)["statusCode"] == 200
    return request_id


def test_a_follow_up_reaches_only_those_not_reached_at_their_number_of_today(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    again_id = active_template(sends.clock, text=AGAIN)
    first = first_send(sends, template_id)
    # The next day, person 1 gives a new number and person 2's number is replaced.
    sends.clock.advance(seconds=86400)
    later = sends.clock.now().isoformat()
    for seq, number in ((1, mobile(601)), (2, mobile(602))):
        fresh = [{"number": number, "source": "service_hall", "verified": True, "collected_at": later}]
        assert (
            call(WENDENG, "POST", "/v1/staff/contacts/batch", {"contacts": [person(seq, phones=fresh)]}).status == 200
        )

    preview = call(WENDENG, "GET", "/v1/staff/follow-ups/preview", query={"of": first})
    proposed = call(WENDENG, "POST", "/v1/staff/follow-ups", {"of": first, "template_id": again_id, "values": VALUES})
    follow_up = proposed.body["request_id"]
    seen = detail(follow_up)
    approved = call(REVIEWER, "POST", f"/v1/staff/send-requests/{follow_up}/approval")
    sends.release()
    sends.pump.run()

    assert sent_to(sends, first) == [mobile(0), mobile(1), mobile(3), mobile(4)]  # 2 was held
    assert preview.status == 200, preview.body
    assert {k: preview.body[k] for k in ("recipients", "failed", "undeliverable", "not_in_book")} == {
        "recipients": 3, "failed": 2, "undeliverable": 1, "not_in_book": 0,
    }  # fmt: skip
    assert preview.body["template_name"] == "缴费基数申报提醒" and preview.body["office_name"] == "文登区"
    assert proposed.status == 200, proposed.body
    assert proposed.body["status"] == "submitted" and proposed.body["template_id"] == again_id
    assert proposed.body["follow_up"]["request_id"] == first and proposed.body["audience_size"] == 3
    assert proposed.body["audience"] == {"kind": "person", "districts": ["wendeng"], "insurance_type": None,
                                         "tag": None, "list_id": None}  # fmt: skip
    # The reviewer sees which send it follows and how many it reaches, before approving.
    assert seen["request"]["follow_up"]["request_id"] == first and seen["audience_size"] == 3
    assert seen["total_parts"] == 3 * seen["parts"]
    assert approved.status == 200
    # Only those not reached, each at the number in use now: 1 and 2 at their new numbers.
    assert sent_to(sends, follow_up) == [mobile(0), mobile(601), mobile(602)]
    assert {m.params["unit"] for m in sends.simulator.sent if m.out_id == f"send:{follow_up}"} == {"文登社保"}
    progress = detail(follow_up)["progress"]
    assert progress["expanded"] == 3 and progress["sent"] == 3
    submitted = [e for e in audited("send_request.submit", sends.clock) if e["target"] == f"send_request:{follow_up}"]
    assert submitted and submitted[0]["after"]["follow_up"]["request_id"] == first
    assert mobile(0) not in json.dumps(preview.body) + json.dumps(proposed.body)


def test_a_follow_up_of_a_follow_up_and_of_a_send_reaching_everyone(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    first = first_send(sends, template_id)
    follow_up = call(WENDENG, "POST", "/v1/staff/follow-ups", {"of": first, "template_id": template_id,
                                                                 "values": VALUES}).body["request_id"]  # fmt: skip
    call(REVIEWER, "POST", f"/v1/staff/send-requests/{follow_up}/approval")
    sends.release()
    sends.pump.run()
    reached = [receipt_for(m) for m in sends.simulator.sent if m.out_id == f"send:{follow_up}"]
    push(receipts_event(reached), sends.pump.context)

    again = call(WENDENG, "GET", "/v1/staff/follow-ups/preview", query={"of": follow_up})
    refused = call(WENDENG, "POST", "/v1/staff/follow-ups", {"of": follow_up, "template_id": template_id,
                                                               "values": VALUES})  # fmt: skip

    # The held number 2 is still held: undeliverable again, so the follow-up's own follow-up has it.
    assert sent_to(sends, follow_up) == [mobile(0), mobile(1)]
    assert again.body["recipients"] == 1 and again.body["undeliverable"] == 1
    assert refused.status == 200 and refused.body["audience_size"] == 1


@pytest.mark.parametrize(
    ("who", "change", "status", "message"),
    [
        (CITY_OPERATOR, {}, 403, "只能对本单位的发送申请再次发送"),
        (HUANCUI, {}, 404, None),  # another district's send is not even seen
        (REVIEWER, {}, 403, None),  # reviewers review; operators propose
        (WENDENG, {"of": "0" * 32}, 404, None),
        (WENDENG, {"of": "not-a-request"}, 422, None),
        (WENDENG, {"values": {}}, 422, None),  # the template's variables still need values
        (WENDENG, {"unexpected": 1}, 422, None),
    ],
)
def test_a_follow_up_is_refused_with_a_reason_and_changes_nothing(sends, who, change, status, message):  # noqa: F811
    template_id = active_template(sends.clock)
    first = first_send(sends, template_id)
    before = len(call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"])

    answer = call(who, "POST", "/v1/staff/follow-ups", {"of": first, "template_id": template_id, "values": VALUES,
                                                          **change})  # fmt: skip

    assert answer.status == status, answer.body
    if message:
        assert answer.error["message"] == message
    assert len(call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"]) == before


def test_only_a_released_send_with_someone_not_reached_can_be_followed(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(2)
    waiting = propose(WENDENG, template_id).body["request_id"]
    everyone = approved_request(sends, template_id)
    sends.release()
    sends.pump.run()
    delivered = [receipt_for(m) for m in sends.simulator.sent if m.out_id == f"send:{everyone}"]
    push(receipts_event(delivered), sends.pump.context)

    not_yet = call(WENDENG, "GET", "/v1/staff/follow-ups/preview", query={"of": waiting})
    nobody = call(WENDENG, "POST", "/v1/staff/follow-ups", {"of": everyone, "template_id": template_id,
                                                              "values": VALUES})  # fmt: skip

    assert not_yet.status == 409 and not_yet.error["message"] == "该申请尚未开始发送，还没有未送达的人员"
    assert nobody.status == 422 and nobody.error["message"] == "该次发送没有可再次发送的未送达人员"
    assert Office.wendeng.value == detail(everyone)["request"]["office"]
