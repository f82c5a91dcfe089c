"""Account administration in the portal: a temporary password shown in a dialog with a copy
button that stays until the administrator closes it; suspending, revoking a role and resetting a
password each confirmed first (cancelling changes nothing); the administrator's own row without
the actions the API refuses on one's own account; accounts ordered by name and found by search."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, shot, sign_in
from tests.staff_fixtures import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def _admin_page(browser, portal_platform, staff_api):
    staff_api.admin()  # TOTP enrolled: the administrator's sign-in asks for a code
    page = browser.new_page()
    sign_in(page, portal_platform, *ADMIN)
    page.get_by_label("身份验证器应用显示的 6 位动态口令").fill(totp_code(staff_api.admin_secret))
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("heading", name="账号与权限")).to_be_visible()
    return page


def test_the_administrator_confirms_changes_and_keeps_a_temporary_password_until_closing_it(
    portal_platform, staff_api, browser
):
    names = ["张三丰", "安一鸣", "王五洲"]
    made = [staff_api.create_account("ord-", "lingang", ["district_operator"], name) for name in names]
    target = made[1]
    browser.grant_permissions(["clipboard-read", "clipboard-write"])
    page = _admin_page(browser, portal_platform, staff_api)

    # Found by search, ordered by name (pinyin: an, wang, zhang).
    page.get_by_label("查找账号").fill("ord-")
    rows = page.locator("#accounts-list tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("安一鸣")
    expect(rows.nth(1)).to_contain_text("王五洲")
    expect(rows.nth(2)).to_contain_text("张三丰")
    page.get_by_label("查找账号").fill(made[0]["staff_number"])
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("张三丰")
    page.get_by_label("查找账号").fill(target["username"])
    row = page.get_by_role("row").filter(has_text=target["username"])
    expect(row).to_have_count(1)

    # Revoking a role asks first; cancelling keeps it.
    revoke = row.get_by_role("button", name=f"撤销 {target['username']} 的区县操作员")
    revoke.click()
    dialog = page.get_by_role("dialog", name="撤销角色")
    expect(dialog).to_contain_text(f"撤销 安一鸣（{target['username']}）的“区县操作员”角色？")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
    expect(revoke).to_be_visible()

    # Suspending asks first; cancelling leaves the account active, confirming suspends it.
    row.get_by_label(f"暂停 {target['username']} 的原因").fill("岗位调整")
    row.get_by_role("button", name=f"暂停账号 {target['username']}").click()
    dialog = page.get_by_role("dialog", name="暂停账号")
    expect(dialog).to_contain_text("原因：岗位调整")
    shot(page, "accounts-confirm-suspension")
    dialog.get_by_role("button", name="取消").click()
    expect(row).to_contain_text("正常")
    listed = staff_api.call("GET", "/accounts", staff_api.admin(), office="lingang")["accounts"]
    kept = next(a for a in listed if a["username"] == target["username"])
    assert kept["status"] == "active" and kept["roles"] == ["district_operator"], kept
    row.get_by_role("button", name=f"暂停账号 {target['username']}").click()
    page.get_by_role("dialog", name="暂停账号").get_by_role("button", name="确认暂停").click()
    expect(page.get_by_role("row").filter(has_text=target["username"])).to_contain_text("已暂停：岗位调整")
    page.get_by_role("button", name=f"恢复账号 {target['username']}").click()
    expect(page.get_by_role("row").filter(has_text=target["username"])).to_contain_text("正常")

    # A reset asks first; its temporary password stays in a dialog until it is closed.
    other = made[2]
    page.get_by_label("查找账号").fill(other["username"])
    page.get_by_role("button", name=f"重置 {other['username']} 的密码").click()
    page.get_by_role("dialog", name="重置密码").get_by_role("button", name="确认重置").click()
    secret = page.get_by_role("dialog", name=f"王五洲（{other['username']}）的临时密码")
    expect(secret).to_be_visible()
    password = secret.locator("#temporary-password").inner_text()
    assert re.fullmatch(r"\S{8,}", password), password
    page.wait_for_timeout(7_000)  # longer than a notice stays
    expect(secret).to_be_visible()
    page.keyboard.press("Escape")
    expect(secret).to_be_visible()
    secret.get_by_role("button", name="复制").click()
    expect(secret.get_by_role("status")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == password
    shot(page, "accounts-temporary-password")
    secret.get_by_role("button", name="我已记下，关闭").click()
    expect(secret).to_have_count(0)
    signed = requests.post(
        f"{portal_platform.api}/v1/staff/session",
        json={"username": other["username"], "password": password},
        timeout=30,
    ).json()
    assert signed.get("challenge") == "NEW_PASSWORD_REQUIRED", signed

    # A new account's temporary password is shown the same way.
    form = page.get_by_role("form", name="新建账号")
    username = f"{other['username']}-new"
    form.get_by_label("用户名").fill(username)
    form.get_by_label("真实姓名").fill("冯新人")
    form.get_by_label("工号").fill(f"{other['staff_number']}N")
    form.get_by_label("单位").select_option("lingang")
    form.get_by_label("区县操作员").check()
    form.get_by_role("button", name="新建账号").click()
    created = page.get_by_role("dialog", name=f"冯新人（{username}）的临时密码")
    expect(created.locator("#temporary-password")).not_to_be_empty()
    expect(page.locator("#created-account")).to_contain_text(f"已新建账号 {username}")
    created.get_by_role("button", name="我已记下，关闭").click()
    expect(created).to_have_count(0)

    # The administrator's own row offers nothing the API refuses on one's own account.
    page.get_by_label("查找账号").fill(ADMIN[0])
    own = page.get_by_role("row").filter(has=page.get_by_text("本人", exact=True))
    expect(own).to_have_count(1)
    expect(own).to_contain_text("本人账号的密码和动态口令请在“账号安全”中修改")
    expect(own.get_by_role("button", name=f"暂停账号 {ADMIN[0]}")).to_have_count(0)
    expect(own.get_by_role("button", name=f"重置 {ADMIN[0]} 的密码")).to_have_count(0)
    expect(own.get_by_role("button", name=f"撤销 {ADMIN[0]} 的权限管理员")).to_have_count(0)
    shot(page, "accounts-own-row")
