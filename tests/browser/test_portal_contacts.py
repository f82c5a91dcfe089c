"""Contacts in the portal: a CSV import uploaded straight to storage, with a progress bar and
the rejected-row report, then the imported people found with masked numbers."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import id_number, mobile

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def test_a_csv_import_shows_progress_and_a_rejected_row_report(portal_platform, staff_api, browser, tmp_path):
    operator = staff_api.account("csv-op-", "city", ["city_operator"], "冯导入")
    good = [(id_number(8801 + n), mobile(88_010_000 + n)) for n in range(3)]
    bad_id = id_number(8811)[:-1] + ("0" if id_number(8811)[-1] != "0" else "1")  # wrong check digit
    bad_phone = "1231234567"
    rows = [["类型", "证件号码", "姓名", "区县", "手机号码", "已核验"]]
    rows += [["person", number, f"导入人{n}", "wendeng", phone, "是"] for n, (number, phone) in enumerate(good)]
    rows += [
        ["person", bad_id, "错号人", "wendeng", mobile(88_019_000), "是"],
        ["person", id_number(8812), "错手机", "wendeng", bad_phone, "是"],
    ]
    upload = tmp_path / "contacts.csv"
    with upload.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="通讯录").click()
    page.get_by_label("CSV 文件", exact=False).set_input_files(str(upload))
    page.get_by_role("button", name="上传并导入").click()

    expect(page.locator("#import-state")).to_have_text("已完成：已处理 5 / 5 行，接受 3 行，拒绝 2 行", timeout=60_000)
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="下载被拒行报告（2 行，号码已脱敏）").click()
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["行号", "类型", "证件号码（脱敏）", "手机号码（脱敏）", "原因"]
    assert sorted(line[0] for line in lines[1:]) == ["5", "6"]
    assert bad_id not in report and bad_phone not in report and mobile(88_019_000) not in report

    # The imported people are found by number, shown masked.
    search = page.get_by_role("form", name="查找通讯录")
    search.get_by_label("手机号码").fill(good[0][1])
    search.get_by_role("button", name="查找").click()
    table = search.get_by_role("table")
    expect(table).to_contain_text(f"{good[0][1][:3]}****{good[0][1][-4:]}")
    expect(table).to_contain_text("导入人0")
    expect(table).not_to_contain_text(good[0][1])
    expect(table).not_to_contain_text(good[0][0])
    shot(page, "contacts-import")
