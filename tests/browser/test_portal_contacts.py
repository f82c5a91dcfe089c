"""Contacts in the portal: a CSV import uploaded straight to storage, with a progress bar and
the rejected-row report, then the imported people found with masked numbers; a district's list
paged in one name order."""

from __future__ import annotations

import csv
import io
import math
import random
import re

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import shot, sign_in
from tests.contacts_support import id_number, mobile, person

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


# This test's people: names of their own, more than one page of a district no other test writes
# to, in pinyin order: 阿 (a) first, so they lead their district's list; then the stems bing ding
# geng gui ji jia ren wu xin yi and the branches chen chou mao si wei wu yin zi (ji before jia:
# syllable by syllable, a shorter one first). By code point they would run 阿甲子, 阿甲丑, ...
PAGED_DISTRICT = "jingqu"
PAGED_NAMES = ["阿" + a + b for a in "丙丁庚癸己甲壬戊辛乙" for b in "辰丑卯巳未午寅子"][:62]


def _shown_names(browse) -> list[str]:
    names = browse.get_by_role("table").locator("tbody tr td:first-child")
    expect(names.first).to_be_visible()
    return names.all_text_contents()


def test_a_districts_second_page_continues_the_name_order_of_the_first(portal_platform, staff_api, browser):
    city = staff_api.account("page-city-", "city", ["city_operator"], "褚翻页")
    district = staff_api.account("page-jq-", PAGED_DISTRICT, ["district_operator"], "卫翻页")
    shuffled = random.Random(61).sample(PAGED_NAMES, len(PAGED_NAMES))
    people = [person(6100 + n, name=name, district=PAGED_DISTRICT) for n, name in enumerate(shuffled)]
    staff_api.call("POST", "/contacts/batch", city["token"], {"contacts": people})

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.get_by_role("link", name="通讯录").click()
    browse = page.get_by_role("form", name="按区县浏览")
    # A district office browses its own district only.
    expect(browse.get_by_label("区县").locator("option")).to_have_text(["经区"])
    browse.get_by_role("button", name="浏览").click()
    pager = browse.get_by_role("navigation", name="通讯录分页")
    expect(pager).to_contain_text(re.compile(r"第 1 / \d+ 页，共 \d+ 条"))
    total = int(pager.locator(".district-total").get_attribute("data-total"))
    assert total >= len(PAGED_NAMES)
    expect(pager).to_contain_text(f"第 1 / {math.ceil(total / 50)} 页，共 {total} 条")
    first = _shown_names(browse)

    pager.get_by_role("button", name="下一页").click()
    expect(pager).to_contain_text(f"第 2 / {math.ceil(total / 50)} 页，共 {total} 条")
    second = _shown_names(browse)

    assert len(first) == 50
    ours = [name for name in first + second if name in PAGED_NAMES]
    assert ours == PAGED_NAMES  # in pinyin order, page 2 picking up where page 1 ended
    assert ours[:50] == first  # this test's people lead the district: 50 on page 1, the rest after
    assert second[:12] == PAGED_NAMES[50:]
    expect(browse.get_by_role("table").locator("caption")).to_contain_text("按姓名或名称的拼音顺序排列")
    expect(browse.get_by_role("table")).to_contain_text("经区")
    expect(browse.get_by_role("table")).not_to_contain_text(
        re.compile("环翠区|文登区|荣成市|乳山市|高区|临港区|南海新区")
    )
    assert_accessible(page, "contacts, a district's second page")
    shot(page, "contacts-paged-by-name")
