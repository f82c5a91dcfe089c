"""IT operations read every lane by a plain Chinese name: the queue that turns a large send into
batches is 生成发送批次（大批量发送的准备）, never the internal word 展开 (fan-out)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

LANE_NAMES = [
    "高优先级（挂机、触发、订阅、验证码）",
    "普通（定向通知）",
    "批量（宣传公告）",
    "生成发送批次（大批量发送的准备）",
    "后台任务（通讯录导入）",
    "运营商回执与回复",
    "状态回调（业务系统）",
]


def test_the_lanes_are_named_in_plain_chinese(portal_platform, staff_api, browser):
    ops = staff_api.account("lanes-ops-", "it", ["it_ops"], "褚运维")
    lanes = {lane["lane"] for lane in staff_api.call("GET", "/operations/lanes", ops["token"])["lanes"]}
    assert "fanout" in lanes, lanes

    page = browser.new_page()
    sign_in(page, portal_platform, ops["username"], ops["password"])
    page.get_by_role("link", name="统计与运维").click()
    table = page.locator("#lane-depths")
    for name in LANE_NAMES:
        expect(table).to_contain_text(name)
    fanout = table.locator("tr", has=page.locator('[data-dead-letters="fanout"]'))
    expect(fanout.locator("td").first).to_have_text("生成发送批次（大批量发送的准备）")
    expect(page.locator("main")).not_to_contain_text("展开")
    fanout.get_by_role("button", name="查看").click()
    expect(page.locator("main h3").last).to_contain_text("生成发送批次（大批量发送的准备）：共")
    shot(page, "lane-names")
