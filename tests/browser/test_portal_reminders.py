"""Reminder waves in the portal: a district operator proposes a notice in two waves before a
deadline (the form shows each wave's date); the reviewer sees the waves, their dates and the
done-event and approves once; after the first wave goes out, the send's page counts each wave and
offers to cancel the wave still to come."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sms_platform.foundation.clock import BEIJING

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import mobile, person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TAG = "缴费截止提醒"  # this test's people alone, whatever other tests put in the district
TEXT = "临港社保提醒：本年度医保缴费将于近日截止，请及时缴纳，已缴纳请忽略。"


def wait_for_first_wave(staff_api, token: str, request_id: str, people: int) -> dict:
    """Until the first wave is released and its receipts are in (the schedule runs each minute)."""
    deadline = time.monotonic() + 240
    view: dict = {}
    while time.monotonic() < deadline:
        view = staff_api.call("GET", f"/send-requests/{request_id}", token)
        first = view["waves"][0]
        if first["delivered"] == people:
            return view
        time.sleep(2)
    raise AssertionError(f"the first wave did not go out: {view.get('waves')}")


def test_a_reminder_in_two_waves_is_proposed_reviewed_once_and_counted_per_wave(portal_platform, staff_api, browser):
    district = staff_api.account("rem-op-", "lingang", ["district_operator"], "钱提醒")
    reviewer = staff_api.account("rem-rev-", "city", ["city_reviewer"], "孔审核")
    people = [person(7950 + n, district="lingang", tags=[TAG]) for n in range(3)]
    staff_api.add_people(district, people)
    staff_api.targeted_template(district, reviewer, "医保缴费截止提醒", "lingang", TEXT, remark="医保缴费提醒")
    # The first wave two days before a deadline the day after tomorrow: today, at this minute
    # while it is under 20 s old, else the next. A wave up to a minute late is accepted and goes
    # at once, so it is proposed well within that and waits at most about 40 s.
    now = staff_api.platform_now().astimezone(BEIJING)
    minute = now.replace(second=0, microsecond=0)
    at = (minute if now.second < 20 else minute + timedelta(minutes=1)).strftime("%H:%M")
    deadline = (now + timedelta(days=2)).date()
    first_day, second_day = now.date(), (now + timedelta(days=1)).date()

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.goto(f"{portal_platform.api}/portal/#/sends/new")
    page.get_by_label("模板").select_option(label="医保缴费截止提醒（定向通知）")
    page.get_by_label("标签").fill(TAG)
    page.locator("#reminder-on").check()
    page.locator("#reminder-deadline").fill(deadline.isoformat())
    page.locator("#reminder-at").fill(at)
    page.locator("#reminder-done-event").fill("medical.paid")
    page.locator("#reminder-days").fill("1, 2")
    expect(page.locator("#reminder-plan li")).to_have_text([
        f"第 1 轮：{first_day.isoformat()} {at}（截止日期前 2 天）",
        f"第 2 轮：{second_day.isoformat()} {at}（截止日期前 1 天）",
    ])  # fmt: skip
    expect(page.get_by_label("发送时间（北京时间，不填为审核通过后立即发送）")).to_be_hidden()
    shot(page, "reminder-form")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#request-status")).to_have_text("待审核")
    request_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#request-reminder")).to_have_text(
        f"截止日期 {deadline.isoformat()}，共 2 轮；收到 medical.paid 事件的对象不再提醒"
    )

    review = browser.new_page()
    sign_in(review, portal_platform, reviewer["username"], reviewer["password"])
    review.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    waves = review.locator("#reminder-waves tbody tr")
    expect(waves).to_have_count(2)
    expect(waves.nth(0)).to_contain_text(f"{first_day.isoformat()} {at}")
    expect(waves.nth(1)).to_contain_text(f"{second_day.isoformat()} {at}")
    expect(waves.nth(1)).to_contain_text("待审核")
    expect(review.locator("#request-reminder")).to_contain_text("medical.paid")
    shot(review, "reminder-review")
    review.get_by_role("button", name="审核通过").click()
    # The first wave may go out as soon as it is approved; the second waits for its day.
    expect(review.locator("#request-status")).to_have_text(re.compile("已批准，待发送|发送中|已发送完毕"))
    expect(waves.nth(1)).to_contain_text("已批准，待发送")

    wait_for_first_wave(staff_api, district["token"], request_id, len(people))
    page.goto(f"{portal_platform.api}/portal/#/sends")
    page.goto(f"{portal_platform.api}/portal/#/sends/{request_id}")
    cells = page.locator("#reminder-waves tbody tr").nth(0).locator("td")
    # 轮次, 发送时间, 状态, 对象, 已办理跳过, 已发送, 已送达, 失败
    expect(cells.nth(3)).to_have_text("3")
    expect(cells.nth(4)).to_have_text("0")
    expect(cells.nth(5)).to_have_text("3")
    expect(cells.nth(6)).to_have_text("3")
    expect(cells.nth(7)).to_have_text("0")
    expect(page.locator("#reminder-waves tbody tr").nth(1)).to_contain_text("已批准，待发送")
    expect(page.locator("main")).not_to_contain_text(mobile(7950))
    shot(page, "reminder-detail")
    page.get_by_role("button", name="取消后续 1 轮提醒").click()
    expect(page.locator("#reminder-waves tbody tr").nth(1)).to_contain_text("已取消")
    expect(page.get_by_role("button", name="取消后续 1 轮提醒")).to_have_count(0)
    shot(page, "reminder-waves-cancelled")
