"""A personalised send through the local platform: a 500-row XLSX list uploaded to storage,
checked by the work-queue worker, proposed, approved, released by the schedule, fanned out and
dispatched, and each number receives its own values at the carrier simulator."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from openpyxl import Workbook

from tests.browser.conftest import StaffApi, platform_clock
from tests.contacts_support import person

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_platform")]

ROWS = 500
TEXT = "${name}您好，您单位${month}月应缴社保费${amount}元，请按时缴纳。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "month", "type": "number", "max_length": 2},
    {"name": "amount", "type": "money", "max_length": 12},
]
NAMES = "赵钱孙李周吴郑王冯陈"


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


def test_a_500_row_xlsx_list_reaches_each_number_with_its_own_values(start_platform):
    local_platform = start_platform({"PLATFORM_CLOCK": platform_clock()})  # templates filed "today"
    api = StaffApi(local_platform)
    operator = api.account("e2e-sheet-op-", "wendeng", ["district_operator"], "孙逐人")
    reviewer = api.account("e2e-sheet-rev-", "city", ["city_reviewer"], "钱审核")
    people = [person(60_000 + n) for n in range(ROWS)]
    assert api.call("POST", "/contacts/batch", operator["token"], {"contacts": people})["rejected"] == 0
    template = api.active_template(operator, reviewer, {
        "name": "欠费逐人提醒", "category": "targeted", "office": "wendeng", "text": TEXT, "variables": VARIABLES,
        "valid_from": api.platform_now().date().isoformat(), "valid_until": "2030-12-31", "remark": "单位欠费提醒",
    })  # fmt: skip
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
    assert (sheet["status"], sheet["accepted"], sheet["rejected"]) == ("checked", ROWS, 0), sheet.get("error")
    request = api.call("POST", "/send-requests", operator["token"], {
        "template_id": template["template_id"], "values": {}, "audience": {"kind": "person"},
        "sheet_id": created["sheet_id"],
    })  # fmt: skip
    api.call("POST", f"/send-requests/{request['request_id']}/approval", reviewer["token"])

    source = f"send:{request['request_id']}"

    def all_sent() -> list[dict] | None:
        sent = requests.get(f"{local_platform.carrier}/_simulator/sent", params={"full": "1"}, timeout=10).json()
        mine = [m for m in sent if m["out_id"] == source]
        return mine if len(mine) >= ROWS else None

    sent = wait_for("every message at the carrier simulator", all_sent, 420)
    assert len(sent) == ROWS and len({m["phone"] for m in sent}) == ROWS
    for message in sent:
        assert message["params"] == values[message["phone"]], message["phone"][:3]
    assert {m["action"] for m in sent} == {"SendBatchSms"}
