"""The district offices' worklists of numbers to verify, through the staff API and the channels on
moto: who sees which list, the counts, and how every channel takes a record off it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sms_platform.contacts import channels, collection, lookups, number_checks
from sms_platform.foundation import crypto
from sms_platform.sending import number_health, outbox
from sms_platform.sending.messages import message_id
from sms_platform.staff.context import Office, Role

from tests.contacts_support import mobile, person
from tests.events import api_event
from tests.functional.sending.test_operations import audited
from tests.functional.sends_support import (
    CITY_OPERATOR,
    HUANCUI,
    REVIEWER,
    WENDENG,
    add_people,
    sends,  # noqa: F401
)
from tests.staff_calls import call, member

HALL_KEY = "key-online-hall"


def mark(phone: str, *codes: str) -> None:
    """``phone`` failed permanently once per code, each in a send of its own, as the receipts
    worker records it: the number is marked and its records join their worklists."""
    from sms_platform.foundation.clock import get_clock

    phone_hash = crypto.keyed_hash(phone)
    now = get_clock().now()
    for index, code in enumerate(codes):
        source = f"send:r{index}"
        message = {
            "message_id": message_id(source, phone_hash), "phone_hash": phone_hash,
            "phone_masked": f"{phone[:3]}****{phone[-4:]}", "source_id": source, "kind": "targeted",
            "template_id": "t1", "error_code": code, "state": "failed", "created_at": now.isoformat(),
        }  # fmt: skip
        number_health.note_failure(message, at=now)
        now += timedelta(hours=1)
    number_checks.flag_numbers([phone_hash], now=now)


def worklist(who, **query):
    return call(who, "GET", "/v1/staff/number-checks", query=query or None)


def refs(answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [entry["ref"] for entry in answer.body["entries"]]


def test_each_district_sees_its_own_numbers_to_verify_with_the_reasons_and_counts(sends):  # noqa: F811
    add_people(3)
    add_people(2, district="huancui", start=100)
    mark(mobile(0), "DB:0101", "UNDELIV")
    mark(mobile(100), "MI:0073", "DB:0101")
    mark(mobile(1), "DB:0101")  # once: not yet

    own = worklist(WENDENG)
    other = worklist(HUANCUI)
    peek = worklist(HUANCUI, district="wendeng")
    city = worklist(CITY_OPERATOR, district="文登区")
    unnamed = worklist(CITY_OPERATOR)
    counts = call(WENDENG, "GET", "/v1/staff/number-checks/counts")
    all_counts = call(REVIEWER, "GET", "/v1/staff/number-checks/counts")

    person0 = lookups.find("person", person(0)["id"])
    assert refs(own) == [person0.ref] and refs(city) == [person0.ref]
    entry = own.body["entries"][0]
    assert entry["name"] == "参保人0" and entry["phone_masked"] == "139****0000"
    assert entry["id_masked"] == person0.id_masked and entry["district_name"] == "文登区"
    assert [(f["reason"], f["error_code"]) for f in entry["failures"]] == [("空号", "DB:0101"), ("停机", "UNDELIV")]
    assert [f["request_id"] for f in entry["failures"]] == ["r0", "r1"]
    assert entry["since"] == (sends.clock.now() + timedelta(hours=1)).isoformat()  # when the second failure came
    assert refs(other) == [lookups.find("person", person(100)["id"]).ref]
    assert peek.status == 403 and peek.error["message"] == "只能查看和维护本区县的通讯录"
    assert unnamed.status == 422 and unnamed.error["field"] == "district"
    assert counts.body == {"total": 1, "districts": [{"district": "wendeng", "district_name": "文登区", "count": 1}]}
    assert all_counts.body["total"] == 2 and len(all_counts.body["districts"]) == 8
    for answer in (own, other, city, counts):
        assert mobile(0) not in json.dumps(answer.body) and mobile(100) not in json.dumps(answer.body)


def test_staff_confirm_a_number_or_enter_a_new_one_and_sends_reach_the_person_again(sends):  # noqa: F811
    add_people(3)
    for seq in (0, 1):
        mark(mobile(seq), "DB:0101", "DB:0101")
    first, second = (lookups.find("person", person(seq)["id"]).ref for seq in (0, 1))
    sends.clock.advance(seconds=86400)  # staff reach the people the next day

    confirmed = call(WENDENG, "POST", f"/v1/staff/number-checks/{first}/confirmation")
    same = call(WENDENG, "POST", f"/v1/staff/number-checks/{second}/new-number", {"phone": mobile(1)})
    bad = call(WENDENG, "POST", f"/v1/staff/number-checks/{second}/new-number", {"phone": "1390000"})
    elsewhere = call(HUANCUI, "POST", f"/v1/staff/number-checks/{second}/new-number", {"phone": mobile(500)})
    replaced = call(WENDENG, "POST", f"/v1/staff/number-checks/{second}/new-number", {"phone": mobile(500)})
    not_listed = call(WENDENG, "POST", f"/v1/staff/number-checks/{first}/confirmation")
    for seq, phone in ((0, mobile(0)), (1, mobile(500))):
        outbox.enqueue("targeted", f"after-{seq}", "wendeng", "文登区社保中心", template_code="SMS_1", template_id="t1",
                       template_version=1, parts=1, recipients=[(phone, None)])  # fmt: skip
    sends.pump.run()

    assert confirmed.status == 200, confirmed.body
    assert confirmed.body == {"ref": first, "action": "confirmed", "phone_masked": "139****0000",
                              "previous_masked": None, "on_worklist": False}  # fmt: skip
    assert same.status == 422 and same.error["field"] == "phone"
    assert bad.status == 422 and bad.error["message"].startswith("手机号码格式不正确")
    assert elsewhere.status == 404
    assert replaced.status == 200, replaced.body
    assert (replaced.body["phone_masked"], replaced.body["previous_masked"]) == ("139****0500", "139****0001")
    assert not_listed.status == 409 and not_listed.error["message"] == "这条记录的号码不在待核实名单中"
    assert refs(worklist(WENDENG)) == []
    assert not number_health.state(crypto.keyed_hash(mobile(0)))["unverified"]  # verified: sent to again
    assert number_health.state(crypto.keyed_hash(mobile(1)))["unverified"]  # replaced: still gone
    assert [crypto.decrypt(r.phone_token) for r in lookups.recipients_of("person", person(1)["id"])] == [mobile(500)]
    assert sorted(m.phone for m in sends.simulator.sent) == [mobile(0), mobile(500)]
    done = audited("number_check.confirmed", sends.clock) + audited("number_check.replaced", sends.clock)
    assert [(e["target"], e["before"]["phone"], e["after"]["phone"]) for e in done] == [
        (f"contact:{first}", "139****0000", "139****0000"),
        (f"contact:{second}", "139****0001", "139****0500"),
    ]


@pytest.fixture
def hall_key(sends):  # noqa: F811
    channels.grant(member("ops-1", Office.it, Role.it_ops), HALL_KEY, "online_declaration", now=sends.clock.now())


def through_channel(lambda_context, records: list[dict]) -> dict:
    import contacts_intake

    event = api_event("POST", "/v1/contacts/batch", body={"contacts": records}, api_key_id=HALL_KEY, api_key="k")
    answer = contacts_intake.handler(event, lambda_context)
    assert answer["statusCode"] == 200, answer["body"]
    return json.loads(answer["body"])


def test_every_channel_takes_a_record_off_the_list_by_a_new_or_verified_number(sends, hall_key, lambda_context):  # noqa: F811
    unverified = {"source": "service_hall", "verified": False}
    for seq in range(4):
        add_people(1, start=seq, phones=[{"number": mobile(seq), **unverified}])
        mark(mobile(seq), "DB:0101", "UNDELIV")
    listed = set(refs(worklist(WENDENG)))
    sends.clock.advance(seconds=86400)
    now = sends.clock.now().isoformat()

    # The same data again (a monthly import of what the book already holds) changes nothing.
    again = collection.upsert_batch([person(0, phones=[{"number": mobile(0), **unverified}])], at=sends.clock.now())
    # A service channel brings a new number for the second; the staff batch verifies the third's.
    channel = through_channel(
        lambda_context, [person(1, phones=[{"number": mobile(601), "source": "online_declaration"}])]
    )
    verified = [{"number": mobile(2), "source": "service_hall", "verified": True, "collected_at": now}]
    staff = call(WENDENG, "POST", "/v1/staff/contacts/batch", {"contacts": [person(2, phones=verified)]})
    # A record imported later with a number already marked joins the list at once.
    late = collection.upsert_batch(
        [person(700, phones=[{"number": mobile(3), "source": "import", "verified": False}])], at=sends.clock.now()
    )

    people = {seq: lookups.find("person", person(seq)["id"]).ref for seq in (0, 1, 2, 3, 700)}
    assert listed == {people[0], people[1], people[2], people[3]}
    assert [r.status for r in again] == ["unchanged"]
    assert channel["updated"] == 1 and staff.status == 200 and staff.body["updated"] == 1
    assert [r.status for r in late] == ["created"]
    assert set(refs(worklist(WENDENG))) == {people[0], people[3], people[700]}
    assert not number_health.state(crypto.keyed_hash(mobile(2)))["unverified"]
    assert number_health.state(crypto.keyed_hash(mobile(1)))["unverified"]
