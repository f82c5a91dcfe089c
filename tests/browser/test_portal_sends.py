"""A district office's publicity send in the portal: built with a live count and sample,
approved by the city office, followed while it runs and then seen delivered on the dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sms_platform.text import sms

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TAG = "居民缴费宣传"  # this test's people alone, whatever other tests put in the district
TEXT = "威海社保提醒：城乡居民养老保险集中缴费已开始，请及时缴纳。拒收请回复R"


def test_a_district_publicity_request_is_approved_by_the_city_and_seen_delivered(portal_platform, staff_api, browser):
    district = staff_api.account("pub-op-", "huancui", ["district_operator"], "赵区县")
    reviewer = staff_api.account("pub-rev-", "city", ["city_reviewer"], "钱审核")
    contacts = [person(7100 + n, district="huancui", tags=[TAG]) for n in range(3)]
    batch = staff_api.call("POST", "/contacts/batch", district["token"], {"contacts": contacts})
    assert batch["rejected"] == 0, batch
    template = staff_api.active_template(
        district,
        reviewer,
        {
            "name": "居民养老缴费提醒",
            "category": "publicity",
            "office": "huancui",
            "text": TEXT,
            "variables": [],
            "valid_from": staff_api.platform_now().date().isoformat(),
            "valid_until": "2030-12-31",
            "remark": "年度集中缴费宣传",
        },
    )
    signature = next(
        s["name"]
        for s in staff_api.call("GET", "/signatures", district["token"])["signatures"]
        if s["office"] == "huancui"
    )
    parts = sms.measure(TEXT, signature).parts

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.get_by_role("link", name="发送申请").click()
    page.get_by_role("link", name="新建发送申请").click()
    page.get_by_label("模板").select_option(template["template_id"])
    page.get_by_label("标签").fill(TAG)
    expect(page.locator("#audience-count")).to_have_text("3 人")
    expect(page.locator("#send-sample")).to_have_text(f"【{signature}】{TEXT}")
    expect(page.locator("#send-totals")).to_have_text(f"每人 {parts} 条，共 3 人，合计 {3 * parts} 条")

    # Publicity only between 08:00 and 21:00 Beijing time.
    late = f"{staff_api.platform_now().date().isoformat()}T22:30"
    page.get_by_label("发送时间（北京时间，不填为审核通过后立即发送）").fill(late)
    expect(page.locator("#send-timing")).to_contain_text("不在 08:00-21:00")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator('[data-error-for="send_at"]')).to_contain_text("08:00 至 21:00")
    page.get_by_label("发送时间（北京时间，不填为审核通过后立即发送）").fill("")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#request-status")).to_have_text("待审核")
    request_id = page.url.rsplit("/", 1)[1]

    review = browser.new_page()
    sign_in(review, portal_platform, reviewer["username"], reviewer["password"])
    review.get_by_role("link", name="发送申请").click()
    review.get_by_role("link", name="待审核").click()
    review.locator(f'tr[data-key="{request_id}"] a').click()
    expect(review.locator("#review-audience")).to_have_text(f"3 人（参保人员，环翠区，标签：{TAG}）")
    review.get_by_role("button", name="审核通过", exact=True).click()
    outcome = review.locator(".review-outcome")
    expect(outcome).to_contain_text("已审核通过：宣传公告：居民养老缴费提醒（环翠区）。")
    outcome.get_by_role("link", name="查看该申请").click()
    # Sent at once: the local schedule releases it within five seconds of the approval (AWS's
    # every minute), so the page may open on it waiting or already under way. The wait itself,
    # and what the page offers then, is test_portal_send_states' subject.
    expect(review.locator("#request-status")).to_have_text(re.compile("已批准，待发送|发送中|已发送完毕"))

    # The progress view follows the send without a reload.
    delivered = review.locator('[data-stat="delivered"] b')
    expect(delivered).to_have_text("3", timeout=150_000)
    expect(review.locator('[data-stat="failed"] b')).to_have_text("0")
    expect(review.locator("#request-status")).to_have_text("已发送完毕")

    review.get_by_role("link", name="统计与运维").click()
    totals = review.locator("#delivery-totals")
    expect(totals.locator('[data-stat="delivered"] b')).to_have_text(re.compile(r"^[3-9]|\d\d+"))
    expect(review.get_by_role("img", name="各单位送达条数")).to_contain_text("环翠区")
    shot(review, "publicity-delivered")
