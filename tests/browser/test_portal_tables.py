"""Lists that grow, in a stable order staff can change: a district's contacts in the server's
name order (pinyin, running on across pages), a page sorted again by a click on a heading, with
the page's count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

# Sequence numbers of this test's people (ID numbers of their own), given in no order of name.
PEOPLE = {7741: "赵排序", 7742: "安排序", 7743: "王排序", 7744: "李排序", 7745: "张排序"}
# an, li, wang, zhang, zhao (by code point 张 U+5F20 would come before 李 U+674E and 王 U+738B)
IN_PINYIN_ORDER = ["安排序", "李排序", "王排序", "张排序", "赵排序"]


def test_a_districts_contacts_are_listed_by_name_and_sort_by_a_heading(portal_platform, staff_api, browser):
    operator = staff_api.account("tbl-", "nanhai", ["district_operator"], "排序核对")
    people = [person(seq, name=name, district="nanhai") for seq, name in PEOPLE.items()]
    staff_api.call("POST", "/contacts/batch", operator["token"], {"contacts": people})

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="通讯录").click()
    browse = page.get_by_role("form", name="按区县浏览")
    browse.get_by_role("button", name="浏览").click()
    table = browse.get_by_role("table")
    names = table.locator("tbody tr td:first-child")
    expect(names.filter(has_text="排序")).to_have_count(5)
    ours = [name for name in names.all_text_contents() if name in PEOPLE.values()]
    assert ours == IN_PINYIN_ORDER  # the order the pages run in, as the server gives it
    expect(table.locator("caption")).to_contain_text("按姓名或名称的拼音顺序排列")
    heading = table.get_by_role("columnheader", name=re.compile("^姓名或名称"))
    expect(heading).to_have_attribute("aria-sort", "none")
    expect(browse.locator(".table-total")).to_have_text(re.compile(r"^本页 \d+ 条$"))
    expect(browse.get_by_role("navigation", name="通讯录分页")).to_contain_text(re.compile(r"第 1 / \d+ 页，共 \d+ 条"))

    heading.click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    ours = [name for name in names.all_text_contents() if name in PEOPLE.values()]
    assert ours == IN_PINYIN_ORDER
    heading.click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    ours = [name for name in names.all_text_contents() if name in PEOPLE.values()]
    assert ours == IN_PINYIN_ORDER[::-1]
    # The masked ID numbers sort too; the detail buttons' column does not.
    expect(table.get_by_role("columnheader", name=re.compile("^证件号码"))).to_have_attribute("aria-sort", "none")
    expect(table.get_by_role("columnheader", name="操作")).not_to_have_attribute("aria-sort", re.compile(".*"))
    shot(page, "contacts-sorted")
