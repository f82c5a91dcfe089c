"""Accounts in the portal: an administrator (signing in with TOTP) suspends an account, whose
open session is refused on its next request and whose next sign-in gets a clear message; and
resets a password that goes by SMS to its owner's verified phone, never shown to the
administrator."""

from __future__ import annotations

import os
import time

import pytest
import requests
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
    admin.get_by_label("查找账号").fill(operator["username"])  # a page of accounts at a time
    row = admin.get_by_role("row").filter(has_text=operator["username"])
    # A suspension needs a reason: the API's refusal is shown.
    row.get_by_role("button", name=f"暂停账号 {operator['username']}").click()
    expect(row.locator('[data-error-for="reason"]')).to_have_text("暂停原因不能为空")
    row.get_by_label(f"暂停 {operator['username']} 的原因").fill("违反短信发送规定")
    row.get_by_role("button", name=f"暂停账号 {operator['username']}").click()
    admin.get_by_role("dialog", name="暂停账号").get_by_role("button", name="确认暂停").click()
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


def _system_template(staff_api, author, reviewer, name: str, text: str, variable: dict) -> str:
    draft = {
        "name": name,
        "category": "system",
        "office": "it",
        "text": text,
        "variables": [variable],
        "valid_from": staff_api.platform_now().date().isoformat(),
        "valid_until": "2030-12-31",
        "remark": "平台系统消息",
    }
    return staff_api.active_template(author, reviewer, draft)["template_id"]


def _sent_to(platform, phone: str, count: int) -> list[dict]:
    """The messages the carrier simulator got for ``phone``, once there are ``count`` of them."""
    deadline = time.monotonic() + 30
    while True:
        sent = requests.get(f"{platform.carrier}/_simulator/sent", params={"full": "1"}, timeout=10).json()
        mine = [message for message in sent if message["phone"] == phone]
        if len(mine) >= count or time.monotonic() > deadline:
            assert len(mine) == count, mine
            return mine
        time.sleep(0.5)


def test_a_reset_password_goes_by_sms_to_the_owners_verified_phone(portal_platform, staff_api, browser):
    ops = staff_api.account("pw-ops-", "it", ["it_ops"], "陈运维")
    reviewer = staff_api.account("pw-rev-", "city", ["city_reviewer"], "郑审核")
    otp = _system_template(staff_api, ops, reviewer, "验证码", "您的验证码为${code}，5分钟内有效。",
                           {"name": "code", "type": "code", "max_length": 6})  # fmt: skip
    password_template = _system_template(
        staff_api, ops, reviewer, "临时密码",
        "您的平台账号临时密码为：${password}，首次登录须修改。如非本人操作请联系市社保中心。",
        {"name": "password", "type": "text", "max_length": 32},
    )  # fmt: skip
    staff_api.call(
        "PUT", "/subscription-settings", ops["token"], {"otp_template_id": otp, "reminder_template_id": None}
    )
    staff_api.call("PUT", "/account-settings", ops["token"], {"password_template_id": password_template})
    # The owner proves their phone with a code, as for test sends.
    owner = staff_api.account("pw-owner-", "city", ["city_operator"], "孙重置")
    phone = f"1371234{os.getpid() % 10000:04d}"
    masked = f"{phone[:3]}****{phone[-4:]}"
    staff_api.call("POST", "/me/test-phone", owner["token"], {"phone": phone})
    [code] = _sent_to(portal_platform, phone, 1)
    staff_api.call("POST", "/me/test-phone/verification", owner["token"], {"code": code["params"]["code"]})
    staff_api.admin()

    admin = browser.new_page()
    sign_in(admin, portal_platform, *ADMIN)
    admin.get_by_label("身份验证器应用显示的 6 位动态口令").fill(totp_code(staff_api.admin_secret))
    admin.get_by_role("button", name="验证并登录").click()
    expect(admin.get_by_role("heading", name="账号与权限")).to_be_visible()
    admin.get_by_label("查找账号").fill(owner["username"])  # a page of accounts at a time
    row = admin.get_by_role("row").filter(has_text=owner["username"])
    row.get_by_role("button", name=f"重置 {owner['username']} 的密码").click()
    admin.get_by_role("dialog", name="重置密码").get_by_role("button", name="确认重置").click()

    expect(admin.locator("#toast")).to_have_text(f"临时密码已通过短信发送至 {masked}")
    shot(admin, "accounts-password-sent")
    [_, sms] = _sent_to(portal_platform, phone, 2)
    temporary = sms["params"]["password"]
    assert temporary in sms["content"] and "首次登录须修改" in sms["content"]
    assert temporary not in admin.content() and phone not in admin.content()

    # The owner signs in with the password from the SMS and must set one of their own first.
    mine = browser.new_page()
    sign_in(mine, portal_platform, owner["username"], temporary)
    expect(mine.get_by_label("新密码", exact=True)).to_be_visible()
