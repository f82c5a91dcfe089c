"""Personalised list sends through the staff API and the workers on moto: upload, background
check, proposal, review, approval, fan-out and dispatch (each number gets its own text at the
carrier simulator), the retention cleanup, the audit's digest, and the refusals."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections import Counter
from datetime import timedelta

import boto3
import pytest
import requests
from openpyxl import Workbook
from sms_platform.audit.search import AuditQuery, search
from sms_platform.staff.context import Office

from tests.contacts_support import id_number, person
from tests.events import sqs_event
from tests.functional.sends_support import (
    HUANCUI,
    REVIEWER,
    WENDENG,
    active_template,
    add_people,
    detail,
    sends,  # noqa: F401
)
from tests.staff_calls import call
from tests.template_support import active_template as active_template_of

TEXT = "${name}您好，您的养老待遇资格认证请于${deadline}前完成，待遇${amount}元。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "deadline", "type": "date", "max_length": 11},
    {"name": "amount", "type": "money", "max_length": 12},
]
HEADER = ["身份证号", "手机号", "name", "日期", "amount"]
FORMULA = "=cmd|' /C calc'!A0"
NAMES = "甲乙丙丁戊"


def _template(clock, office=Office.wendeng) -> str:
    return active_template_of(clock, category="targeted", office=office, text=TEXT, variables=VARIABLES,
                              name="资格认证提醒")  # fmt: skip


def _people(count: int, start: int = 0) -> list[str]:
    """People in the address book (Wendeng); their ID numbers."""
    add_people(count, start=start)
    return [person(start + n)["id"] for n in range(count)]


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _run_work_queue(context) -> int:
    import imports as worker  # the handler module of ImportWorkerFunction

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = os.environ["WORK_QUEUE_URL"]
    handled = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            assert worker.handler(sqs_event([message["Body"]]), context) == {"batchItemFailures": []}
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
    return handled


def _upload(world, template_id: str, content: bytes, who=WENDENG, kind: str = "person") -> dict:
    created = call(who, "POST", "/v1/staff/value-sheets", {"template_id": template_id, "kind": kind})
    assert created.status == 201, created.body
    put = requests.put(created.body["upload_url"], data=content, headers=created.body["headers"], timeout=10)
    assert put.status_code == 200
    started = call(who, "POST", f"/v1/staff/value-sheets/{created.body['sheet_id']}/start")
    assert started.status == 202, started.body
    assert started.body["status"] == "queued"
    _run_work_queue(world.pump.context)
    view = call(who, "GET", f"/v1/staff/value-sheets/{created.body['sheet_id']}")
    assert view.status == 200, view.body
    return view.body


def _propose(template_id: str, sheet_id: str, who=WENDENG, **changes):
    body = {"template_id": template_id, "values": {}, "audience": {"kind": "person"}, "sheet_id": sheet_id}
    return call(who, "POST", "/v1/staff/send-requests", {**body, **changes})


def test_a_personalised_list_is_checked_reviewed_and_each_number_gets_its_own_text(sends):  # noqa: F811
    template_id = _template(sends.clock)
    ids = _people(6)
    rows = [HEADER]
    rows += [[ids[n], "", f"参保人{NAMES[n]}", "2025-03-31", f"{1000 + n}.50"] for n in range(5)]
    rows += [[ids[0], "", "重复者", "2025-03-31", "1"]]  # a duplicate of row 2
    rows += [[ids[5][:17] + ("1" if ids[5][17] == "0" else "0"), "", "错号", "2025-03-31", "1"]]  # check digit
    rows += [[FORMULA, "", "公式", "2025-03-31", "1"]]
    rows += [[id_number(900), "13812340000", "新人", "2025-04-30", "88"]]  # not in the book: its own phone
    rows += [[id_number(901), "", "无号", "2025-04-30", "99"]]  # neither: undeliverable
    content = _csv(rows)

    sheet = _upload(sends, template_id, content)

    assert (sheet["status"], sheet["rows"], sheet["accepted"], sheet["rejected"]) == ("checked", 10, 7, 3)
    assert sheet["format"] == "csv" and sheet["sha256"] == hashlib.sha256(content).hexdigest()
    assert sheet["columns"] == HEADER
    first = sheet["preview"][0]
    assert first["text"] == (
        "【文登区社会保险事业中心】参保人甲您好，您的养老待遇资格认证请于2025-03-31前完成，待遇1000.50元。"
    )
    assert first["id_masked"] == f"{ids[0][:6]}{'*' * 11}{ids[0][-1]}" and first["row"] == 2
    assert sheet["longest"]["row"] == 2 and sheet["parts"] == [{"parts": 1, "messages": 7}]
    assert sheet["total_parts"] == 7
    assert [(r["row"], r["reason"]) for r in sheet["rejected_rows"]] == [
        (7, "证件号码与第 2 行重复"), (8, "身份证号码校验位不正确"),
        (9, "身份证号码格式不正确，应为 18 位（末位可为 X）"),
    ]  # fmt: skip
    report = call(WENDENG, "GET", f"/v1/staff/value-sheets/{sheet['sheet_id']}/report")
    lines = requests.get(report.body["url"], timeout=10).content.decode("utf-8-sig").splitlines()
    assert lines[0] == "行号,证件号码（脱敏）,手机号码（脱敏）,原因" and len(lines) == 4
    assert lines[3].startswith("9,'=cm") and FORMULA not in "\n".join(lines)

    proposed = _propose(template_id, sheet["sheet_id"])
    assert proposed.status == 200, proposed.body
    request = proposed.body
    assert (request["audience_size"], request["total_parts"], request["sheet"]["accepted"]) == (7, 7, 7)
    view = detail(request["request_id"], REVIEWER)
    assert view["sample"] == first["text"] and view["sheet"]["rejected"] == 3
    assert [p["row"] for p in view["sheet"]["preview"]] == [2, 3, 4, 5, 6, 10, 11]
    assert call(REVIEWER, "POST", f"/v1/staff/send-requests/{request['request_id']}/approval").status == 200
    sends.release()
    sends.pump.run()

    sent = [m for m in sends.simulator.sent if m.out_id == f"send:{request['request_id']}"]
    by_phone = {m.phone: m.params for m in sent}
    assert len(sent) == 6 and len(by_phone) == 6
    for n in range(5):
        assert by_phone[person(n)["phones"][0]["number"]] == {"name": f"参保人{NAMES[n]}", "deadline": "2025-03-31",
                                                             "amount": f"{1000 + n}.50"}  # fmt: skip
    assert by_phone["13812340000"] == {"name": "新人", "deadline": "2025-04-30", "amount": "88"}
    assert {m.action for m in sent} == {"SendBatchSms"}
    progress = detail(request["request_id"])["progress"]
    assert progress["skipped"] == 1 and progress["states"]["undeliverable"] == 1 and progress["sent"] == 6

    # The audit has the file's digest and counts, never a value.
    now = sends.clock.now()
    entries = search(AuditQuery(start=now - timedelta(days=1), end=now + timedelta(days=1))).entries
    checked = next(e for e in entries if e["action"] == "value_sheet.check")
    assert checked["after"]["sha256"] == sheet["sha256"] and checked["after"]["accepted"] == 7
    everything = json.dumps(entries, ensure_ascii=False)
    for secret in ("参保人甲", "1000.50", "新人", ids[0], "13812340000"):
        assert secret not in everything


def test_identical_values_in_a_list_still_go_as_one_send_sms(sends):  # noqa: F811
    template_id = _template(sends.clock)
    ids = _people(4)
    sheet = _upload(sends, template_id, _xlsx([HEADER, *[[i, None, "王芳", "2025-03-31", 100] for i in ids]]))
    assert (sheet["format"], sheet["accepted"]) == ("xlsx", 4)
    request_id = _propose(template_id, sheet["sheet_id"]).body["request_id"]
    call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/approval")
    sends.release()
    sends.pump.run()
    sent = [m for m in sends.simulator.sent if m.out_id == f"send:{request_id}"]
    assert len(sent) == 4 and {m.action for m in sent} == {"SendSms"}
    assert {json.dumps(m.params, ensure_ascii=False) for m in sent} == {
        '{"name": "王芳", "deadline": "2025-03-31", "amount": "100"}'
    }


def test_values_are_removed_after_the_send_ends_and_the_retention_passes(sends):  # noqa: F811
    from sms_platform.sources import value_sheet_store

    template_id = _template(sends.clock)
    ids = _people(3)
    sheet = _upload(sends, template_id, _csv([HEADER, *[[i, "", "李四", "2025-03-31", "5"] for i in ids]], "gb18030"))
    unused = _upload(sends, template_id, _csv([HEADER, [ids[0], "", "李四", "2025-03-31", "5"]]))
    request_id = _propose(template_id, sheet["sheet_id"]).body["request_id"]
    call(REVIEWER, "POST", f"/v1/staff/send-requests/{request_id}/approval")
    sends.release()
    sends.pump.run()

    import sheet_cleanup

    def rows_left(sheet_id: str) -> int:
        return value_sheet_store.chunks_stored(sheet_id)

    first = sheet_cleanup.handler({}, sends.pump.context)  # the send has just ended: kept
    sends.clock.advance(seconds=29 * 86400)
    early = sheet_cleanup.handler({}, sends.pump.context)
    sends.clock.advance(seconds=2 * 86400)
    late = sheet_cleanup.handler({}, sends.pump.context)

    assert first["removed"] == [] and early["removed"] == []
    assert sorted(late["removed"]) == sorted([sheet["sheet_id"], unused["sheet_id"]])
    assert rows_left(sheet["sheet_id"]) == 0 and rows_left(unused["sheet_id"]) == 0
    gone = call(WENDENG, "GET", f"/v1/staff/value-sheets/{sheet['sheet_id']}").body
    assert gone["status"] == "removed" and gone["preview"] == [] and gone["accepted"] == 3
    assert gone["sha256"] == sheet["sha256"]
    view = detail(request_id)
    assert view["request"]["sheet"]["sha256"] == sheet["sha256"] and "删除" in view["sample"]
    assert _uploads_left() == []
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["SENDS_TABLE"])
    pk = f"vsheet#{sheet['sheet_id']}"
    kept = table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": pk})
    assert [item["sk"] for item in kept["Items"]] == ["meta"]


def _uploads_left() -> list:
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.list_object_versions(Bucket=os.environ["UPLOADS_BUCKET"], Prefix="value-sheets/").get("Versions", [])


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "不支持旧版 Excel（.xls）文件"),
        (_csv([["姓名", "name"], ["张三", "张三"]]), "缺少“身份证号”列"),
        (_csv([["身份证号", "name"], [id_number(1), "张三"]]), "缺少变量列：${deadline}（日期）、${amount}（金额）"),
    ],
)
def test_a_file_that_cannot_be_used_fails_its_check_with_the_reason_and_is_deleted(sends, content, error):  # noqa: F811
    template_id = _template(sends.clock)
    sheet = _upload(sends, template_id, content)
    assert sheet["status"] == "failed" and error in sheet["error"]
    assert sheet["sha256"] == hashlib.sha256(content).hexdigest()
    assert _uploads_left() == []
    refused = _propose(template_id, sheet["sheet_id"])
    assert refused.status == 422 and "名单检查未通过" in refused.error["message"]


def test_refusals_are_clear_and_change_nothing(sends):  # noqa: F811
    template_id = _template(sends.clock)
    other_template = _template(sends.clock)
    ids = _people(2)
    good = _upload(sends, template_id, _csv([HEADER, *[[i, "", "李四", "2025-03-31", "5"] for i in ids]]))
    created = call(WENDENG, "POST", "/v1/staff/value-sheets", {"template_id": template_id, "kind": "person"}).body
    notice = active_template(sends.clock)  # the notice template of tests/functional/sends_support.py

    not_uploaded = call(WENDENG, "POST", f"/v1/staff/value-sheets/{created['sheet_id']}/start")
    unchecked = _propose(template_id, created["sheet_id"])
    unknown = _propose(template_id, "f" * 32)
    wrong_template = _propose(other_template, good["sheet_id"])
    with_values = _propose(template_id, good["sheet_id"], values={"name": "x"})
    with_districts = _propose(template_id, good["sheet_id"], audience={"kind": "person", "districts": ["wendeng"]})
    wrong_kind = _propose(template_id, good["sheet_id"], audience={"kind": "unit"})
    other_office = call(HUANCUI, "GET", f"/v1/staff/value-sheets/{good['sheet_id']}")
    other_start = call(HUANCUI, "POST", f"/v1/staff/value-sheets/{good['sheet_id']}/start")
    no_report = call(WENDENG, "GET", f"/v1/staff/value-sheets/{good['sheet_id']}/report")
    plain = active_template_of(sends.clock, category="targeted", office=Office.wendeng, text="请及时办理年度认证。")
    no_variables = call(WENDENG, "POST", "/v1/staff/value-sheets", {"template_id": plain, "kind": "person"})
    foreign = call(HUANCUI, "POST", "/v1/staff/value-sheets", {"template_id": template_id, "kind": "person"})

    assert not_uploaded.status == 409 and "尚未上传" in not_uploaded.error["message"]
    assert unchecked.status == 409 and "尚未检查完成" in unchecked.error["message"]
    assert unknown.status == 404 and unknown.error["message"] == "没有这个名单"
    assert wrong_template.status == 409 and "另一个模板" in wrong_template.error["message"]
    assert with_values.status == 422 and with_values.error["field"] == "values"
    assert with_districts.status == 422 and with_districts.error["field"] == "audience"
    assert wrong_kind.status == 422 and "对象类型" in wrong_kind.error["message"]
    assert other_office.status == 404 and other_start.status == 403
    assert no_report.status == 409 and "没有被拒" in no_report.error["message"]
    assert no_variables.status == 422 and "无需上传名单" in no_variables.error["message"]
    assert foreign.status == 403
    assert notice  # a second active template of the office
    assert call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"] == []
    # The sheet is still free: the refused proposals bound nothing.
    assert _propose(template_id, good["sheet_id"]).status == 200
    again = _propose(template_id, good["sheet_id"])
    assert again.status == 409 and "另一个发送申请" in again.error["message"]
    assert Counter(r["status"] for r in call(REVIEWER, "GET", "/v1/staff/send-requests").body["requests"]) == {
        "submitted": 1
    }
