"""The audit page in Chinese: each entry's action and object in Chinese with the operator's real
name and the template's name, operators searched by name (offered from a list of everyone) and
templates chosen by name; a name that fits several people is refused beside the field."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def test_an_auditor_reads_the_trail_in_chinese_and_finds_an_operator_by_name(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    name = f"审计{tag}号"
    operator = staff_api.account("aud-op-", "city", ["city_operator"], name)
    namesake = staff_api.account("aud-op-", "huancui", ["district_operator"], f"{name}乙")
    auditor = staff_api.account("aud-", "city", ["auditor"], "冯审计")
    today = staff_api.platform_now().date()
    draft = {
        "name": f"审计可查模板{tag}", "category": "targeted", "office": "city", "text": "请按时办理社保年审。",
        "variables": [], "valid_from": today.isoformat(), "valid_until": today.replace(year=today.year + 1).isoformat(),
        "remark": "年审提醒",
    }  # fmt: skip
    template_id = staff_api.call("POST", "/templates", operator["token"], draft)["template_id"]
    staff_api.call("POST", f"/templates/{template_id}/versions/1/submission", operator["token"])

    page = browser.new_page()
    sign_in(page, portal_platform, auditor["username"], auditor["password"])
    page.get_by_role("link", name="审计").click()
    form = page.get_by_role("form", name="查询审计记录")
    expect(page.locator("#audit-operators option")).not_to_have_count(0)
    expect(page.locator(f'#audit-operators option[value="{name}"]')).to_have_count(1)

    # Part of a name that fits two people is refused beside the field, naming both.
    form.get_by_label("操作人").fill(f"审计{tag}")
    form.get_by_role("button", name="查询").click()
    expect(form.locator('[data-error-for="operator"]')).to_have_text(
        f"“审计{tag}”对应多个账号：{name}（{operator['username']}，市社保中心）、{name}乙（{namesake['username']}，环翠区），"
        "请输入其中一个的用户名"
    )

    # The whole name finds the one person it is.
    form.get_by_label("操作人").fill(name)
    form.get_by_role("button", name="查询").click()
    rows = page.locator("#audit-results tbody tr")
    expect(rows.filter(has_text="模板：提交审核")).to_have_count(1)
    expect(rows.filter(has_text="模板：新建")).to_have_count(1)
    submitted = rows.filter(has_text="模板：提交审核")
    expect(submitted).to_contain_text(f"{name}（{operator['username']}）")
    expect(submitted.locator(".audit-target")).to_have_text(f"模板“审计可查模板{tag}”第 1 版")
    expect(submitted.locator(".audit-target")).to_have_attribute("title", f"template:{template_id}:v1")
    expect(page.locator("#audit-results")).not_to_contain_text("template.submit")
    shot(page, "audit-by-name")

    # Templates are chosen by name.
    form.get_by_label("操作人").fill("")
    form.get_by_label("模板").select_option(label=f"审计可查模板{tag}（市社保中心）")
    form.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("模板：新建")
    expect(rows.nth(1)).to_contain_text("模板：提交审核")
    for row in range(2):
        expect(rows.nth(row).locator("td").nth(3)).not_to_have_text(re.compile(r"^[a-z_.]+$"))
    shot(page, "audit-by-template")
