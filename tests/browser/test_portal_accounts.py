"""Accounts in the portal: an administrator (signing in with TOTP) suspends an account, whose
open session is refused on its next request and whose next sign-in gets a clear message."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, shot, sign_in
from tests.staff_fixtures import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def test_an_administrator_suspends_an_account_that_is_then_refused(portal_platform, staff_api, browser):
    operator = staff_api.account("susp-op-", "city", ["city_operator"], "陈待停")
    staff_api.admin()  # TOTP enrolled: the administrator's sign-in asks for a code

    worker = browser.new_page()
    sign_in(worker, portal_platform, operator["username"], operator["password"])
    expect(worker.locator("#who-name")).to_contain_text("陈待停")

    admin = browser.new_page()
    sign_in(admin, portal_platform, *ADMIN)
    admin.get_by_label("身份验证器应用显示的 6 位动态口令").fill(totp_code(staff_api.admin_secret))
    admin.get_by_role("button", name="验证并登录").click()
    expect(admin.get_by_role("heading", name="账号与权限")).to_be_visible()
    row = admin.get_by_role("row").filter(has_text=operator["username"])
    # A suspension needs a reason: the API's refusal is shown.
    row.get_by_role("button", name=f"暂停账号 {operator['username']}").click()
    expect(admin.locator("#toast")).to_contain_text("reason")
    row.get_by_label(f"暂停 {operator['username']} 的原因").fill("违反短信发送规定")
    row.get_by_role("button", name=f"暂停账号 {operator['username']}").click()
    expect(admin.get_by_role("row").filter(has_text=operator["username"])).to_contain_text("已暂停：违反短信发送规定")

    # The open session is refused on its next request (account records are cached for seconds).
    message = worker.locator("#sign-in-message")
    deadline = time.monotonic() + 20
    while not message.is_visible() and time.monotonic() < deadline:
        worker.get_by_role("link", name="短信模板" if "templates" not in worker.url else "我的工作").click()
        worker.wait_for_timeout(700)
    expect(message).to_have_text("账号已停用或无权访问")
    assert worker.evaluate("sessionStorage.getItem('weihai-sms.session')") is None

    # Signing in again gets the reason, not a password error.
    worker.get_by_label("用户名").fill(operator["username"])
    worker.get_by_label("密码").fill(operator["password"])
    worker.get_by_role("button", name="登录").click()
    expect(worker.locator(".form-error")).to_have_text("账号已被暂停使用，请联系权限管理员")
    shot(worker, "account-suspended")
    shot(admin, "accounts-admin")
