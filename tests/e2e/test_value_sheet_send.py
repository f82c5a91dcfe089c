"""A personalised send through the local platform and what the office does after it.

A 500-row XLSX list is uploaded to storage, checked by the work-queue worker, proposed,
approved, released by the schedule, fanned out and dispatched: each number receives its own
values at the carrier simulator. The simulator reports a subset of the numbers undelivered with
permanent codes (空号, 停机); the export of the send's failed recipients lists exactly those, with
the reasons in Chinese; a follow-up request reaches only them (and fails there again, the second
permanent failure that marks a number for verification); a later send to everyone skips the
marked numbers as undeliverable (号码待核实) and reaches all the others.

With moto unpatched (``PLATFORM_MOTO_PATCHES=off``) the list has 100 rows, one batch: unpatched,
an invocation of several batches outlasts the dispatch function's timeout
(infra/patches/transactions.py)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from openpyxl import Workbook
from sms_platform.foundation.identifiers import mask_mobile

from tests.browser.conftest import StaffApi, platform_clock
from tests.contacts_support import person

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_platform")]

ROWS = 500
ROWS_UNPATCHED = 100
TEXT = "${name}您好，您单位${month}月应缴社保费${amount}元，请按时缴纳。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "month", "type": "number", "max_length": 2},
    {"name": "amount", "type": "money", "max_length": 12},
]
NAMES = "赵钱孙李周吴郑王冯陈"
REASONS = {"DB:0101": "空号", "DB:0102": "停机"}
PLAIN = "您单位本月社保费尚未缴纳，请尽快到经办窗口或网上缴纳。"


def gone_codes(rows: int) -> dict[int, str]:
    """One row in twenty-five is a number the network says is gone: half empty, half suspended."""
    return {n: ("DB:0101" if n % 50 == 0 else "DB:0102") for n in range(0, rows, 25)}


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sent_at_carrier(carrier: str, source: str) -> list[dict]:
    sent = requests.get(f"{carrier}/_simulator/sent", params={"full": "1"}, timeout=10).json()
    return [m for m in sent if m["out_id"] == source]


def settled(api: StaffApi, token: str, request_id: str, expected: dict[str, int]) -> dict:
    """Until the send's messages are in the states expected (``expected``: counts by state)."""

    def check() -> dict | None:
        states = (api.call("GET", f"/send-requests/{request_id}", token)["progress"] or {}).get("states") or {}
        return states if all(states.get(name, 0) == n for name, n in expected.items()) else None

    return wait_for(f"the receipts of {expected}", check, 180)


def exported_rows(api: StaffApi, token: str, request_id: str, states: list[str]) -> list[dict[str, str]]:
    """The send's recipients in these states as the CSV export built in the background has them."""
    export = api.call("POST", "/recipient-exports", token,
                      {"source": "send", "id": request_id, "states": states, "format": "csv"})  # fmt: skip

    def ready() -> dict | None:
        found = api.call("GET", f"/recipient-exports/{export['export_id']}", token)
        assert found["status"] != "failed", found
        return found if found["status"] == "ready" else None

    done = wait_for("the export", ready, 120)
    answer = requests.get(done["download_url"], timeout=30)
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_a_500_row_xlsx_list_reaches_each_number_with_its_own_values_and_the_failed_are_followed_up(
    start_platform,
):
    local_platform = start_platform({"PLATFORM_CLOCK": platform_clock()})  # templates filed "today"
    patched = "transactions" in local_platform.log_events("moto_started")[0]["patches"]
    size = ROWS if patched else ROWS_UNPATCHED
    api = StaffApi(local_platform)
    operator = api.account("e2e-sheet-op-", "wendeng", ["district_operator"], "孙逐人")
    reviewer = api.account("e2e-sheet-rev-", "city", ["city_reviewer"], "钱审核")
    people = [person(60_000 + n) for n in range(size)]
    gone = {people[n]["phones"][0]["number"]: code for n, code in gone_codes(size).items()}
    for first in range(0, size, 100):  # a hundred a call: within the staff API's time with moto unpatched too
        added = api.call("POST", "/contacts/batch", operator["token"], {"contacts": people[first : first + 100]})
        assert added["rejected"] == 0
    template = api.active_template(operator, reviewer, {
        "name": "欠费逐人提醒", "category": "targeted", "office": "wendeng", "text": TEXT, "variables": VARIABLES,
        "valid_from": api.platform_now().date().isoformat(), "valid_until": "2030-12-31", "remark": "单位欠费提醒",
    })  # fmt: skip
    plain = api.active_template(operator, reviewer, {
        "name": "欠费统一提醒", "category": "targeted", "office": "wendeng", "text": PLAIN, "variables": [],
        "valid_from": api.platform_now().date().isoformat(), "valid_until": "2030-12-31", "remark": "单位欠费提醒",
    })  # fmt: skip
    answer = requests.post(f"{local_platform.carrier}/_simulator/undelivered", json={"numbers": gone}, timeout=10)
    assert answer.status_code == 200, answer.text
    values = {
        p["phones"][0]["number"]: {"name": NAMES[n % 10] + NAMES[n // 10 % 10], "month": str(1 + n % 12),
                                   "amount": f"{1000 + n}.{n % 100:02d}"}
        for n, p in enumerate(people)
    }  # fmt: skip
    rows = [["身份证号", "name", "month", "amount"]]
    rows += [[p["id"], v["name"], int(v["month"]), v["amount"]] for p, v in zip(people, values.values(), strict=True)]

    created = api.call("POST", "/value-sheets", operator["token"], {"template_id": template["template_id"],
                                                                    "kind": "person"})  # fmt: skip
    put = requests.put(created["upload_url"], data=_xlsx(rows), headers=created["headers"], timeout=30)
    assert put.status_code == 200, put.text
    api.call("POST", f"/value-sheets/{created['sheet_id']}/start", operator["token"])

    def checked() -> dict | None:
        sheet = api.call("GET", f"/value-sheets/{created['sheet_id']}", operator["token"])
        return sheet if sheet["status"] in ("checked", "failed") else None

    sheet = wait_for("the list's check", checked, 120)
    assert (sheet["status"], sheet["accepted"], sheet["rejected"]) == ("checked", size, 0), sheet.get("error")
    request = api.call("POST", "/send-requests", operator["token"], {
        "template_id": template["template_id"], "values": {}, "audience": {"kind": "person"},
        "sheet_id": created["sheet_id"],
    })  # fmt: skip
    api.call("POST", f"/send-requests/{request['request_id']}/approval", reviewer["token"])

    source = f"send:{request['request_id']}"

    def all_sent() -> list[dict] | None:
        mine = sent_at_carrier(local_platform.carrier, source)
        return mine if len(mine) >= size else None

    sent = wait_for("every message at the carrier simulator", all_sent, 420)
    assert len(sent) == size and len({m["phone"] for m in sent}) == size
    for message in sent:
        assert message["params"] == values[message["phone"]], message["phone"][:3]
    assert {m["action"] for m in sent} == {"SendBatchSms"}

    # The export of the failed lists exactly the numbers the network said were gone, and why.
    settled(api, operator["token"], request["request_id"], {"delivered": size - len(gone), "failed": len(gone)})
    failed = exported_rows(api, operator["token"], request["request_id"], ["failed"])
    assert sorted((row["手机号码（脱敏）"], row["原因"]) for row in failed) == sorted(
        (mask_mobile(phone), REASONS[code]) for phone, code in gone.items()
    )

    # A follow-up with another text reaches only them, and fails there again.
    follow_up = api.call("POST", "/follow-ups", operator["token"],
                         {"of": request["request_id"], "template_id": plain["template_id"], "values": {}})  # fmt: skip
    assert follow_up["audience_size"] == len(gone)
    api.call("POST", f"/send-requests/{follow_up['request_id']}/approval", reviewer["token"])
    settled(api, operator["token"], follow_up["request_id"], {"failed": len(gone)})
    assert sorted(m["phone"] for m in sent_at_carrier(local_platform.carrier, f"send:{follow_up['request_id']}")) == (
        sorted(gone)
    )

    # Failed twice with a permanent reason: a send to everyone skips them, and reaches the others.
    later = api.call("POST", "/send-requests", operator["token"], {
        "template_id": plain["template_id"], "values": {}, "audience": {"kind": "person", "districts": ["wendeng"]},
    })  # fmt: skip
    api.call("POST", f"/send-requests/{later['request_id']}/approval", reviewer["token"])
    settled(api, operator["token"], later["request_id"], {"delivered": size - len(gone), "undeliverable": len(gone)})
    reached = {m["phone"] for m in sent_at_carrier(local_platform.carrier, f"send:{later['request_id']}")}
    assert reached == {p["phones"][0]["number"] for p in people} - set(gone)
    held = api.call("GET", f"/recipients/send/{later['request_id']}", operator["token"], state="undeliverable",
                    limit=200)["rows"]  # fmt: skip
    assert sorted((row["phone_masked"], row["reason"]) for row in held) == sorted(
        (mask_mobile(phone), "号码待核实") for phone in gone
    )
