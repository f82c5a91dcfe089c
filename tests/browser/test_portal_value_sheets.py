"""A district office's personalised list in the portal: an XLSX file uploaded with its progress,
checked in the background, its preview, longest message, parts and rejected rows (with the CSV
download), proposed, and the same list shown to the city reviewer before approving."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect
from sms_platform.foundation.clock import BEIJING

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TEXT = "${name}您好，请于${deadline}前完成待遇资格认证，本月待遇${amount}元。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "deadline", "type": "date", "max_length": 11},
    {"name": "amount", "type": "money", "max_length": 12},
]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed as text, as Excel keeps it after a leading quote
    book.save(path)
    return path


def test_a_list_is_uploaded_previewed_with_its_rejected_rows_and_shown_to_the_reviewer(
    portal_platform, staff_api, browser, tmp_path
):
    district = staff_api.account("sheet-op-", "rushan", ["district_operator"], "孙名单")
    reviewer = staff_api.account("sheet-rev-", "city", ["city_reviewer"], "周审核")
    people = [person(7300 + n, district="rushan") for n in range(3)]
    staff_api.add_people(district, people)
    template = staff_api.targeted_template(
        district, reviewer, "资格认证提醒", "rushan", TEXT, variables=VARIABLES, remark="待遇资格认证逐人提醒"
    )
    ids = [p["id"] for p in people]
    file = _xlsx(tmp_path / "名单.xlsx", [
        ["身份证号", "手机号", "name", "deadline", "amount"],
        [ids[0], None, "王芳", "2025-06-30", 2350.5],
        [ids[1], None, "李强", "2025-06-30", 1980],
        [ids[2], None, "张秀英", "2025-07-15", 3120.75],
        [ids[0], None, "王芳", "2025-06-30", 1],
        ["=cmd|' /C calc'!A0", None, "赵六", "2025-06-30", 1],
    ])  # fmt: skip

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.get_by_role("link", name="发送申请").click()
    page.get_by_role("link", name="新建发送申请").click()
    page.get_by_label("模板").select_option(template["template_id"])
    page.get_by_label("按名单逐人填写（上传 Excel 或 CSV）").check()
    expect(page.locator("#sheet-columns")).to_contain_text("身份证号、手机号、name、deadline、amount")
    page.get_by_label("名单文件（Excel .xlsx 或 CSV）").set_input_files(str(file))
    page.get_by_role("button", name="上传并检查名单").click()

    expect(page.locator("#sheet-state")).to_contain_text("检查完成", timeout=60_000)
    expect(page.locator('[data-stat="accepted"] b')).to_have_text("3")
    expect(page.locator('[data-stat="rejected"] b')).to_have_text("2")
    first = "王芳您好，请于2025-06-30前完成待遇资格认证，本月待遇2350.5元。"
    expect(page.locator("#sheet-summary table").first).to_contain_text(first)
    expect(page.locator("#sheet-longest")).to_contain_text("张秀英")
    rejected = page.locator("#sheet-rejected")
    expect(rejected).to_contain_text("证件号码与第 2 行重复")
    expect(rejected).to_contain_text("身份证号码格式不正确")
    expect(rejected).not_to_contain_text(ids[0])
    expect(page.locator("#send-totals")).to_have_text("每人 1 条，共 3 人，合计 3 条")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载全部被拒行（CSV，号码已脱敏）").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert report.splitlines()[0] == "行号,证件号码（脱敏）,手机号码（脱敏）,原因"
    assert "'=cm" in report and ids[0] not in report
    shot(page, "value-sheet-upload")
    # Two hours on, so that the approved send is seen waiting (sent at once, the local schedule
    # releases it within five seconds, and could before the reviewer's page shows it).
    starts = (staff_api.platform_now().astimezone(BEIJING) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    page.get_by_label("发送时间（北京时间，不填为审核通过后立即发送）").fill(starts.replace(" ", "T"))
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#request-status")).to_have_text("待审核")
    request_id = page.url.rsplit("/", 1)[1]

    review = browser.new_page()
    sign_in(review, portal_platform, reviewer["username"], reviewer["password"])
    review.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    expect(review.locator("#request-audience")).to_contain_text("3 人（个性化名单，参保人员，共 5 行，被拒 2 行）")
    expect(review.locator("#sheet-summary")).to_contain_text("李强您好")
    expect(review.locator("#sheet-rejected")).to_contain_text("证件号码与第 2 行重复")
    shot(review, "value-sheet-review")
    review.get_by_role("button", name="审核通过").click()
    expect(review.locator("#request-status")).to_have_text("已批准，待发送")
    expect(review.get_by_text(f"已批准，将于 {starts}:00 开始发送。")).to_be_visible()
