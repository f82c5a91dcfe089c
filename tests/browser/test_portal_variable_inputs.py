"""What staff type into a send's variables is what is sent: a value over its declared length is
kept as typed, counted beside the field and refused with a message (never silently cut), and a
date variable is picked with a date picker and written as its template declares it
(2026年12月31日)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TEXT = "威海社保提醒：您的${item}须在${deadline}前办理，详询12333。"


def test_send_variables_are_never_cut_and_dates_are_written_as_declared(portal_platform, staff_api, browser):
    city = staff_api.account("vars-op-", "city", ["city_operator"], "吴市局")
    reviewer = staff_api.account("vars-rev-", "city", ["city_reviewer"], "郑审核")
    contacts = [person(7400 + n, district="gaoqu") for n in range(2)]
    batch = staff_api.call("POST", "/contacts/batch", city["token"], {"contacts": contacts})
    assert batch["rejected"] == 0, batch
    template = staff_api.active_template(
        city,
        reviewer,
        {
            "name": "年度认证截止提醒",
            "category": "targeted",
            "office": "city",
            "text": TEXT,
            "variables": [
                {"name": "item", "type": "text", "max_length": 4},
                {"name": "deadline", "type": "date", "max_length": 11, "format": "chinese"},
            ],
            "valid_from": staff_api.platform_now().date().isoformat(),
            "valid_until": "2030-12-31",
            "remark": "年度待遇资格认证截止提醒",
        },
    )

    page = browser.new_page()
    sign_in(page, portal_platform, city["username"], city["password"])
    page.get_by_role("link", name="发送申请").click()
    page.get_by_role("link", name="新建发送申请").click()
    page.get_by_label("模板").select_option(template["template_id"])

    # One character over the declared four: kept as typed, counted, refused on submit.
    item = page.get_by_label("变量 item")
    item.fill("资格认证手续")
    expect(item).to_have_value("资格认证手续")
    field = page.locator(".field").filter(has=item)
    expect(field.locator(".length-hint")).to_have_text("最多 4 字，已输入 6 字，请删去 2 字")
    expect(page.locator("#send-sample")).to_contain_text("您的资格认证手续须在")
    page.get_by_label("申请说明").fill("认" * 301)
    expect(page.get_by_label("申请说明")).to_have_value("认" * 301)
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator('[data-error-for="values.item"]')).to_have_text("最多 4 字，当前 6 字，请删减后再提交")
    expect(page.locator('[data-error-for="note"]')).to_have_text("最多 300 字，当前 301 字，请删减后再提交")
    shot(page, "variables-over-length")
    assert "#/sends/new" in page.url
    listed = staff_api.call("GET", "/send-requests", city["token"], status="submitted")["requests"]
    assert all(r["template_id"] != template["template_id"] for r in listed)

    # The date is picked, and written as the template declares it.
    deadline = page.get_by_label("变量 deadline")
    expect(deadline).to_have_attribute("type", "date")
    deadline.fill("2026-12-31")
    expect(page.locator("#send-sample")).to_contain_text("须在2026年12月31日前办理")

    item.fill("资格认证")
    expect(field.locator(".length-hint")).to_have_text("最多 4 字，已输入 4 字")
    page.get_by_label("申请说明").fill("年度认证")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#request-status")).to_have_text("待审核")
    expect(page.locator(".facts .preview")).to_contain_text("您的资格认证须在2026年12月31日前办理")
    request_id = page.url.rsplit("/", 1)[1]
    sent = staff_api.call("GET", f"/send-requests/{request_id}", city["token"])["request"]["values"]
    assert sent == {"item": "资格认证", "deadline": "2026年12月31日"}
    shot(page, "variables-submitted")
