"""A district office's worklist of numbers to verify and its block list in the portal: the counts
on the dashboard, the list with masked numbers and the failures' reasons in Chinese, confirming a
number, entering a new one, and blocking and unblocking a number by hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import mobile, person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

FIRST, SECOND, THIRD = 9931, 9932, 9933  # sequence numbers of this test's people (its own ID numbers)


def mark_in_platform(staff_api, phone: str) -> None:
    """Two permanent failures of ``phone`` in two sends, recorded as the receipts worker of the
    running platform records them (the full loop through sends and receipts is tested on moto)."""
    from sms_platform.contacts import number_checks
    from sms_platform.foundation import crypto
    from sms_platform.sending import number_health
    from sms_platform.sending.messages import message_id

    with staff_api.platform.functions_environment():
        now = staff_api.platform_now()
        phone_hash = crypto.keyed_hash(phone)
        for index, code in enumerate(("DB:0101", "UNDELIV")):
            source = f"send:browser{index}"
            number_health.note_failure(
                {"message_id": message_id(source, phone_hash), "phone_hash": phone_hash,
                 "phone_masked": f"{phone[:3]}****{phone[-4:]}", "source_id": source, "kind": "targeted",
                 "template_id": "t1", "error_code": code, "state": "failed", "created_at": now.isoformat()},
                at=now,
            )  # fmt: skip
        number_checks.flag_numbers([phone_hash], now=now)


def test_a_district_works_through_its_numbers_to_verify_and_blocks_a_number(portal_platform, staff_api, browser):
    operator = staff_api.account("wd-check-", "wendeng", ["district_operator"], "孙核实")
    people = [person(seq, name=f"核实人{seq}") for seq in (FIRST, SECOND, THIRD)]
    staff_api.call("POST", "/contacts/batch", operator["token"], {"contacts": people})
    for seq in (FIRST, SECOND):
        mark_in_platform(staff_api, mobile(seq))

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="统计与运维").click()
    totals = page.locator("#number-check-totals")
    expect(totals.locator("[data-district=wendeng] b")).to_have_text("2")
    expect(totals).not_to_contain_text("环翠区")  # a district sees its own count only
    shot(page, "numbers-dashboard")

    page.get_by_role("link", name="查看待核实名单并处理").click()
    listed = page.locator("#number-checks table")
    expect(listed.locator("tbody tr")).to_have_count(2)
    expect(listed).to_contain_text("核实人9931")
    expect(listed).to_contain_text(f"139****{mobile(FIRST)[-4:]}")
    expect(listed).to_contain_text("空号（DB:0101）")
    expect(listed).to_contain_text("停机（UNDELIV）")
    for seq in (FIRST, SECOND):
        expect(page.locator("main")).not_to_contain_text(mobile(seq))
    shot(page, "numbers-worklist")

    # The first: the office reached the person, the number is valid after all.
    page.get_by_role("button", name="处理 核实人9931 的号码").click()
    page.get_by_role("button", name="号码有效", exact=False).click()
    expect(page.locator("#toast")).to_contain_text("已核实为有效")
    expect(listed.locator("tbody tr")).to_have_count(1)
    expect(listed).not_to_contain_text("核实人9931")

    # The second gave a new number; a wrong one is refused beside the field.
    page.get_by_role("button", name="处理 核实人9932 的号码").click()
    action = page.locator("#number-check-action")
    action.get_by_label("本人提供的新号码").fill("1390000")
    action.get_by_role("button", name="录入新号码").click()
    expect(action.locator("[data-error-for=phone]")).to_contain_text("手机号码格式不正确")
    shot(page, "numbers-new-number-refused")
    action.get_by_label("本人提供的新号码").fill(mobile(9939))
    action.get_by_role("button", name="录入新号码").click()
    expect(page.locator("#toast")).to_contain_text(f"已更换为 139****{mobile(9939)[-4:]}")
    expect(listed).to_contain_text("本区县没有待核实的号码")
    expect(page.locator("#number-check-counts [data-district=wendeng] b")).to_have_text("0")

    # A number blocked by hand, with its reason; the list shows it masked; then unblocked.
    blocks = page.get_by_role("form", name="黑名单")
    blocks.get_by_label("手机号码").fill(mobile(THIRD))
    blocks.get_by_label("原因（记入审计）").fill("本人投诉，要求不再接收任何短信")
    blocks.get_by_role("button", name="列入黑名单").click()
    expect(blocks.locator(".notice")).to_contain_text("已列入黑名单，不再向其发送任何短信")
    table = page.locator("#number-blocks table")
    expect(table).to_contain_text(f"139****{mobile(THIRD)[-4:]}")
    expect(table).to_contain_text("本人投诉，要求不再接收任何短信")
    expect(table).to_contain_text("孙核实")
    expect(page.locator("main")).not_to_contain_text(mobile(THIRD))
    shot(page, "numbers-blocked")

    blocks.get_by_label("手机号码").fill(mobile(THIRD))
    blocks.get_by_label("原因（记入审计）").fill("本人来电要求恢复")
    blocks.get_by_role("button", name="解除黑名单").click()
    expect(blocks.locator(".notice")).to_contain_text("不在黑名单中，可以正常接收短信")
    expect(table).not_to_contain_text(f"139****{mobile(THIRD)[-4:]}")
    shot(page, "numbers-unblocked")
