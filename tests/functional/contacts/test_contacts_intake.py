"""Contacts from service channels and business systems through the real handler on moto
(``POST /v1/contacts/batch`` with an API key): per-record answers, check characters, source
channels granted per key, retries, refusals of malformed and oversized bodies."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from sms_platform.contacts import audiences, channels, lookups
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.staff.context import Office, Role

from infra import template_model
from tests.contacts_support import credit_code, id_number, mobile, person, unit
from tests.events import api_event
from tests.staff_calls import member

NOW = datetime(2024, 6, 3, 1, 30, tzinfo=UTC)
KIOSK_KEY = "key-kiosk-huancui"
HALL_KEY = "key-online-hall"


@pytest.fixture
def intake(aws):
    crypto.reset()
    set_clock(FixedClock(NOW))
    ops = member("ops-1", Office.it, Role.it_ops)
    channels.grant(ops, KIOSK_KEY, "kiosk", now=NOW)
    channels.grant(ops, HALL_KEY, "online_declaration", now=NOW)
    channels.grant(ops, HALL_KEY, "personal_online", now=NOW)
    yield
    set_clock(None)
    crypto.reset()


def post(lambda_context, body=None, *, key=KIOSK_KEY, raw=None):
    import contacts_intake

    event = api_event("POST", "/v1/contacts/batch", body=body, raw_body=raw, api_key_id=key, api_key="secret")
    answer = contacts_intake.handler(event, lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def without_source(record):
    return {**record, "phones": [{k: v for k, v in p.items() if k != "source"} for p in record["phones"]]}


def stored_people() -> int:
    return audiences.count(audiences.Segment(kind="person"))


def test_the_template_routes_the_batch_to_its_function_behind_an_api_key():
    route, _ = template_model.load().match_route("POST", "/v1/contacts/batch")
    assert (route.function, route.authorizer, route.api_key_required) == ("ContactsIntakeFunction", None, True)


def test_each_record_gets_its_own_answer_and_numbers_take_the_keys_channel(intake, lambda_context):
    bad_id = id_number(3)[:17] + ("0" if id_number(3)[17] != "0" else "1")
    bad_code = credit_code(4)[:17] + ("0" if credit_code(4)[17] != "0" else "1")
    batch = [
        without_source(person(1)),
        without_source(unit(2)),
        without_source(person(3, id=bad_id)),
        without_source(unit(4, id=bad_code)),
        without_source(person(5, phones=[{"number": "1390000"}])),
    ]

    status, body = post(lambda_context, {"contacts": batch})

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["created", "created", "rejected", "rejected", "rejected"]
    assert (body["created"], body["rejected"]) == (2, 3)
    assert [r["errors"][0]["field"] for r in body["results"][2:]] == ["id", "id", "phones.0.number"]
    messages = [r["errors"][0]["message"] for r in body["results"][2:4]]
    assert messages == ["身份证号码校验位不正确", "统一社会信用代码校验位不正确"]
    text = json.dumps(body, ensure_ascii=False)
    assert bad_id not in text and bad_code not in text and "1390000" not in text
    saved = lookups.find("person", person(1)["id"])
    assert [(p.source.value, p.masked) for p in saved.phones] == [("kiosk", "139****0001")]
    assert body["results"][0]["ref"] == saved.ref
    assert stored_people() == 1


def test_a_channels_record_with_a_right_to_left_override_in_its_name_is_refused(intake, lambda_context):
    spoof = without_source(person(1, name="参保人\u202e1"))
    hidden = without_source(person(2, phones=[{"number": mobile(2), "contact_name": "\u2067李四"}]))

    status, body = post(lambda_context, {"contacts": [spoof, hidden, without_source(person(3))]})

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected", "created"]
    assert body["results"][0]["errors"] == [{"field": "name", "message": "名称含有不可见的控制字符"}]
    assert body["results"][1]["errors"] == [{"field": "phones.0.contact_name", "message": "联系人含有不可见的控制字符"}]
    assert lookups.find("person", spoof["id"]) is None and lookups.find("person", hidden["id"]) is None
    assert stored_people() == 1


def test_a_retried_batch_gets_the_first_answer_and_changes_nothing(intake, lambda_context):
    batch = {"contacts": [without_source(person(1)), without_source(person(2))]}
    first = post(lambda_context, batch)
    version = lookups.find("person", person(1)["id"]).version

    set_clock(FixedClock(NOW.replace(minute=45)))  # the channel retries a quarter of an hour later
    again = post(lambda_context, batch)

    assert again == first
    assert lookups.find("person", person(1)["id"]).version == version
    assert stored_people() == 2


def test_the_same_records_sent_again_in_a_new_request_come_back_unchanged(intake, lambda_context):
    record = person(1, phones=[{"number": mobile(1), "source": "kiosk", "collected_at": "2024-06-01T10:00:00+08:00"}])
    post(lambda_context, {"contacts": [record]})

    status, body = post(lambda_context, {"contacts": [record, person(2, phones=[{"number": mobile(2)}])]})

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["unchanged", "created"]
    assert stored_people() == 2


def test_a_repeated_batch_without_collection_times_is_answered_unchanged(intake, lambda_context):
    records = [without_source(person(1)), without_source(unit(2))]
    first = post(lambda_context, {"contacts": records})
    version = lookups.find("person", person(1)["id"]).version

    set_clock(FixedClock(NOW.replace(hour=3)))  # hours later, a new request with the same records
    status, body = post(lambda_context, {"contacts": [*records, without_source(person(3))]})

    assert [r["status"] for r in first[1]["results"]] == ["created", "created"]
    assert status == 200
    assert [r["status"] for r in body["results"]] == ["unchanged", "unchanged", "created"]
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 0, 2)
    assert lookups.find("person", person(1)["id"]).version == version


def test_an_older_number_sent_again_becomes_the_number_in_use(intake, lambda_context):
    first, second = {"number": mobile(1)}, {"number": mobile(11)}
    post(lambda_context, {"contacts": [person(1, phones=[{**first, "source": "kiosk"}])]})
    set_clock(FixedClock(NOW.replace(hour=2)))
    post(lambda_context, {"contacts": [person(1, phones=[{**second, "source": "kiosk"}])]})

    set_clock(FixedClock(NOW.replace(hour=3)))  # another body than the first: no idempotent replay
    again = [person(1, phones=[{**first, "source": "kiosk"}]), without_source(person(2))]
    status, body = post(lambda_context, {"contacts": again})

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["updated", "created"]
    assert lookups.find("person", person(1)["id"]).current_phone.masked == "139****0001"


def test_a_number_may_carry_only_a_source_granted_to_the_key(intake, lambda_context):
    hall_number = {"number": mobile(7), "source": "personal_online", "verified": True}
    batch = [person(1, phones=[hall_number]), without_source(person(2)), person(3)]

    status, body = post(lambda_context, {"contacts": batch}, key=HALL_KEY)

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "rejected"]
    # two channels on this key: a number without a source cannot be placed
    assert body["results"][1]["errors"][0]["field"] == "phones.0.source"
    # service_hall is not among this key's channels
    assert body["results"][2]["errors"] == [{"field": "phones.0.source", "message": channels.NOT_GRANTED}]
    assert lookups.find("person", person(3)["id"]) is None


@pytest.mark.parametrize("key", [None, "key-without-grants"])
def test_a_key_without_granted_channels_is_refused(intake, lambda_context, key):
    status, body = post(lambda_context, {"contacts": [without_source(person(1))]}, key=key)

    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert stored_people() == 0


@pytest.mark.parametrize(
    ("body", "raw"),
    [
        pytest.param(None, "{not json", id="not JSON"),
        pytest.param(["contacts"], None, id="a list, not an object"),
        pytest.param({"contacts": "all of them"}, None, id="contacts not a list"),
        pytest.param({"contacts": []}, None, id="no records"),
        pytest.param({"contacts": [person(1)], "dry_run": True}, None, id="unknown field"),
    ],
)
def test_a_malformed_body_gets_422_and_changes_nothing(intake, lambda_context, body, raw):
    status, answer = post(lambda_context, body, raw=raw)

    assert (status, answer["error"]["code"]) == (422, "validation_failed")
    assert stored_people() == 0


def test_more_than_500_records_get_413_and_change_nothing(intake, lambda_context):
    status, answer = post(lambda_context, {"contacts": [without_source(person(i)) for i in range(501)]})

    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    assert stored_people() == 0


def test_the_log_of_a_batch_holds_no_clear_number(intake, lambda_context, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    bad_id = id_number(9)[:17] + ("0" if id_number(9)[17] != "0" else "1")
    post(lambda_context, {"contacts": [without_source(person(8)), without_source(person(9, id=bad_id))]})

    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "contacts batch" in logged
    for clear in (mobile(8), mobile(9), person(8)["id"], bad_id):
        assert clear not in logged


def test_it_operations_grant_and_withdraw_a_keys_channels(staff, lambda_context):
    crypto.reset()
    ops = staff.account(Role.it_ops)
    operator = staff.account(Role.city_operator)
    path = "/v1/staff/contact-grants/key-mobile-app"

    assert staff.call("PUT", f"{path}/mobile_app", token=operator.token).status == 403
    granted = staff.call("PUT", f"{path}/mobile_app", token=ops.token)
    unknown = staff.call("PUT", f"{path}/carrier_pigeon", token=ops.token)
    first = post(lambda_context, {"contacts": [without_source(person(1))]}, key="key-mobile-app")
    withdrawn = staff.call("DELETE", f"{path}/mobile_app", token=ops.token)
    after = post(lambda_context, {"contacts": [without_source(person(2))]}, key="key-mobile-app")

    assert (granted.status, granted.json["sources"]) == (200, ["mobile_app"])
    assert unknown.status == 422
    assert first[0] == 200 and first[1]["created"] == 1
    assert lookups.find("person", person(1)["id"]).phones[0].source.value == "mobile_app"
    assert (withdrawn.status, withdrawn.json["sources"]) == (200, [])
    assert after[0] == 403
    listed = staff.call("GET", path, token=ops.token)
    assert (listed.status, listed.json) == (200, {"api_key_id": "key-mobile-app", "sources": []})
