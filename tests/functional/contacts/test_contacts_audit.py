"""Every staff change to the address book is audited by the service that makes it, through the
staff API on moto: the action, its target, what it changed and the office it concerns.

Given accounts with real tokens (``staff`` fixture), when staff collect, import, opt a number out
and in, upload a list and grant a key's channels, then each change leaves one entry of its own
(and a batch that changed nothing leaves none), with numbers masked.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest
import requests
from sms_platform.foundation import crypto
from sms_platform.staff.context import Office, Role

from tests.contacts_support import mobile, person


@pytest.fixture
def book(staff):
    crypto.reset()
    yield staff
    crypto.reset()


def _entries(action: str) -> list[dict]:
    """The audit entries of one action, with their before and after read back from JSON."""
    items = boto3.resource("dynamodb").Table(os.environ["AUDIT_TABLE"]).scan()["Items"]
    found = [item for item in items if item["action"] == action]
    for item in found:
        for side in ("before", "after"):
            item[side] = json.loads(item[side]) if item.get(side) else None
    return found


def test_a_batch_is_audited_with_its_counts_and_a_repeat_that_changed_nothing_is_not(book):
    district = book.account(Role.district_operator, office=Office.wendeng)
    batch = {"contacts": [person(1), person(2, district="rushan")]}

    book.call("POST", "/v1/staff/contacts/batch", token=district.token, body=batch)
    book.call("POST", "/v1/staff/contacts/batch", token=district.token, body=batch)

    [entry] = _entries("contacts.upsert")
    assert (entry["target"], entry["office"], entry["before"]) == ("contacts:batch", "wendeng", None)
    assert entry["after"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert entry["actor"]["username"] == district.username


def test_an_import_is_audited_when_created_and_when_started(book):
    operator = book.account(Role.city_operator)
    created = book.call("POST", "/v1/staff/contacts/imports", token=operator.token)
    import_id = created.json["import_id"]
    put = requests.put(
        created.json["upload_url"], data=b"kind,id,name,district,phone\n", headers=created.json["headers"], timeout=10
    )
    assert put.status_code == 200
    started = book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)

    assert (created.status, started.status) == (201, 202)
    for action in ("contacts.import.create", "contacts.import.start"):
        [entry] = _entries(action)
        assert (entry["target"], entry["office"]) == (f"contacts-import:{import_id}", "city")
        assert (entry["before"], entry["after"]) == (None, None)


def test_an_import_of_another_office_is_refused_and_not_audited(book):
    city = book.account(Role.city_operator)
    district = book.account(Role.district_operator, office=Office.wendeng)
    import_id = book.call("POST", "/v1/staff/contacts/imports", token=city.token).json["import_id"]

    refused = book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=district.token)
    progress = book.call("GET", f"/v1/staff/contacts/imports/{import_id}", token=district.token)

    assert (refused.status, progress.status) == (403, 403)
    assert _entries("contacts.import.start") == []


def test_opting_out_and_in_is_audited_with_the_masked_number_and_the_reason(book):
    agent = book.account(Role.hotline_agent)
    body = {"phone": mobile(7), "reason": " 本人来电要求退订 "}

    out = book.call("POST", "/v1/staff/contacts/opt-outs", token=agent.token, body=body)
    back = book.call("POST", "/v1/staff/contacts/opt-ins", token=agent.token, body={**body, "reason": "本人申请恢复"})

    assert out.json == {
        "phone_masked": "139****0007",
        "opted_out": True,
        "changed_at": out.json["changed_at"],
        "applied": True,
    }
    assert back.json["opted_out"] is False
    [opted_out] = _entries("contacts.opt_out")
    [opted_in] = _entries("contacts.opt_in")
    assert (opted_out["target"], opted_out["office"]) == ("phone:139****0007", agent.office.value)
    assert opted_out["after"] == {"opted_out": True, "reason": "本人来电要求退订", "applied": True}
    assert opted_in["after"] == {"opted_out": False, "reason": "本人申请恢复", "applied": True}
    assert mobile(7) not in json.dumps([opted_out, opted_in], default=str)


def test_an_audience_list_is_audited_when_created_and_when_completed_with_its_count(book):
    operator = book.account(Role.city_operator)
    created = book.call("POST", "/v1/staff/audiences/lists", token=operator.token, body={"kind": "person"})
    list_id = created.json["list_id"]
    lines = [person(1)["id"], person(2)["id"], "not-an-id"]
    put = requests.put(
        created.json["upload_url"], data="\n".join(lines).encode(), headers=created.json["headers"], timeout=10
    )
    assert put.status_code == 200
    completed = book.call("POST", f"/v1/staff/audiences/lists/{list_id}/complete", token=operator.token)

    assert list(created.json) == ["list_id", "upload_url", "headers", "expires_in"]
    assert completed.json == {"list_id": list_id, "kind": "person", "count": 2, "invalid": 1}
    [made] = _entries("audience.list.create")
    [checked] = _entries("audience.list.complete")
    assert (made["target"], made["office"], made["after"]) == (f"audience-list:{list_id}", "city", None)
    assert (checked["target"], checked["office"]) == (f"audience-list:{list_id}", "city")
    assert (checked["before"], checked["after"]) == (None, {"count": 2})


def test_granting_and_withdrawing_a_keys_channel_is_audited_with_its_sources_before_and_after(book):
    ops = book.account(Role.it_ops)
    path = "/v1/staff/contact-grants/key-kiosk"

    book.call("PUT", f"{path}/kiosk", token=ops.token)
    book.call("PUT", f"{path}/自助终端", token=ops.token)  # the same channel by its name
    book.call("PUT", f"{path}/mobile_app", token=ops.token)
    book.call("DELETE", f"{path}/kiosk", token=ops.token)
    book.call("PUT", f"{path}/carrier_pigeon", token=ops.token)  # refused: not a channel

    added = _entries("contact_grant.add")
    [removed] = _entries("contact_grant.remove")
    assert len(added) == 3 and {entry["target"] for entry in added} == {"api_key:key-kiosk"}
    assert sorted((e["before"]["sources"], e["after"]["sources"]) for e in added) == [
        ([], ["kiosk"]),
        (["kiosk"], ["kiosk"]),
        (["kiosk"], ["kiosk", "mobile_app"]),
    ]
    assert (removed["before"], removed["after"]) == ({"sources": ["kiosk", "mobile_app"]}, {"sources": ["mobile_app"]})
    assert removed["office"] == "it"
