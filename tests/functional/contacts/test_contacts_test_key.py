"""A channel's test key posting contacts (CONTRACTS §7) through the real handler on moto: it is
checked against its live twin's granted channels and answered record by record exactly as the
twin would be against the address book as it is, with ``"test": true``, and nothing it sends
reaches the address book."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from sms_platform.contacts import channels, lookups
from sms_platform.sources import caller_keys
from sms_platform.staff.context import Office, Role

from tests.contacts_support import id_number, mobile, person, unit
from tests.functional.contacts.test_contacts_intake import (  # noqa: F401 - the fixture is named as an argument
    KIOSK_KEY,
    NOW,
    intake,
    post,
    stored_people,
    without_source,
)
from tests.staff_calls import member

TEST_KEY = "key-kiosk-huancui-test"
OPS = member("ops-1", Office.it, Role.it_ops)


def twin_test_key() -> None:
    caller_keys.register(OPS, TEST_KEY, kind="test", name="kiosk", twin=KIOSK_KEY, now=NOW)


def test_a_test_keys_batch_is_answered_as_its_twins_would_be_and_writes_nothing(intake, lambda_context):
    twin_test_key()
    post(lambda_context, {"contacts": [without_source(person(1)), without_source(unit(2))]})
    saved = lookups.find("person", person(1)["id"])
    bad_id = id_number(5)[:17] + ("0" if id_number(5)[17] != "0" else "1")
    batch = {"contacts": [
        without_source(person(1)),  # as held: unchanged
        without_source(unit(2, name="威海市改名有限公司")),  # renamed: updated
        without_source(person(3)),  # new: created
        without_source(person(3, phones=[{"number": mobile(33)}])),  # its second number, built on the first
        without_source(person(5, id=bad_id)),  # a wrong check character
        person(6, phones=[{"number": mobile(6), "source": "mobile_app"}]),  # not the twin's channel
    ]}  # fmt: skip

    status, answer = post(lambda_context, batch, key=TEST_KEY)

    assert status == 200 and answer["test"] is True
    assert [r["status"] for r in answer["results"]] == [
        "unchanged", "updated", "created", "updated", "rejected", "rejected",
    ]  # fmt: skip
    assert (answer["created"], answer["updated"], answer["unchanged"], answer["rejected"]) == (1, 2, 1, 2)
    assert answer["results"][5]["errors"] == [{"field": "phones.0.source", "message": channels.NOT_GRANTED}]
    # Nothing reached the address book: no new person, the unit keeps its name, the record its version.
    assert stored_people() == 1
    assert lookups.find("person", person(3)["id"]) is None
    assert lookups.find("unit", unit(2)["id"]).name == unit(2)["name"]
    assert lookups.find("person", person(1)["id"]).version == saved.version

    # The live twin, sending the same batch against the same records, gets the same answer.
    live_status, live = post(lambda_context, batch)
    assert (live_status, {**live, "test": True}) == (status, answer)
    assert stored_people() == 2 and lookups.find("unit", unit(2)["id"]).name == "威海市改名有限公司"


def test_a_test_key_sending_the_same_batch_again_still_finds_it_new(intake, lambda_context):
    twin_test_key()
    batch = {"contacts": [without_source(person(1))]}

    first = post(lambda_context, batch, key=TEST_KEY)
    later = post(lambda_context, {"contacts": [without_source(person(1)), without_source(person(2))]}, key=TEST_KEY)

    assert first == (200, {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "test": True,
                           "results": [{"index": 0, "status": "created", "ref": first[1]["results"][0]["ref"],
                                        "errors": []}]})  # fmt: skip
    assert [r["status"] for r in later[1]["results"]] == ["created", "created"]
    assert stored_people() == 0


def test_a_test_key_whose_twin_has_no_channel_is_refused_as_the_twin_is(intake, lambda_context):
    caller_keys.register(OPS, TEST_KEY, kind="test", name="kiosk", twin="key-without-grants", now=NOW)

    status, answer = post(lambda_context, {"contacts": [without_source(person(1))]}, key=TEST_KEY)

    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert stored_people() == 0
