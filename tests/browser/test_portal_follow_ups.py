"""A follow-up in the portal: on a released send's page a district operator sees how many it did
not reach and proposes a new request to only those; the reviewer sees which send it follows and
how many it reaches."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import mobile, person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TAG = "再次发送"  # this test's people alone, whatever other tests put in the district
TEXT = "乳山社保提醒：您的社保缴费记录已更新，可在网上服务大厅查询。"


def wait_for_failures(staff_api, token: str, request_id: str, failed: int) -> None:
    """Until the send's receipts show ``failed`` failures (the release schedule runs each minute)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        progress = staff_api.call("GET", f"/send-requests/{request_id}", token)["progress"] or {}
        if progress.get("failed") == failed and progress.get("delivered", 0) + failed == progress.get("sent"):
            return
        time.sleep(2)
    raise AssertionError(f"the send's receipts did not arrive: {progress}")


def test_an_operator_follows_up_a_send_and_the_reviewer_sees_what_it_follows(portal_platform, staff_api, browser):
    district = staff_api.account("fu-op-", "rushan", ["district_operator"], "吴再发")
    reviewer = staff_api.account("fu-rev-", "city", ["city_reviewer"], "郑审核")
    people = [person(7600 + n, district="rushan", tags=[TAG]) for n in range(3)]
    staff_api.add_people(district, people)
    template = staff_api.targeted_template(
        district, reviewer, "缴费记录更新通知", "rushan", TEXT, remark="缴费记录更新"
    )
    # The carrier reports the first person's number as an empty number.
    answer = requests.post(
        f"{portal_platform.carrier}/_simulator/undelivered", json={"numbers": {mobile(7600): "DB:0101"}}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    first = staff_api.call(
        "POST", "/send-requests", district["token"],
        {"template_id": template["template_id"], "values": {},
         "audience": {"kind": "person", "districts": ["rushan"], "tag": TAG}},
    )["request_id"]  # fmt: skip
    staff_api.call("POST", f"/send-requests/{first}/approval", reviewer["token"])
    wait_for_failures(staff_api, district["token"], first, 1)

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.goto(f"{portal_platform.api}/portal/#/sends/{first}")
    page.get_by_role("button", name="对未送达人员再次发送").click()
    expect(page.locator("#follow-up-counts")).to_have_text("未送达 1 人：发送失败 1 人，无法送达 0 人")
    expect(page.locator("#follow-up-sample")).to_contain_text(TEXT)
    expect(page.locator("#follow-up-totals")).to_contain_text("共 1 人")
    shot(page, "follow-up-form")
    page.get_by_label("申请说明").fill("原号码为空号，已于通讯录更新后再次发送")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#request-status")).to_have_text("待审核")
    follow_up = page.url.rsplit("/", 1)[1]
    assert follow_up != first
    expect(page.locator("#request-follow-up")).to_contain_text(
        "的未送达人员再次发送：共 1 人（原发送失败 1 人，无法送达 0 人）"
    )

    review = browser.new_page()
    sign_in(review, portal_platform, reviewer["username"], reviewer["password"])
    review.goto(f"{portal_platform.api}/portal/#/sends/{follow_up}")
    expect(review.locator("#request-audience")).to_contain_text("1 人（参保人员，乳山市）")
    expect(review.locator("#request-follow-up")).to_contain_text("原申请“缴费记录更新通知”")
    expect(review.get_by_role("button", name="审核通过")).to_be_visible()
    expect(review.locator("main")).not_to_contain_text(mobile(7600))
    shot(review, "follow-up-review")
