"""Exports of a send's recipients through the staff API and the export worker on moto: built in
the background with progress and then a short-lived link; CSV and XLSX hold exactly the rows of
the chosen states, masked, with reasons in Chinese; a district's export holds its own rows; only
the one who asked sees an export, for a day; who exported what is audited, never the rows."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io

import requests
from sms_platform.foundation.identifiers import mask_id_number, mask_mobile

from tests.contacts_support import mobile, person
from tests.functional.reports.recipients_support import audited, released_send, run_exports
from tests.functional.sends_support import REVIEWER, REVIEWER_2, WENDENG, sends  # noqa: F401
from tests.staff_calls import call

FAILURES = {0: "DB:0101", 3: "UNDELIV", 5: "MI:0024"}
HEADER = ["手机号码（脱敏）", "姓名/单位名称", "证件号码（脱敏）", "区县", "状态", "原因", "原始错误码", "排队时间",
          "发送时间", "结果时间"]  # fmt: skip


def ask(who, request_id, states, fmt):
    return call(who, "POST", "/v1/staff/recipient-exports",
                {"source": "send", "id": request_id, "states": states, "format": fmt})  # fmt: skip


def status(who, export_id):
    return call(who, "GET", f"/v1/staff/recipient-exports/{export_id}")


def download(url: str) -> bytes:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.content


def expected_failed_rows() -> dict[str, list[str]]:
    reasons = {"DB:0101": "空号", "UNDELIV": "停机", "MI:0024": "关机或不在服务区"}
    return {
        mask_mobile(mobile(seq)): [mask_mobile(mobile(seq)), f"参保人{seq}", mask_id_number(person(seq)["id"]),
                                   "文登区", "发送失败", reasons[code], code]  # fmt: skip
        for seq, code in FAILURES.items()
    }


def test_a_csv_export_is_built_in_the_background_then_linked(sends):
    request_id = released_send(sends, 8, FAILURES)

    asked = ask(WENDENG, request_id, ["failed"], "csv")
    waiting = status(WENDENG, asked.body["export_id"])
    run_exports(sends.provisioned, sends.pump.context)
    ready = status(WENDENG, asked.body["export_id"])

    assert asked.status == 202, asked.body
    assert (asked.body["status"], asked.body["status_name"]) == ("queued", "排队等待生成")
    assert asked.body["download_url"] is None
    assert waiting.body["status"] == "queued" and waiting.body["rows_done"] == 0
    assert ready.status == 200 and ready.body["status"] == "ready", ready.body
    assert (ready.body["rows_done"], ready.body["rows_total"]) == (3, 3)
    assert ready.body["file_name"].endswith(".csv") and request_id in ready.body["file_name"]
    data = download(ready.body["download_url"])
    assert data.startswith("\ufeff".encode())  # Excel reads UTF-8 Chinese only with the mark
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert {row[0]: row[:7] for row in rows[1:]} == expected_failed_rows()
    assert all(row[7] and row[8] and row[9] for row in rows[1:])  # queued, sent and final times
    text = data.decode("utf-8-sig")
    assert not any(mobile(seq) in text or person(seq)["id"] in text for seq in range(8))


def test_an_xlsx_export_of_two_states_reads_back_with_exactly_those_rows(sends):
    from openpyxl import load_workbook

    request_id = released_send(sends, 8, FAILURES)
    asked = ask(REVIEWER, request_id, ["delivered", "failed"], "xlsx")
    run_exports(sends.provisioned, sends.pump.context)
    ready = status(REVIEWER, asked.body["export_id"]).body

    book = load_workbook(io.BytesIO(download(ready["download_url"])), read_only=True)
    sheet = book[book.sheetnames[0]]
    rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert book.sheetnames == ["收件人明细"] and rows[0] == HEADER
    assert len(rows) - 1 == 8 == ready["rows_done"] == ready["rows_total"]
    by_phone = {row[0]: row for row in rows[1:]}
    for phone, expected in expected_failed_rows().items():
        assert by_phone[phone][:7] == expected
    delivered = [row for row in rows[1:] if row[4] == "已送达"]
    assert len(delivered) == 5 and {row[5] for row in delivered} == {""}
    assert all(isinstance(cell, str) for row in rows for cell in row)  # text, never a formula or a number


def test_progress_is_shown_while_the_export_is_built(sends, monkeypatch):
    from sms_platform.reports import export_store, recipient_exports

    request_id = released_send(sends, 6, {})
    asked = ask(WENDENG, request_id, [], "csv")
    seen = []
    real_progress = export_store.progress

    def progress_then_look(export_id, rows_done):
        real_progress(export_id, rows_done)
        seen.append(status(WENDENG, export_id).body)

    monkeypatch.setattr(recipient_exports, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(recipient_exports, "PAGE", 2)
    monkeypatch.setattr(export_store, "progress", progress_then_look)
    run_exports(sends.provisioned, sends.pump.context)

    assert [(s["status"], s["status_name"], s["rows_done"], s["rows_total"]) for s in seen] == [
        ("building", "正在生成", 2, 6), ("building", "正在生成", 4, 6), ("building", "正在生成", 6, 6),
    ]  # fmt: skip
    assert all(s["download_url"] is None for s in seen)
    assert status(WENDENG, asked.body["export_id"]).body["status"] == "ready"


def test_an_export_is_the_askers_alone_and_lapses_after_a_day(sends):
    request_id = released_send(sends, 2, {})
    asked = ask(REVIEWER, request_id, ["delivered"], "csv")
    run_exports(sends.provisioned, sends.pump.context)
    export_id = asked.body["export_id"]

    assert status(REVIEWER_2, export_id).status == 404  # another reviewer does not learn of it
    assert status(REVIEWER, "not-an-export").status == 404
    sends.clock.advance(hours=23, minutes=59)
    assert status(REVIEWER, export_id).status == 200
    sends.clock.advance(minutes=1)
    lapsed = status(REVIEWER, export_id)
    assert (lapsed.status, lapsed.error["message"]) == (410, "导出文件已过期并已删除，请重新导出")


def test_a_districts_export_holds_its_own_rows_only(sends):
    from sms_platform.sending import message_store, recipient_groups
    from sms_platform.sending.message_items import MessageGroup, iso
    from sms_platform.sending.messages import MessageState

    request_id = released_send(sends, 3, {})
    # A recipient of another district in the same send (an uploaded list may name anyone).
    group = MessageGroup(kind="targeted", source_id=f"send:{request_id}", office="wendeng", batch_id="b",
                         sign_name="文登社保", template_code="SMS_1", template_id="t", template_version=1,
                         parts=1)  # fmt: skip
    now = sends.clock.now()
    who = recipient_groups.Who(name="环翠某人", district="huancui")
    listed = recipient_groups.index_fields(recipient_groups.send_group(request_id), who, iso(now), "m-huancui")
    message_store.record_many(group, [("m-huancui", "h", "138****0000", listed)], MessageState.FAILED,
                              now, error_code="DB:0101")  # fmt: skip

    district = ask(WENDENG, request_id, [], "csv").body
    city = ask(REVIEWER, request_id, [], "csv").body
    run_exports(sends.provisioned, sends.pump.context)

    district_rows = list(csv.reader(io.StringIO(download(status(WENDENG, district["export_id"]).body["download_url"])
                                                .decode("utf-8-sig"))))[1:]  # fmt: skip
    city_rows = list(csv.reader(io.StringIO(download(status(REVIEWER, city["export_id"]).body["download_url"])
                                            .decode("utf-8-sig"))))[1:]  # fmt: skip
    assert district["district"] == "wendeng" and {row[3] for row in district_rows} == {"文登区"}
    assert len(district_rows) == 3 and len(city_rows) == 4
    assert ["138****0000", "环翠某人", "", "环翠区", "发送失败", "空号", "DB:0101"] in [row[:7] for row in city_rows]


def test_who_exported_what_is_audited_without_the_rows(sends):
    request_id = released_send(sends, 4, {2: "DB:0101"})
    asked = ask(REVIEWER, request_id, ["failed", "undeliverable"], "xlsx")
    run_exports(sends.provisioned, sends.pump.context)
    status(REVIEWER, asked.body["export_id"])  # the link is given

    now = sends.clock.now()
    exported = audited(REVIEWER.account_id, now, "recipients.export")
    linked = audited(REVIEWER.account_id, now, "recipients.export_download")
    assert [(e["target"], e["office"]) for e in exported] == [(f"send#{request_id}", "city")]
    assert exported[0]["after"] == {"export_id": asked.body["export_id"], "format": "xlsx",
                                    "states": ["failed", "undeliverable"], "district": None}  # fmt: skip
    assert [e["after"] for e in linked] == [{"export_id": asked.body["export_id"], "rows": 1}]
    text = str(exported + linked)
    assert mask_mobile(mobile(2)) not in text and "参保人2" not in text


def test_a_bad_export_request_is_refused_and_queues_nothing(sends):
    request_id = released_send(sends, 1, {})
    cases = [
        ({"source": "send", "id": request_id, "states": ["bounced"], "format": "csv"}, 422),
        ({"source": "send", "id": request_id, "format": "pdf"}, 422),
        ({"source": "send", "id": request_id, "period": "2025-03-03"}, 422),
        ({"source": "send", "id": request_id, "extra": 1}, 422),
        ({"source": "rule", "id": "no-such-rule", "period": "2025-03-03"}, 404),
        ({"source": "send", "id": "f" * 32}, 404),
    ]
    for body, expected in cases:
        answer = call(REVIEWER, "POST", "/v1/staff/recipient-exports", body)
        assert answer.status == expected, (body, answer.body)
    assert run_exports(sends.provisioned, sends.pump.context) == []
    assert ask(REVIEWER, request_id, [], "csv").status == 202
    assert call(REVIEWER, "GET", "/v1/staff/recipient-exports/" + "0" * 32).status == 404
    exported = audited(REVIEWER.account_id, sends.clock.now(), "recipients.export")
    assert [e["target"] for e in exported] == [f"send#{request_id}"]  # the refused ones left no entry


def test_an_xlsx_export_too_large_for_a_sheet_fails_asking_for_csv(sends, monkeypatch):
    from sms_platform.reports import recipient_exports

    request_id = released_send(sends, 3, {})
    monkeypatch.setattr(recipient_exports, "MAX_XLSX_ROWS", 2)
    xlsx = ask(REVIEWER, request_id, [], "xlsx").body
    csv_export = ask(REVIEWER, request_id, [], "csv").body
    run_exports(sends.provisioned, sends.pump.context)

    refused = status(REVIEWER, xlsx["export_id"]).body
    assert (refused["status"], refused["status_name"], refused["download_url"]) == ("failed", "生成失败", None)
    assert refused["error"].startswith("超过") and "请改为导出 CSV 文件" in refused["error"]
    assert status(REVIEWER, csv_export["export_id"]).body["rows_done"] == 3


def test_a_build_cut_off_without_end_shows_as_failed(sends):
    from sms_platform.reports import export_store

    request_id = released_send(sends, 1, {})
    export_id = ask(REVIEWER, request_id, [], "csv").body["export_id"]
    export_store.start(export_id, sends.clock.now())  # a worker began, then its invocation timed out

    assert status(REVIEWER, export_id).body["status"] == "building"
    sends.clock.advance(hours=2, minutes=1)
    cut_off = status(REVIEWER, export_id).body
    assert (cut_off["status"], cut_off["error"]) == ("failed", "导出文件生成失败，请重新导出")
