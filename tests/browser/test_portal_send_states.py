"""A send's page follows the send while it is open: the reviewer who approved it is offered
取消申请 while it waits, 停止发送 once it runs, and neither once it is finished, when the page
says so with its totals; the progress reads in plain Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TAG = "页面跟随"  # this test's people alone, whatever other tests put in the district
TEXT = "威海社保提醒：2026年度职工医保个人账户已划入，请留意查收。"


def test_an_open_send_page_redraws_its_actions_and_status_as_the_send_moves(portal_platform, staff_api, browser):
    city = staff_api.account("live-op-", "city", ["city_operator"], "孙市局")
    reviewer = staff_api.account("live-rev-", "city", ["city_reviewer"], "周审核")
    contacts = [person(7300 + n, district="rushan", tags=[TAG]) for n in range(3)]
    staff_api.add_people(city, contacts)
    template = staff_api.targeted_template(city, reviewer, "医保划账通知", "city", TEXT, remark="医保个人账户划入通知")
    # Set to go half a minute from now, so that it waits, approved, for as long as the page needs
    # to show that. Sent at once, it is released at the local schedule's next tick, within five
    # seconds of the approval, and a slow page could miss the wait.
    send_at = staff_api.platform_now() + timedelta(seconds=30)
    created = staff_api.call(
        "POST",
        "/send-requests",
        city["token"],
        {
            "template_id": template["template_id"],
            "values": {},
            "audience": {"kind": "person", "districts": ["rushan"], "tag": TAG},
            "send_at": send_at.isoformat(),
        },
    )
    request_id = created["request_id"]

    page = browser.new_page()
    sign_in(page, portal_platform, reviewer["username"], reviewer["password"])
    expect(page.locator("#who-name")).to_contain_text("周审核")
    page.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator("#request-status")).to_have_text("已批准，待发送")
    expect(page.get_by_role("button", name="取消申请")).to_be_visible()

    # The open page is never reloaded. The send is released at its time and three messages are
    # sent in a moment, so a poll may find it running or already finished: whichever it finds,
    # the actions it offers are the ones of that state.
    status = page.locator("#request-status")
    expect(status).to_have_text(re.compile("发送中|已发送完毕"), timeout=150_000)
    # The status and the buttons read at one instant, so a redraw cannot fall between them.
    shown, stop_offered = page.evaluate(
        "() => [document.querySelector('#request-status').textContent,"
        " [...document.querySelectorAll('button')].some((b) => b.textContent === '停止发送')]"
    )
    assert stop_offered == (shown == "发送中"), (shown, stop_offered)
    expect(page.get_by_role("button", name="取消申请")).to_have_count(0)

    outcome = page.locator("#send-outcome")
    finished = "发送已完成：共 3 人，已送达 3 人，失败 0 人，未发送 0 人，计费 3 条。"
    expect(outcome).to_have_text(finished, timeout=150_000)
    expect(page.locator("#request-status")).to_have_text("已发送完毕")
    expect(page.get_by_role("button", name="停止发送")).to_have_count(0)
    expect(page.get_by_role("button", name="取消申请")).to_have_count(0)
    progress = page.locator("#send-progress")
    expect(progress).not_to_contain_text("已展开")
    expect(progress.locator('[data-stat="delivered"]')).to_have_text("已送达3")
    shot(page, "send-finished")
