"""The send list reads a send's state in plain words, as the send's own page does: a send whose
every message has its final state is 已发送完毕 there too, and the filter finds it under that
name, not under 发送中; no internal word (展开, 已全部排队发送) reaches staff."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TAG = "列表状态"  # this test's people alone, whatever other tests put in the district
NAME = "列表状态核对通知"
TEXT = "威海社保提醒：您的2026年度参保缴费记录已更新，可在网上服务大厅查询。"


def test_a_finished_send_reads_as_finished_in_the_list_and_its_filter(portal_platform, staff_api, browser):
    operator = staff_api.account("list-op-", "city", ["city_operator"], "吴列表")
    reviewer = staff_api.account("list-rev-", "city", ["city_reviewer"], "郑审核")
    contacts = [person(8500 + n, district="huancui", tags=[TAG]) for n in range(2)]
    staff_api.add_people(operator, contacts)
    template = staff_api.targeted_template(operator, reviewer, NAME, "city", TEXT, remark="缴费记录更新通知")
    created = staff_api.call(
        "POST",
        "/send-requests",
        operator["token"],
        {"template_id": template["template_id"], "values": {}, "audience": {"kind": "person", "tag": TAG}},
    )
    request_id = created["request_id"]
    staff_api.call("POST", f"/send-requests/{request_id}/approval", reviewer["token"])
    staff_api.finished_send(operator["token"], request_id)

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    expect(page.locator("#who-name")).to_contain_text("吴列表")
    page.goto(f"{portal_platform.api}/portal/#/sends")
    row = page.locator("tr", has=page.locator(f'a[href="#/sends/{request_id}"]'))
    expect(row).to_contain_text("已发送完毕")
    expect(row).to_contain_text("2 人")
    main = page.locator("main")
    expect(main).not_to_contain_text("已全部排队发送")
    expect(main).not_to_contain_text("展开")
    shot(page, "send-list-finished")

    status = page.get_by_label("状态")
    expect(status.locator("option")).to_have_text(
        ["全部", "待审核", "已批准，待发送", "发送中", "已发送完毕", "已停止", "审核未通过", "已取消"]
    )
    status.select_option(label="已发送完毕")
    expect(row).to_contain_text("已发送完毕")
    status.select_option(label="发送中")
    expect(page.locator(f'a[href="#/sends/{request_id}"]')).to_have_count(0)

    # The list and the send's own page say the same.
    page.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    expect(page.locator("#request-status")).to_have_text("已发送完毕")
