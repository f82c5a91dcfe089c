"""The portal's replies inbox, the lanes for IT operations and an auditor's export of a day."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests
from playwright.sync_api import expect
from sms_platform.foundation.clock import BEIJING

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

CALLBACK_TOKEN = "local-callback-token"  # the local platform's printed development default


def test_an_agent_reads_a_citizens_reply_with_the_number_masked(portal_platform, staff_api, browser):
    agent = staff_api.account("reply-agent-", "hotline", ["hotline_agent"], "钱坐席")
    phone = f"1361234{os.getpid() % 10000:04d}"
    sent_at = staff_api.platform_now().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    content = f"请问社保卡到哪里领取？{os.getpid()}"
    pushed = requests.post(
        f"{portal_platform.api}/v1/carrier/inbound",
        params={"token": CALLBACK_TOKEN},
        json=[{"phone_number": phone, "send_time": sent_at, "content": content, "sign_name": "威海市社会保险事业中心",
               "dest_code": "1234", "sequence_id": os.getpid()}],
        timeout=30,
    )  # fmt: skip
    assert pushed.status_code == 200, pushed.text
    # The push is answered at once and its reply recorded from the push queue moments later.
    month = sent_at[:7]
    deadline = time.monotonic() + 30
    while not any(
        r["content"] == content for r in staff_api.call("GET", "/replies", agent["token"], month=month)["replies"]
    ):
        assert time.monotonic() < deadline, "the pushed reply was not recorded within 30 s"
        time.sleep(0.5)

    page = browser.new_page()
    sign_in(page, portal_platform, agent["username"], agent["password"])
    page.get_by_role("link", name="回复收件箱").click()
    replies = page.locator("#replies")
    expect(replies).to_contain_text(content)
    expect(replies).to_contain_text(f"{phone[:3]}****{phone[-4:]}")
    expect(replies).not_to_contain_text(phone)
    shot(page, "replies")


def test_it_operations_see_the_lanes_and_their_dead_letters(portal_platform, staff_api, browser):
    ops = staff_api.account("ops-", "it", ["it_ops"], "冯运维")
    expected = {lane["lane"]: lane for lane in staff_api.call("GET", "/operations/lanes", ops["token"])["lanes"]}

    page = browser.new_page()
    sign_in(page, portal_platform, ops["username"], ops["password"])
    page.get_by_role("link", name="统计与运维").click()
    table = page.locator("#lane-depths")
    expect(table).to_contain_text("高优先级（挂机、触发、订阅、验证码）")
    expect(table).to_contain_text("批量（宣传公告）")
    for lane in ("high", "normal", "bulk"):
        expect(table.locator(f'[data-dead-letters="{lane}"]')).to_have_text(str(expected[lane]["dead_letters"]))
    expect(page.get_by_role("button", name="重新投递 high 死信")).to_be_visible()
    expect(page.locator("#delivery-totals")).to_be_visible()  # IT operations read the statistics too
    shot(page, "lanes")


def test_an_auditor_downloads_a_days_trail_and_the_download_is_audited(portal_platform, staff_api, browser, tmp_path):
    auditor = staff_api.account("export-aud-", "city", ["auditor"], "陈审计")
    day = staff_api.platform_now().astimezone(BEIJING).date().isoformat()

    page = browser.new_page()
    sign_in(page, portal_platform, auditor["username"], auditor["password"])
    page.get_by_role("link", name="审计").click()
    form = page.get_by_role("form", name="校验与导出")
    form.get_by_label("日期").fill(day)
    with page.expect_download() as waiting:
        form.get_by_role("button", name="导出当天（JSON Lines）").click()
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    assert download.suggested_filename == f"audit-{day}.jsonl"
    lines = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "audit-archive" and lines[0]["day"] == day and lines[0]["verified"] is True
    assert len(lines) > 1 and all(line["type"] == "entry" and line["hash"] for line in lines[1:])
    expect(page.locator("#verification")).to_contain_text(f"已导出 {day} 的 {len(lines) - 1} 条审计记录")
    found = staff_api.call(
        "GET", "/audit/entries", auditor["token"], start=f"{day}T00:00:00+08:00", end=f"{day}T23:59:59+08:00",
        operator=auditor["account_id"], limit=50,
    )  # fmt: skip
    assert [e["action"] for e in found["entries"]].count("audit.export") == 1
    shot(page, "audit-export")
