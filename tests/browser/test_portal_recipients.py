"""A send's recipients in the portal: from the send's page a district operator opens who got it
and who did not, filters the failed ones (reasons in Chinese, the raw code beside, numbers and
IDs masked), pages through them, and downloads them as a file built in the background."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests
from playwright.sync_api import expect
from sms_platform.foundation.identifiers import mask_id_number, mask_mobile

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import mobile, person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TEXT = "荣成社保提醒：您的医保个人账户已划入本年度资金，可在手机上查询。"
TAG = "明细筛选"  # this test's people alone, whatever other tests put in the district
PEOPLE = 25  # more than one page of 20
FAILED = {7801: "DB:0101", 7805: "UNDELIV", 7812: "MA:0001"}


def wait_until_settled(staff_api, token: str, request_id: str) -> dict:
    """Until every message of the send has its receipt (the release schedule runs each minute)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        progress = staff_api.call("GET", f"/send-requests/{request_id}", token)["progress"] or {}
        if progress.get("delivered", 0) + progress.get("failed", 0) == PEOPLE:
            return progress
        time.sleep(2)
    raise AssertionError(f"the send's receipts did not arrive: {progress}")


def test_a_district_filters_a_sends_failed_recipients_and_downloads_them(portal_platform, staff_api, browser):
    district = staff_api.account("rcp-op-", "rongcheng", ["district_operator"], "冯明细")
    reviewer = staff_api.account("rcp-rev-", "city", ["city_reviewer"], "褚审核")
    people = [person(7800 + n, district="rongcheng", tags=[TAG]) for n in range(PEOPLE)]
    staff_api.add_people(district, people)
    template = staff_api.targeted_template(
        district, reviewer, "医保账户划入通知", "rongcheng", TEXT, remark="医保个人账户划入"
    )
    undelivered = {"numbers": {mobile(seq): code for seq, code in FAILED.items()}}
    answer = requests.post(f"{portal_platform.carrier}/_simulator/undelivered", json=undelivered, timeout=10)
    assert answer.status_code == 200, answer.text
    request_id = staff_api.call(
        "POST", "/send-requests", district["token"],
        {"template_id": template["template_id"], "values": {},
         "audience": {"kind": "person", "districts": ["rongcheng"], "tag": TAG}},
    )["request_id"]  # fmt: skip
    staff_api.call("POST", f"/send-requests/{request_id}/approval", reviewer["token"])
    wait_until_settled(staff_api, district["token"], request_id)

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    expect(page.locator("#send-failure-categories")).to_have_text(
        "失败原因：停机 1 条、用户拒收/黑名单 1 条、空号 1 条"
    )
    page.locator("#recipients-link").click()

    expect(page.locator("#recipients-heading")).to_have_text("定向通知：医保账户划入通知（仅本区县的收件人）")
    totals = page.locator("#recipient-totals")
    expect(totals.locator('[data-stat="delivered"] b')).to_have_text("22")
    expect(totals.locator('[data-stat="failed"] b')).to_have_text("3")
    expect(page.locator("#failure-categories")).to_have_text("失败原因：停机 1 人、用户拒收/黑名单 1 人、空号 1 人")
    rows = page.locator("#recipient-table tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator(".pager")).to_contain_text("第 1 / 2 页，共 25 人")
    page.get_by_role("button", name="下一页").click()
    expect(rows).to_have_count(5)
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页，共 25 人")
    shot(page, "recipients-all")

    page.get_by_label("发送失败（3）").check()
    expect(rows).to_have_count(3)
    expect(page.locator(".pager")).to_contain_text("第 1 / 1 页，共 3 人")
    reasons = {"DB:0101": "空号", "UNDELIV": "停机", "MA:0001": "用户拒收/黑名单"}
    for seq, code in FAILED.items():
        row = rows.filter(has_text=mask_mobile(mobile(seq)))
        expect(row).to_contain_text(f"参保人{seq}")
        expect(row).to_contain_text(mask_id_number(person(seq)["id"]))
        expect(row).to_contain_text(f"{reasons[code]}（{code}）")
        expect(row).to_contain_text("发送失败")
    expect(page.locator("main")).not_to_contain_text(mobile(7801))
    shot(page, "recipients-failed")

    page.get_by_label("文件格式").select_option("csv")
    page.get_by_role("button", name="导出所选状态").click()
    link = page.locator("#export-download")
    expect(link).to_be_visible(timeout=60_000)
    expect(page.locator("#export-progress")).to_contain_text("已写入 3 / 3 行")
    shot(page, "recipients-export")
    with page.expect_download() as download:
        link.click()
    data = open(download.value.path(), "rb").read().decode("utf-8-sig")  # noqa: SIM115 - read once
    rows_in_file = list(csv.reader(io.StringIO(data)))
    assert rows_in_file[0][:3] == ["手机号码（脱敏）", "姓名/单位名称", "证件号码（脱敏）"]
    assert sorted(row[0] for row in rows_in_file[1:]) == sorted(mask_mobile(mobile(seq)) for seq in FAILED)
    assert {row[5] for row in rows_in_file[1:]} == set(reasons.values())
    assert not any(mobile(seq) in data for seq in range(7800, 7800 + PEOPLE))

    # Choosing another send: a district office is offered the kinds of send it may read, send requests.
    page.get_by_role("link", name="选择其他发送").click()
    expect(page.get_by_label("发送类别").locator("option")).to_have_text(["发送申请"])
    page.get_by_label("发送申请编号").fill(request_id)
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#recipients-heading")).to_contain_text("医保账户划入通知")
    expect(page.locator("main")).not_to_contain_text("null")
