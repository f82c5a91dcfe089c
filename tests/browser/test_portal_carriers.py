"""The carriers page (运营商通道) for IT operations: each carrier's state and health, a lane's
weights refused with the reason beside the field and then saved, a carrier drained by hand with
its reason shown, and returned; an auditor reads the page without the controls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

DEFAULT = {"alibaba": 100, "tencent": 0}


def test_it_operations_set_weights_and_drain_a_carrier(portal_platform, staff_api, browser):
    ops = staff_api.account("carrier-ops-", "it", ["it_ops"], "褚运维")
    page = browser.new_page()
    sign_in(page, portal_platform, ops["username"], ops["password"])
    page.get_by_role("link", name="运营商通道").click()
    health = page.locator("#carrier-health")
    expect(health).to_contain_text("阿里云短信")
    expect(health).to_contain_text("腾讯云短信")
    expect(page.locator('[data-state="tencent"]')).to_have_text("轮换中")
    try:
        bulk = page.locator('form[data-lane="bulk"]')
        bulk.locator('[data-weight="bulk:alibaba"]').fill("150")
        bulk.get_by_role("button", name="保存权重").click()
        expect(bulk.locator('[data-error-for="weights.alibaba"]')).to_have_text("阿里云短信的权重须为 0 到 100 的整数")

        bulk = page.locator('form[data-lane="bulk"]')
        bulk.locator('[data-weight="bulk:alibaba"]').fill("60")
        bulk.locator('[data-weight="bulk:tencent"]').fill("40")
        bulk.get_by_role("button", name="保存权重").click()
        expect(page.locator('form[data-lane="bulk"]')).to_contain_text("最近修改")
        weights = {lane["lane"]: lane["weights"] for lane in staff_api.call("GET", "/carriers", ops["token"])["lanes"]}
        assert weights["bulk"] == {"alibaba": 60, "tencent": 40} and weights["high"] == DEFAULT

        page.get_by_role("button", name="停用 腾讯云短信").click()
        page.locator("#drain-form").get_by_label("停用原因").fill("运营商通知今晚维护")
        page.get_by_role("button", name="确认停用").click()
        expect(page.locator('[data-state="tencent"]')).to_have_text("已人工停用")
        expect(page.locator('[data-why="tencent"]')).to_contain_text("运营商通知今晚维护")
        expect(page.locator('[data-why="tencent"]')).to_contain_text(ops["username"])
        shot(page, "carriers")

        page.get_by_role("button", name="恢复 腾讯云短信").click()
        expect(page.locator('[data-state="tencent"]')).to_have_text("轮换中")
    finally:  # the platform is shared by the browser tests: leave the defaults
        for lane in ("high", "normal", "bulk"):
            staff_api.call("PUT", f"/carriers/weights/{lane}", ops["token"], body={"weights": DEFAULT})
        states = {
            c["carrier"]: c["state"]["state"] for c in staff_api.call("GET", "/carriers", ops["token"])["carriers"]
        }
        if states.get("tencent") == "drained":
            staff_api.call("POST", "/carriers/tencent/restore", ops["token"], body={})


def test_an_auditor_reads_the_carriers_without_the_controls(portal_platform, staff_api, browser):
    auditor = staff_api.account("carrier-aud-", "it", ["auditor"], "卫审计")
    page = browser.new_page()
    sign_in(page, portal_platform, auditor["username"], auditor["password"])
    page.get_by_role("link", name="运营商通道").click()
    expect(page.locator("#carrier-health")).to_contain_text("阿里云短信")
    expect(page.locator('[data-weight="high:alibaba"]')).to_be_disabled()
    expect(page.get_by_role("button", name="保存权重")).to_have_count(0)
    expect(page.get_by_role("button", name="停用 阿里云短信")).to_have_count(0)


def test_the_dashboard_gives_each_carriers_totals_and_cost(portal_platform, staff_api, browser):
    ops = staff_api.account("carrier-dash-", "it", ["it_ops"], "蒋运维")
    page = browser.new_page()
    sign_in(page, portal_platform, ops["username"], ops["password"])
    page.get_by_role("link", name="统计与运维").click()
    totals = page.locator("#carrier-totals")
    expect(totals).to_contain_text("各运营商合计与费用")
    expect(totals).to_contain_text("阿里云短信")
    expect(totals).to_contain_text("腾讯云短信")
    expect(totals.locator("th", has_text="费用（元）")).to_have_count(1)
    expect(totals).to_contain_text("4.5")  # Tencent's price per part, in fen
    totals.scroll_into_view_if_needed()
    shot(page, "dashboard-carriers")
