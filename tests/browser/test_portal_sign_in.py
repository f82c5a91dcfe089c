"""Signing in to the portal: first sign-in with a new password and TOTP enrolment, a wrong
password, signing out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, shot, sign_in
from tests.staff_fixtures import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def test_first_sign_in_sets_a_password_and_enrols_totp_then_signs_out(portal_platform, staff_api, browser):
    account = staff_api.create_account("admin-two-", "it", ["permission_admin"], "刘权限")
    page = browser.new_page()

    # A wrong password is refused with the count of tries left.
    sign_in(page, portal_platform, account["username"], "Wrong-Password-1!")
    expect(page.locator(".form-error")).to_contain_text("用户名或密码错误，再失败4次账号将被锁定30分钟")

    # The temporary password works once: the portal asks for a new one.
    page.get_by_label("密码").fill(account["temporary_password"])
    page.get_by_role("button", name="登录").click()
    page.get_by_label("新密码", exact=True).fill("weak")
    page.get_by_label("再次输入新密码").fill("weak")
    page.get_by_role("button", name="设置并登录").click()
    expect(page.locator('[data-error-for="new_password"]')).to_contain_text("密码强度不足")
    page.get_by_label("新密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入新密码").fill(PASSWORD)
    page.get_by_role("button", name="设置并登录").click()

    # A permission administrator must enrol TOTP before anything else: a QR code drawn by the
    # platform, and the secret as text.
    page.get_by_role("button", name="开始绑定").click()
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    qr = page.get_by_role("img", name="动态口令二维码")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    shot(page, "totp-enrolment-qr")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("6 位动态口令").fill(totp_code(secret))
    page.get_by_role("button", name="完成绑定").click()

    # Signed in: the header names the account, the navigation shows what the role may do.
    expect(page.locator("#who-name")).to_contain_text("刘权限（信息技术科）")
    navigation = page.get_by_role("navigation", name="主导航").inner_text()
    assert "账号与权限" in navigation and "短信模板" not in navigation and "审计" not in navigation
    token = page.evaluate("JSON.parse(sessionStorage.getItem('weihai-sms.session')).access_token")
    assert token

    expect(page.get_by_role("heading", name="账号与权限")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#sign-in-message")).to_have_text("已退出登录")
    assert page.evaluate("sessionStorage.getItem('weihai-sms.session')") is None
    # The token of the ended session no longer works.
    refused = staff_api_call_status(portal_platform, token)
    assert refused == 401
    shot(page, "sign-in")


def staff_api_call_status(platform, token: str) -> int:
    import requests

    return requests.get(
        f"{platform.api}/v1/staff/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).status_code
