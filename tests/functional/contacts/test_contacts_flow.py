"""The address book through the staff API and the import worker, on moto built from template.yaml.

Given accounts with real tokens (``staff`` fixture), when staff collect, import, look up, reveal
and opt out, then they see masked numbers only (except an audited reveal), district offices stay
in their district, audiences are counted and expanded, and no clear number reaches a log.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os

import boto3
import pytest
import requests
from sms_platform.contacts import audiences, imports
from sms_platform.foundation import crypto
from sms_platform.sending import optouts
from sms_platform.staff.context import Office, Role

from tests.contacts_support import id_number, mobile, person, unit
from tests.events import sqs_event


@pytest.fixture
def book(staff):
    crypto.reset()
    yield staff
    crypto.reset()


def _count(book, token, **segment) -> int:
    answer = book.call("POST", "/v1/staff/audiences/count", token=token, body=segment)
    assert answer.status == 200, answer.text
    return answer.json["count"]


def _run_work_queue(lambda_context, *, repeat_first: bool = False) -> int:
    """Feed the work queue's messages to the import worker as SQS would, until it is empty."""
    import imports as worker  # the handler module of ImportWorkerFunction

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = os.environ["WORK_QUEUE_URL"]
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            bodies = [message["Body"]] * (2 if repeat_first and handled == 1 else 1)
            for body in bodies:
                answer = worker.handler(sqs_event([body]), lambda_context)
                assert answer == {"batchItemFailures": []}
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1


def test_batch_upsert_answers_each_record_and_repeating_it_changes_nothing(book):
    operator = book.account(Role.city_operator)
    batch = [person(1), person(2), unit(3), person(4, id=id_number(4)[:17] + "Y")]

    first = book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": batch})
    again = book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": batch})

    assert first.status == 200, first.text
    assert [r["status"] for r in first.json["results"]] == ["created", "created", "created", "rejected"]
    assert first.json["results"][3]["errors"][0]["field"] == "id"
    assert [r["status"] for r in again.json["results"]] == ["unchanged", "unchanged", "unchanged", "rejected"]
    assert _count(book, operator.token, kind="person") == 2
    assert _count(book, operator.token, kind="unit", districts=["环翠区"]) == 1


def test_a_record_whose_name_hides_a_direction_override_is_refused_and_nothing_is_stored(book):
    from sms_platform.contacts import lookups

    operator = book.account(Role.city_operator)
    spoof = person(1, name="参保人\u202e1")  # displays as another name
    hidden = unit(2, phones=[{"number": mobile(2), "source": "kiosk", "contact_name": "王\x00经办"}])
    batch = [spoof, hidden, person(3, name="参保人\u200b3"), person(4, employer="威海\x1b[31m公司")]

    answer = book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": batch})

    assert answer.status == 200, answer.text
    assert (answer.json["created"], answer.json["rejected"]) == (0, 4)
    assert [r["errors"] for r in answer.json["results"]] == [
        [{"field": "name", "message": "名称含有不可见的控制字符"}],
        [{"field": "phones.0.contact_name", "message": "联系人含有不可见的控制字符"}],
        [{"field": "name", "message": "名称含有不可见的控制字符"}],
        [{"field": "employer", "message": "工作单位含有不可见的控制字符"}],
    ]
    assert lookups.find("person", spoof["id"]) is None and lookups.find("unit", hidden["id"]) is None
    assert _count(book, operator.token, kind="person") == 0 and _count(book, operator.token, kind="unit") == 0


def test_counters_follow_a_record_that_changes_district_insurance_or_tags(book):
    operator = book.account(Role.city_operator)
    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": [person(1), person(2)]})
    moved = person(1, district="rushan", insurance_types=["pension", "medical"], tags=["退休"])
    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": [moved]})

    assert _count(book, operator.token, kind="person", districts=["wendeng"]) == 1
    assert _count(book, operator.token, kind="person", districts=["rushan"]) == 1
    assert _count(book, operator.token, kind="person", insurance_type="medical") == 1
    assert _count(book, operator.token, kind="person", insurance_type="pension") == 2
    assert _count(book, operator.token, kind="person", tag="退休", insurance_type="medical") == 1
    assert _count(book, operator.token, kind="person", tag="退休", insurance_type="maternity") == 0


def test_audience_expands_in_chunks_to_one_recipient_per_number(book):
    from sms_platform.contacts import collection
    from sms_platform.foundation.clock import get_clock

    shared = {"number": mobile(999), "source": "grassroots", "verified": True}
    records = [person(i) for i in range(40)] + [person(100 + i, phones=[shared]) for i in range(3)]
    records += [person(200 + i, district="rushan") for i in range(5)]
    results = collection.upsert_batch(records, at=get_clock().now())
    assert all(r.status == "created" for r in results)

    segment = audiences.Segment(kind="person", districts=["wendeng"])
    assert audiences.count(segment) == 43
    chunks = audiences.plan_chunks(segment, 7)
    recipients = [r for chunk in chunks for r in audiences.iter_chunk(segment, chunk)]

    assert len(recipients) == 41  # 40 own numbers and the shared one once
    assert len({r.phone_hash for r in recipients}) == 41
    assert {r.district for r in recipients} == {"wendeng"}
    assert crypto.decrypt(next(r for r in recipients if r.phone_masked == "139****0999").phone_token) == mobile(999)


def test_uploaded_list_becomes_an_audience(book):
    from sms_platform.contacts import collection
    from sms_platform.foundation.clock import get_clock

    operator = book.account(Role.city_operator)
    collection.upsert_batch([person(i) for i in range(6)], at=get_clock().now())
    created = book.call("POST", "/v1/staff/audiences/lists", token=operator.token, body={"kind": "person"})
    assert created.status == 201, created.text
    lines = [person(i)["id"] for i in range(4)] + ["not-an-id", id_number(77, birth="19900101")]
    put = requests.put(
        created.json["upload_url"], data="\n".join(lines).encode(), headers=created.json["headers"], timeout=10
    )
    assert put.status_code == 200
    list_id = created.json["list_id"]

    completed = book.call("POST", f"/v1/staff/audiences/lists/{list_id}/complete", token=operator.token)
    segment = audiences.Segment(kind="person", list_id=list_id)
    found = [r for chunk in audiences.plan_chunks(segment, 3) for r in audiences.iter_chunk(segment, chunk)]

    assert completed.json["count"] == 5 and completed.json["invalid"] == 1
    assert _count(book, operator.token, kind="person", list_id=list_id) == 5
    assert sorted(r.name for r in found) == [f"参保人{i}" for i in range(4)]  # the unknown ID is skipped


def _upload_import(book, token, rows: list[list[str]], header=("kind", "id", "name", "district", "phone")) -> str:
    created = book.call("POST", "/v1/staff/contacts/imports", token=token)
    assert created.status == 201, created.text
    out = io.StringIO()
    csv.writer(out).writerows([list(header), *rows])
    put = requests.put(
        created.json["upload_url"], data=out.getvalue().encode("utf-8"), headers=created.json["headers"], timeout=10
    )
    assert put.status_code == 200
    return created.json["import_id"]


def test_csv_import_runs_in_background_chunks_with_progress_and_a_masked_report(book, lambda_context, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    operator = book.account(Role.city_operator)
    bad_id = id_number(5)[:17] + ("0" if id_number(5)[17] != "0" else "1")
    rows = [["person", person(i)["id"], f"参保人{i}", "文登区", mobile(i)] for i in range(7)]
    rows[4] = ["person", bad_id, "参保人5", "文登区", mobile(5)]
    rows[6] = ["person", person(6)["id"], "参保人6", "文登区", "1390000"]
    import_id = _upload_import(book, operator.token, rows)

    started = book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)
    before = book.call("GET", f"/v1/staff/contacts/imports/{import_id}/report", token=operator.token)
    _run_work_queue(lambda_context, repeat_first=True)  # one chunk delivered twice
    progress = book.call("GET", f"/v1/staff/contacts/imports/{import_id}", token=operator.token).json
    report = book.call("GET", f"/v1/staff/contacts/imports/{import_id}/report", token=operator.token)
    content = requests.get(report.json["url"], timeout=10).content.decode("utf-8-sig")

    assert started.status == 202 and started.json["status"] == "queued"
    assert before.status == 409
    assert progress["status"] == "done" and progress["chunks"] == 3
    assert (progress["rows_total"], progress["rows_done"], progress["accepted"], progress["rejected"]) == (7, 7, 5, 2)
    report_rows = list(csv.reader(io.StringIO(content)))
    assert report_rows[0] == imports.REPORT_HEADER
    assert [row[0] for row in report_rows[1:]] == ["6", "8"]  # file lines (the header is line 1)
    assert "校验位" in report_rows[1][4] and "手机号码" in report_rows[2][4]
    assert bad_id not in content and mobile(5) not in content
    assert report_rows[1][3] == "139****0005"
    assert _count(book, operator.token, kind="person", districts=["wendeng"]) == 5


def test_a_rejected_row_report_holds_no_cell_a_spreadsheet_would_run(book, lambda_context):
    operator = book.account(Role.city_operator)
    rows = [
        ["person", person(0)["id"], "参保人0", "文登区", mobile(0)],
        ["=cmd|' /C calc'!A0", person(1)["id"], "参保人1", "文登区", mobile(1)],
        ["person", "@SUM(1+9)*cmd|' /C calc'!A0", "参保人2", "文登区", mobile(2)],
        ["unit", '+HYPERLINK("http://x.cn")', "某公司", "文登区", "-1+cmd|' /C calc'!A0"],
    ]
    import_id = _upload_import(book, operator.token, rows)
    book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)
    _run_work_queue(lambda_context)
    report = book.call("GET", f"/v1/staff/contacts/imports/{import_id}/report", token=operator.token)
    assert report.status == 200, report.text
    content = requests.get(report.json["url"], timeout=10).content.decode("utf-8-sig")

    report_rows = list(csv.reader(io.StringIO(content)))
    assert [row[0] for row in report_rows[1:]] == ["3", "4", "5"]
    assert report_rows[1][1] == "'=cmd|' /C calc'!A0"  # shown as text, as it came
    assert report_rows[2][2].startswith("'@SU") and report_rows[2][2].endswith("A0")  # masked, then neutralised
    assert report_rows[3][2].startswith("'+HY") and report_rows[3][3].startswith("'-1+")
    cells = [cell for row in report_rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_an_imported_row_with_a_control_character_in_its_name_is_reported_and_not_stored(book, lambda_context):
    operator = book.account(Role.city_operator)
    rows = [
        ["person", person(1)["id"], "参保人1", "文登区", mobile(1)],
        ["person", person(2)["id"], "\u202e2人保参", "文登区", mobile(2)],
        ["person", person(3)["id"], "参保\x07人3", "文登区", mobile(3)],
    ]
    import_id = _upload_import(book, operator.token, rows)

    book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)
    _run_work_queue(lambda_context)
    progress = book.call("GET", f"/v1/staff/contacts/imports/{import_id}", token=operator.token).json
    report = book.call("GET", f"/v1/staff/contacts/imports/{import_id}/report", token=operator.token)
    report_rows = list(
        csv.reader(io.StringIO(requests.get(report.json["url"], timeout=10).content.decode("utf-8-sig")))
    )

    assert (progress["status"], progress["accepted"], progress["rejected"]) == ("done", 1, 2)
    assert [(row[0], row[4]) for row in report_rows[1:]] == [("3", "名称：名称含有不可见的控制字符"),
                                                             ("4", "名称：名称含有不可见的控制字符")]  # fmt: skip
    assert _count(book, operator.token, kind="person") == 1


def test_import_without_upload_or_with_missing_columns_is_refused_clearly(book, lambda_context):
    operator = book.account(Role.city_operator)
    created = book.call("POST", "/v1/staff/contacts/imports", token=operator.token).json
    not_uploaded = book.call("POST", f"/v1/staff/contacts/imports/{created['import_id']}/start", token=operator.token)
    import_id = _upload_import(book, operator.token, [["person", person(1)["id"]]], header=("kind", "id"))
    book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)
    _run_work_queue(lambda_context)
    progress = book.call("GET", f"/v1/staff/contacts/imports/{import_id}", token=operator.token).json

    assert not_uploaded.status == 409 and not_uploaded.error_code == "conflict"
    assert progress["status"] == "failed" and "手机号码" in progress["error"]


def test_staff_see_masked_numbers_everywhere(book):
    operator = book.account(Role.city_operator)
    record = unit(1, phones=[{"number": mobile(11), "source": "kiosk", "contact_name": "王"}])
    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": [record]})

    listed = book.call("GET", "/v1/staff/contacts", token=operator.token, query={"kind": "unit", "district": "huancui"})
    searched = book.call("POST", "/v1/staff/contacts/search", token=operator.token, body={"phone": mobile(11)})
    by_id = book.call(
        "POST", "/v1/staff/contacts/search", token=operator.token, body={"kind": "unit", "id": record["id"]}
    )
    ref = listed.json["contacts"][0]["ref"]
    detail = book.call("GET", f"/v1/staff/contacts/{ref}", token=operator.token)

    for answer in (listed, searched, by_id, detail):
        assert answer.status == 200, answer.text
        assert mobile(11) not in answer.text and record["id"] not in answer.text
    assert searched.json["contacts"][0]["phone_masked"] == "139****0011"
    assert by_id.json["contacts"][0]["id_masked"] == record["id"][:6] + "********" + record["id"][-4:]
    assert detail.json["phones"][0] == {
        "phone_masked": "139****0011",
        "source": "kiosk",
        "source_name": "自助终端",
        "collected_at": detail.json["phones"][0]["collected_at"],
        "verified": False,
        "contact_name": "王",
        "in_use": True,
    }


def test_revealing_a_number_needs_the_right_and_a_reason_and_is_audited(book):
    operator = book.account(Role.city_operator)
    revealer = book.account(Role.phone_reveal)
    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": [person(1)]})
    ref = book.call("POST", "/v1/staff/contacts/search", token=operator.token, body={"phone": mobile(1)}).json[
        "contacts"
    ][0]["ref"]

    refused = book.call(
        "POST", f"/v1/staff/contacts/{ref}/reveal", token=operator.token, body={"reason": "核对身份信息"}
    )
    no_reason = book.call("POST", f"/v1/staff/contacts/{ref}/reveal", token=revealer.token, body={"reason": "看"})
    shown = book.call(
        "POST", f"/v1/staff/contacts/{ref}/reveal", token=revealer.token, body={"reason": "本人来电核对号码"}
    )

    assert refused.status == 403
    assert no_reason.status == 422 and "事由" in no_reason.json["error"]["message"]
    assert shown.status == 200 and shown.json["phone"] == mobile(1)
    audit_items = boto3.resource("dynamodb").Table(os.environ["AUDIT_TABLE"]).scan()["Items"]
    reveals = [item for item in audit_items if item.get("action") == "contact.reveal"]
    assert len(reveals) == 1
    assert "本人来电核对号码" in reveals[0]["after"] and "139****0001" in reveals[0]["after"]
    assert mobile(1) not in json.dumps(audit_items, default=str)


def test_a_district_operator_works_on_its_own_district_only(book):
    city = book.account(Role.city_operator)
    district = book.account(Role.district_operator, office=Office.wendeng)
    book.call("POST", "/v1/staff/contacts/batch", token=city.token, body={"contacts": [person(1, district="rushan")]})
    rushan_ref = book.call("POST", "/v1/staff/contacts/search", token=city.token, body={"phone": mobile(1)}).json[
        "contacts"
    ][0]["ref"]

    written = book.call(
        "POST",
        "/v1/staff/contacts/batch",
        token=district.token,
        body={"contacts": [person(2), person(3, district="rushan")]},
    )
    moved = book.call("POST", "/v1/staff/contacts/batch", token=district.token, body={"contacts": [person(1)]})
    other = book.call("GET", f"/v1/staff/contacts/{rushan_ref}", token=district.token)
    listing = book.call(
        "GET", "/v1/staff/contacts", token=district.token, query={"kind": "person", "district": "rushan"}
    )
    search = book.call("POST", "/v1/staff/contacts/search", token=district.token, body={"phone": mobile(1)})

    assert [r["status"] for r in written.json["results"]] == ["created", "rejected"]
    assert written.json["results"][1]["errors"][0]["message"] == "只能维护本区县的通讯录"
    assert moved.json["results"][0]["status"] == "rejected"  # cannot pull a record out of another district
    assert other.status == 404
    assert listing.status == 403
    assert search.json["contacts"] == []
    assert _count(book, district.token, kind="person") == 1  # its own district, whatever it asks
    assert (
        book.call(
            "POST", "/v1/staff/audiences/count", token=district.token, body={"kind": "person", "districts": ["rushan"]}
        ).status
        == 403
    )


def test_opt_out_and_back_in_on_a_citizens_request(book):
    operator = book.account(Role.city_operator)
    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": [person(1)]})
    phone_hash = crypto.keyed_hash(mobile(1))

    out = book.call(
        "POST",
        "/v1/staff/contacts/opt-outs",
        token=operator.token,
        body={"phone": mobile(1), "reason": "本人来电要求退订"},
    )
    was_out = optouts.is_opted_out(phone_hash)
    bad = book.call(
        "POST", "/v1/staff/contacts/opt-outs", token=operator.token, body={"phone": "12345", "reason": "本人要求"}
    )
    back = book.call(
        "POST", "/v1/staff/contacts/opt-ins", token=operator.token, body={"phone": mobile(1), "reason": "本人申请恢复"}
    )

    assert out.status == 200 and out.json["phone_masked"] == "139****0001" and mobile(1) not in out.text
    assert was_out is True
    assert bad.status == 422 and "12345" not in bad.text
    assert back.json["opted_out"] is False and optouts.is_opted_out(phone_hash) is False
    assert optouts.state(phone_hash)["reason"] == "本人申请恢复"


def test_logs_of_a_full_flow_hold_no_clear_number(book, lambda_context, caplog, monkeypatch):
    """Logs as the functions write them (the platform's JSON logger and every library logger at
    the template's level, INFO) over upsert, import, search, reveal and opt-out."""
    from sms_platform.foundation.observability import logger

    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    caplog.set_level(logging.INFO)
    platform_log = io.StringIO()
    monkeypatch.setattr(logger().registered_handler, "stream", platform_log)
    operator = book.account(Role.city_operator)
    revealer = book.account(Role.phone_reveal)
    used = [person(1), person(2, district="rushan"), unit(3)]
    rows = [["person", person(i)["id"], f"参保人{i}", "wendeng", mobile(i)] for i in range(10, 14)]
    rows.append(["person", id_number(14)[:17] + "Y", "坏行", "wendeng", "13912345"])

    book.call("POST", "/v1/staff/contacts/batch", token=operator.token, body={"contacts": used})
    import_id = _upload_import(book, operator.token, rows)
    book.call("POST", f"/v1/staff/contacts/imports/{import_id}/start", token=operator.token)
    _run_work_queue(lambda_context)
    found = book.call("POST", "/v1/staff/contacts/search", token=operator.token, body={"phone": mobile(1)})
    book.call("POST", "/v1/staff/contacts/search", token=operator.token, body={"kind": "person", "id": person(2)["id"]})
    ref = found.json["contacts"][0]["ref"]
    revealed = book.call(
        "POST", f"/v1/staff/contacts/{ref}/reveal", token=revealer.token, body={"reason": "本人来电核对号码"}
    )
    book.call(
        "POST",
        "/v1/staff/contacts/opt-outs",
        token=operator.token,
        body={"phone": mobile(2), "reason": "本人来电要求退订"},
    )

    logs = platform_log.getvalue() + "\n".join(record.getMessage() for record in caplog.records)
    assert revealed.json["phone"] == mobile(1)
    assert '"phone":"139****0001"' in logs.replace(" ", "")  # the reveal was logged, masked
    assert platform_log.getvalue().count("import chunk done") == 3
    secrets = [r["id"] for r in used] + [r["phones"][0]["number"] for r in used]
    secrets += [row[1] for row in rows] + [row[4] for row in rows]
    for secret in secrets:
        assert secret not in logs, "a clear number reached the logs"
