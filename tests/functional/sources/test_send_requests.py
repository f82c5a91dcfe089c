"""Send requests through the staff API on moto: review, the district-to-city path, the publicity
window, a test send, cancellation before release and a stop during sending."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sms_platform.audit.search import AuditQuery, search
from sms_platform.foundation.clock import BEIJING
from sms_platform.staff.context import Office, Role

from tests.functional.sends_support import (
    CITY_OPERATOR,
    HUANCUI,
    NOTICE_VALUES,
    REVIEWER,
    REVIEWER_2,
    WENDENG,
    active_template,
    add_people,
    approved_request,
    detail,
    propose,
    sends,  # noqa: F401
)
from tests.staff_calls import call, member
from tests.template_support import active_template as active_template_of


def test_a_district_request_shows_the_reviewer_sample_size_parts_and_timing(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(12)
    add_people(3, district="rushan", start=500)

    proposed = propose(WENDENG, template_id)
    assert proposed.status == 200, proposed.body
    request = proposed.body
    assert (request["status"], request["office"], request["audience_size"]) == ("submitted", "wendeng", 12)

    view = detail(request["request_id"], REVIEWER)
    assert (
        view["sample"]
        == "【文登区社会保险事业中心】文登社保提醒您：本年度社保缴费基数申报将于2025-03-31截止，请及时办理。"
    )
    assert view["characters"] == 53
    assert view["audience_size"] == 12
    assert view["parts"] == 1 and view["total_parts"] == 12
    assert view["timing"]["window"] is None and "立即发送" in view["timing"]["note"]
    # Counts come from the counters: a new person in the district shows at once.
    add_people(1, start=900)
    assert detail(request["request_id"], REVIEWER)["audience_size"] == 13


def test_a_district_reaches_only_its_own_district_and_uses_its_own_templates(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(2)

    other = propose(WENDENG, template_id, audience={"kind": "person", "districts": ["rushan"]})
    foreign = propose(HUANCUI, template_id, audience={"kind": "person"})

    assert other.status == 403 and "本辖区" in other.error["message"]
    assert foreign.status == 403 and "本单位" in foreign.error["message"]
    assert call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"] == []


def test_the_author_never_approves_their_own_request_and_another_reviewer_does(sends):  # noqa: F811
    template_id = active_template(sends.clock, office=Office.city)
    add_people(3)
    both = member("both", CITY_OPERATOR.office, *CITY_OPERATOR.roles, *REVIEWER.roles)
    proposed = propose(both, template_id, audience={"kind": "person"})
    request_id = proposed.body["request_id"]

    own = call(both, "POST", f"/v1/staff/send-requests/{request_id}/approval")
    by_operator = call(CITY_OPERATOR, "POST", f"/v1/staff/send-requests/{request_id}/approval")
    by_other = call(REVIEWER_2, "POST", f"/v1/staff/send-requests/{request_id}/approval")

    assert own.status == 403 and "不能审核自己" in own.error["message"]
    assert by_operator.status == 403
    assert by_other.status == 200 and by_other.body["status"] == "approved"
    assert by_other.body["reviewer"]["real_name"] == "赵强"
    now = sends.clock.now()
    window = AuditQuery(start=now - timedelta(hours=1), end=now + timedelta(hours=1), template_id=template_id)
    entries = search(window).entries
    actions = [e["action"] for e in entries if e["target"] == f"send_request:{request_id}"]
    assert Counter(actions) == Counter({"send_request.submit": 1, "send_request.approve": 1})


def test_a_district_request_goes_to_the_city_and_a_rejection_carries_its_reason(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(2)
    request_id = propose(WENDENG, template_id).body["request_id"]

    district_reviewer = member("wdrev", WENDENG.office, *WENDENG.roles)
    assert call(district_reviewer, "POST", f"/v1/staff/send-requests/{request_id}/approval").status == 403
    short = call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/rejection", {"reason": "x"})
    rejected = call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/rejection", {"reason": "对象范围过大"})

    assert short.status == 422
    assert rejected.status == 200 and rejected.body["reject_reason"] == "对象范围过大"
    assert detail(request_id, WENDENG)["request"]["status_name"] == "审核未通过"


@pytest.mark.parametrize(
    ("hour", "minute", "accepted"),
    [(7, 59, False), (20, 59, True), (21, 0, False)],  # every edge: tests/unit/sources/test_send_request_rules.py
)
def test_publicity_send_time_must_fall_between_8_and_21_beijing(sends, hour, minute, accepted):  # noqa: F811
    template_id = active_template(sends.clock, category="publicity")
    add_people(2)
    send_at = datetime(2025, 3, 4, hour, minute, tzinfo=BEIJING)

    answer = propose(WENDENG, template_id, values={}, send_at=send_at)

    if accepted:
        assert answer.status == 200, answer.body
        assert datetime.fromisoformat(answer.body["send_at"]) == send_at
    else:
        assert answer.status == 422
        assert "08:00 至 21:00" in answer.error["message"]
        assert "2025-03-0" in answer.error["message"] and "08:00" in answer.error["message"]


def test_a_targeted_notice_has_no_window_but_a_past_time_is_refused(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(2)
    night = propose(WENDENG, template_id, send_at=datetime(2025, 3, 3, 23, 0, tzinfo=BEIJING))
    past = propose(WENDENG, template_id, send_at=sends.clock.now() - timedelta(hours=1))
    assert night.status == 200
    assert past.status == 422 and "已过" in past.error["message"]


def test_bad_values_or_an_empty_audience_are_refused_and_nothing_is_stored(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(2)
    url_value = propose(WENDENG, template_id, values={**NOTICE_VALUES, "unit": "http://x.cn"})
    missing = propose(WENDENG, template_id, values={"unit": "文登社保"})
    empty = propose(WENDENG, template_id, audience={"kind": "unit"})
    unknown = propose(WENDENG, "tpl-nothing")

    assert url_value.status == 422 and missing.status == 422
    assert empty.status == 422 and "没有可发送" in empty.error["message"]
    assert unknown.status == 404
    assert call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"] == []


def test_the_author_sends_a_test_to_their_verified_phone_on_the_high_lane(sends):  # noqa: F811
    from sms_platform.sources import subscription_items

    template_id = active_template(sends.clock)
    add_people(2)
    otp = active_template_of(sends.clock, category="system", office="it", text="您的验证码为${code}，5分钟内有效。",
                             variables=[{"name": "code", "type": "code", "max_length": 6}])  # fmt: skip
    subscription_items.set_settings(member("ops1", Office.it, Role.it_ops), otp, None, now=sends.clock.now())
    request_id = propose(WENDENG, template_id).body["request_id"]

    before = call(WENDENG, "POST", f"/v1/staff/send-requests/{request_id}/test-send")
    asked = call(WENDENG, "POST", "/v1/staff/me/test-phone", {"phone": "13912345678"})
    sends.pump.run()
    code = sends.simulator.sent_to("13912345678")[0].params["code"]
    wrong = call(
        WENDENG, "POST", "/v1/staff/me/test-phone/verification", {"code": "000000" if code != "000000" else "111111"}
    )
    verified = call(WENDENG, "POST", "/v1/staff/me/test-phone/verification", {"code": code})
    by_other = call(CITY_OPERATOR, "POST", f"/v1/staff/send-requests/{request_id}/test-send")
    sent = call(WENDENG, "POST", f"/v1/staff/send-requests/{request_id}/test-send")
    queued_on_high = len(sends.pump.pending("HighQueue"))
    sends.pump.run()

    assert before.status == 409 and "验证" in before.error["message"]
    assert asked.status == 200 and asked.body["phone_masked"] == "139****5678"
    assert wrong.status == 422
    assert verified.status == 200
    assert by_other.status in (403, 404)
    assert sent.status == 200 and sent.body == {"queued": 1, "phone_masked": "139****5678", "test_sends": 1}
    assert queued_on_high == 1
    test_sms = sends.simulator.sent_to("13912345678")[-1]
    assert test_sms.params == NOTICE_VALUES
    assert detail(request_id)["request"]["status"] == "submitted"  # a test changes nothing else
    assert "13912345678" not in str(detail(request_id))


def test_an_approved_request_can_be_cancelled_before_its_time_and_then_never_sends(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(5)
    later = sends.clock.now() + timedelta(hours=2)
    request_id = approved_request(sends, template_id, send_at=later)

    sends.release()  # not due yet
    cancelled = call(WENDENG, "POST", f"/v1/staff/send-requests/{request_id}/cancellation")
    sends.clock.advance(hours=3)
    released = sends.release()
    sends.pump.run()

    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    assert released == {"released": []}
    assert sends.simulator.sent == []
    again = call(WENDENG, "POST", f"/v1/staff/send-requests/{request_id}/cancellation")
    assert again.status == 409


def test_an_approved_request_is_released_at_its_time_once(sends):  # noqa: F811
    template_id = active_template(sends.clock)
    add_people(30)
    request_id = approved_request(sends, template_id, send_at=sends.clock.now() + timedelta(minutes=30))

    assert sends.release() == {"released": []}
    sends.clock.advance(minutes=30)
    first, second = sends.release(), sends.release()
    sends.pump.run()

    assert first == {"released": [request_id]} and second == {"released": []}
    numbers = Counter(m.phone for m in sends.simulator.sent)
    assert len(numbers) == 30 and set(numbers.values()) == {1}
    progress = detail(request_id)["progress"]
    assert progress["expanded"] == 30 and progress["sent"] == 30 and progress["waiting"] == 0
    assert detail(request_id)["request"]["status"] == "fanned_out"


def test_a_stop_during_sending_suppresses_every_recipient_not_yet_sent(sends, monkeypatch):  # noqa: F811
    from sms_platform.sources import fanout

    template_id = active_template(sends.clock)
    add_people(80)  # spread over the district's 16 audience shards: one small batch per page
    request_id = approved_request(sends, template_id)
    sends.release()
    # Expand a page per run, then let only part of what was queued (10 batches) reach the carrier.
    monkeypatch.setattr(fanout, "PAGES_PER_RUN", 1)
    sends.pump.run_fanout()
    url = sends.provisioned.queue_url("NormalQueue")
    sends.pump.invoke(sends.pump.receive_event(url), url)
    already = {m.phone for m in sends.simulator.sent}

    stopped = call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/stop", {"reason": "内容有误，立即停止"})
    sends.pump.run()

    assert stopped.status == 200 and stopped.body["status"] == "stopped"
    assert 0 < len(already) < 80
    assert {m.phone for m in sends.simulator.sent} == already  # nothing more went out
    progress = detail(request_id)["progress"]
    assert progress["states"]["suppressed"] == 80 - len(already)
    assert progress["sent"] == len(already)
    assert progress["expanded"] == 80
    report = call(REVIEWER, "GET", f"/v1/staff/send-requests/{request_id}/report").body
    assert report["suppress_reasons"] == {"stopped_send": 80 - len(already)}
    assert "139" not in str(report).replace("139****", "")


def test_each_step_bears_the_time_it_is_given_and_answers_with_a_model(sends):  # noqa: F811
    from sms_platform.audit.chain import time_key
    from sms_platform.sources import send_requests
    from sms_platform.sources.send_request_models import HaltedRequests, SendRequestIn

    template_id = active_template(sends.clock)
    add_people(2)
    # Not the clock's time: a service takes the time of the step from its caller.
    proposed_at = sends.clock.now() + timedelta(minutes=5)
    approved_at, halted_at = proposed_at + timedelta(minutes=7), proposed_at + timedelta(minutes=8)
    body = SendRequestIn(template_id=template_id, values=NOTICE_VALUES,
                         audience={"kind": "person", "districts": ["wendeng"]})  # fmt: skip

    proposed = send_requests.propose(WENDENG, body, now=proposed_at)
    approved = send_requests.approve(REVIEWER, proposed.request_id, now=approved_at)
    halted = send_requests.halt_office(None, Office.wendeng, now=halted_at)

    assert (proposed.created_at, approved.reviewed_at) == (proposed_at, approved_at)
    assert halted == HaltedRequests(cancelled=[proposed.request_id], stopped=[])
    window = AuditQuery(start=proposed_at - timedelta(hours=1), end=halted_at + timedelta(hours=1),
                        template_id=template_id)  # fmt: skip
    target = f"send_request:{proposed.request_id}"
    assert {e["action"]: e["at"] for e in search(window).entries if e["target"] == target} == {
        "send_request.submit": time_key(proposed_at),
        "send_request.approve": time_key(approved_at),
        "send_request.cancel": time_key(halted_at),
    }


def listed(request_id: str) -> dict:
    answer = call(REVIEWER, "GET", "/v1/staff/send-requests")
    assert answer.status == 200, answer.body
    return next(r for r in answer.body["requests"] if r["request_id"] == request_id)


def test_a_send_reads_finished_once_no_receipt_can_still_come_and_is_then_never_recounted(
    sends, monkeypatch  # noqa: F811
):
    from sms_platform.sending import message_store

    template_id = active_template(sends.clock)
    add_people(3)
    request_id = approved_request(sends, template_id)
    sends.release()
    sends.pump.run()  # handed to the carrier; no receipt has come back

    assert (listed(request_id)["finished"], listed(request_id)["status_name"]) == (False, "发送中")
    assert detail(request_id)["finished"] is False
    sends.clock.advance(hours=71)
    assert listed(request_id)["finished"] is False  # a receipt may still come

    sends.clock.advance(hours=2)  # three days after sending: none will come any more
    assert (listed(request_id)["finished"], listed(request_id)["status_name"]) == (True, "已发送完毕")
    assert detail(request_id)["finished"] is True
    assert detail(request_id)["request"]["finished_at"] is not None

    # Seen over once, the send is not counted again: its messages are never read for it.
    def unread(source_id):
        raise AssertionError(f"the messages of {source_id} were read again")

    monkeypatch.setattr(message_store, "items_of_source", unread)
    assert listed(request_id)["status_name"] == "已发送完毕"
