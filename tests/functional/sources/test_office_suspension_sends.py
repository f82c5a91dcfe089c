"""R18 through the staff API: suspending an office stops its pending send requests.

Its submitted and approved requests are cancelled and a send being expanded is stopped, each
with the reason 发送单位已被暂停 and audited under the administrator who suspended it; nothing of
them reaches the carrier, and reinstatement resumes none of them (the office proposes afresh).
Should a request slip past (proposed while the suspension was being recorded), it can be
neither approved nor released while the office stays suspended.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sms_platform.staff.context import Office, Role

from tests.contacts_support import mobile
from tests.events import schedule_event
from tests.functional.sends_support import NOTICE, NOTICE_VALUES, NOTICE_VARS, Pump, add_people
from tests.template_support import active_template

SUSPENDED = "发送单位已被暂停"


@pytest.fixture
def office(staff, staff_clock, carrier_simulator, aws, lambda_context):
    """Rongcheng and Rushan each with an operator, people and an active notice template; a city
    reviewer; a permission administrator; the fan-out queue and lanes run by their handlers."""
    from types import SimpleNamespace

    from sms_platform.foundation import crypto

    crypto.reset()
    add_people(6, district="rongcheng")
    add_people(2, district="rushan", start=100)
    world = SimpleNamespace(
        staff=staff,
        admin=staff.account(Role.permission_admin),
        reviewer=staff.account(Role.city_reviewer),
        operator=staff.account(Role.district_operator, office=Office.rongcheng),
        neighbour=staff.account(Role.district_operator, office=Office.rushan),
        templates={
            district: active_template(
                staff_clock, category="targeted", office=district, text=NOTICE, variables=NOTICE_VARS
            )  # fmt: skip
            for district in ("rongcheng", "rushan")
        },
        pump=Pump(aws, staff_clock, lambda_context),
        clock=staff_clock,
        simulator=carrier_simulator,
    )
    yield world
    crypto.reset()


def _propose(world, who, district: str, **extra) -> str:
    body = {"template_id": world.templates[district], "values": NOTICE_VALUES,
            "audience": {"kind": "person", "districts": [district]}, **extra}  # fmt: skip
    answer = world.staff.call("POST", "/v1/staff/send-requests", token=who.token, body=body)
    assert answer.status == 200, answer.text
    return answer.json["request_id"]


def _approve(world, request_id: str):
    return world.staff.call("POST", f"/v1/staff/send-requests/{request_id}/approval", token=world.reviewer.token)


def _request(world, request_id: str) -> dict:
    answer = world.staff.call("GET", f"/v1/staff/send-requests/{request_id}", token=world.reviewer.token)
    assert answer.status == 200, answer.text
    return answer.json


def _release() -> dict:
    import release

    from tests.conftest import LambdaContext

    return release.handler(schedule_event(), LambdaContext())


def _suspend(world):
    return world.staff.call("POST", "/v1/staff/offices/rongcheng/suspension", token=world.admin.token,
                            body={"reason": "违反短信平台管理办法"})  # fmt: skip


def test_suspending_an_office_cancels_its_pending_requests_and_stops_its_send(office):
    from sms_platform.audit.search import AuditQuery, search

    submitted = _propose(office, office.operator, "rongcheng")
    later = (office.clock.now() + timedelta(minutes=10)).isoformat()
    approved = _propose(office, office.operator, "rongcheng", send_at=later)
    sending = _propose(office, office.operator, "rongcheng")
    neighbours = _propose(office, office.neighbour, "rushan")
    assert _approve(office, approved).status == 200 and _approve(office, sending).status == 200
    assert _release() == {"released": [sending]}  # chunk jobs queued, nothing expanded yet

    admin_name = office.staff.call("GET", "/v1/staff/me", token=office.admin.token).json["real_name"]
    suspended = _suspend(office)
    office.pump.run()  # the fan-out and the lanes do whatever is left for them
    office.clock.advance(minutes=15)  # the approved one's time has come (sessions last 30 idle minutes)
    released_later = _release()
    office.pump.run()

    assert suspended.status == 200
    for request_id in (submitted, approved):
        request = _request(office, request_id)["request"]
        assert (request["status"], request["status_name"]) == ("cancelled", "已取消")
        assert request["cancel_reason"] == SUSPENDED and request["cancelled_by"]["real_name"] == admin_name
    stopped = _request(office, sending)
    assert (stopped["request"]["status"], stopped["request"]["stop_reason"]) == ("stopped", SUSPENDED)
    assert stopped["progress"]["sent"] == 0 and stopped["progress"]["states"]["suppressed"] == 6
    assert _request(office, neighbours)["request"]["status"] == "submitted"  # other offices go on
    assert released_later == {"released": []}
    assert office.simulator.sent == []
    # The reviewer can no longer act on them, and every move is in the audit trail.
    assert _approve(office, submitted).status == 409
    now = office.clock.now()
    entries = search(AuditQuery(start=now - timedelta(hours=1), end=now + timedelta(hours=1))).entries
    halted = Counter(
        (e["action"], e["after"].get("cancel_reason") or e["after"].get("stop_reason"))
        for e in entries
        if e["target"] in {f"send_request:{r}" for r in (submitted, approved, sending)}
        and e["action"] in ("send_request.cancel", "send_request.stop")
    )
    assert halted == Counter({("send_request.cancel", SUSPENDED): 2, ("send_request.stop", SUSPENDED): 1})


def test_after_reinstatement_nothing_halted_resumes_and_new_requests_go_out(office):
    cancelled = _propose(office, office.operator, "rongcheng")
    assert _suspend(office).status == 200
    reinstated = office.staff.call("DELETE", "/v1/staff/offices/rongcheng/suspension", token=office.admin.token)
    assert reinstated.status == 200
    assert office.staff.sign_in(office.operator).status == 200  # signed out by the suspension

    fresh = _propose(office, office.operator, "rongcheng")
    assert _approve(office, fresh).status == 200
    assert _approve(office, cancelled).status == 409
    _release()
    office.pump.run()

    assert _request(office, cancelled)["request"]["status"] == "cancelled"
    sent = Counter((m.phone, m.out_id) for m in office.simulator.sent)
    assert set(sent.values()) == {1}
    assert sorted(phone for phone, _ in sent) == sorted(mobile(i) for i in range(6))
    assert {out_id for _, out_id in sent} == {f"send:{fresh}"}


def test_a_request_that_slipped_past_the_suspension_is_neither_approved_nor_released(office, monkeypatch):
    from sms_platform.sources import send_requests
    from sms_platform.sources.send_request_models import HaltedRequests

    approved = _propose(office, office.operator, "rongcheng")
    assert _approve(office, approved).status == 200
    submitted = _propose(office, office.operator, "rongcheng")
    # As if both had been written while the suspension was being recorded: the sweep misses them.
    monkeypatch.setattr(send_requests, "halt_office", lambda ctx, office, *, now: HaltedRequests())
    assert _suspend(office).status == 200

    refused = _approve(office, submitted)
    released = _release()
    office.pump.run()

    assert refused.status == 409 and "已被暂停" in refused.json["error"]["message"]
    assert _request(office, submitted)["request"]["status"] == "submitted"
    assert released == {"released": []}
    cancelled = _request(office, approved)["request"]
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", SUSPENDED)
    assert cancelled["cancelled_by"] is None  # the release schedule, not a person
    assert office.simulator.sent == []
