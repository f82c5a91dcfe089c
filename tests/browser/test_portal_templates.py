"""Templates in the portal: an operator writes one with a live count and the API's content check, a
reviewer approves it and sees it filed with each carrier, one line per carrier; a template one
carrier refuses shows why and is active through the other; the portal counts as the platform does."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sms_platform.foundation.clock import BEIJING
from sms_platform.text import sms

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TEXT = "尊敬的${name}，您的养老保险待遇已于${date}发放，详询12333。"


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        ("", None),
        ("Hello", None),
        ("Price {5}^ [ok] ~ | € \\ done", None),  # GSM-7 extension characters take two septets
        ("a" * 160, None),
        ("a" * 161, None),
        ("{" * 80, None),
        ("您的社保卡已制作完成。", "威海市社会保险事业中心"),
        ("您的社保卡已制作完成。" * 6, "【威海市社会保险事业中心】"),
        ("字" * 66 + "😀" + "字" * 5, None),  # a surrogate pair is never split across parts
        ("年" * 480, "  威海社保  "),
        ("年" * 500, "威海社保"),  # over 500 characters
    ],
)
def test_the_portal_counts_characters_and_parts_as_the_platform_does(portal_platform, browser, text, signature):
    page = browser.new_page()
    page.goto(f"{portal_platform.api}/portal/")
    counted = page.evaluate(
        "async ([text, signature]) => (await import('./js/sms.js')).measure(text, signature)", [text, signature]
    )
    try:
        expected = sms.measure(text, signature)
        too_long = False
    except Exception:
        message = sms.full_text(text, signature)
        expected = None
        too_long = True
        assert counted["characters"] == sms.utf16_length(message)
    assert counted["too_long"] is too_long
    if expected is not None:
        assert (
            counted["characters"],
            counted["encoding"],
            counted["parts"],
            counted["per_part"],
            counted["units"],
        ) == (
            expected.characters,
            expected.encoding,
            expected.parts,
            expected.per_part,
            expected.units,
        )


def test_an_operator_writes_a_template_and_a_reviewer_approves_it_and_sees_it_filed(
    portal_platform, staff_api, browser
):
    operator = staff_api.account("tpl-op-", "city", ["city_operator"], "王模板")
    reviewer = staff_api.account("tpl-rev-", "city", ["city_reviewer"], "李审核")
    signatures = staff_api.call("GET", "/signatures", operator["token"])["signatures"]
    city_signature = next(s["name"] for s in signatures if s["office"] == "city")

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="短信模板").click()
    page.get_by_role("link", name="新建模板").click()
    page.get_by_label("模板名称").fill("养老金发放通知")
    page.get_by_label("类别").select_option("targeted")
    page.get_by_label("所属单位（决定签名）").select_option("city")

    # The API's content check shows while typing: a link is not allowed, and neither is a word
    # the reviewers put on the list a moment ago.
    staff_api.call("POST", "/forbidden-words", reviewer["token"], {"word": "代办黄牛"})
    content = page.get_by_label("短信内容（变量写作 ${name}）")
    content.fill("详情见 www.example.com")
    expect(page.locator("#content-findings")).to_contain_text("短信内容不能含有网址或链接")
    content.fill("社保缴费可找代办黄牛")
    expect(page.locator("#content-findings")).to_contain_text("含有禁止发送的内容“代办黄牛”")
    expect(page.locator("#content-findings")).not_to_contain_text("网址")

    content.fill(TEXT)
    expect(page.locator("#content-findings")).to_contain_text("模板中的变量 ${name} 未声明类型和长度")
    page.get_by_role("button", name="从内容中识别变量").click()
    expect(page.locator("#content-findings")).not_to_contain_text("未声明")
    expect(page.locator("#content-findings")).not_to_contain_text("禁止发送")
    expect(page.locator("#content-findings li.block")).to_have_count(0)
    length = sms.measure(TEXT, city_signature)
    expect(page.locator("#length-counter")).to_contain_text(
        f"含签名共 {length.characters} 字，按 {length.parts} 条计费"
    )
    expect(page.locator("#message-preview")).to_have_text(f"【{city_signature}】{TEXT}")

    # The API's refusal shows beside the field it concerns.
    page.get_by_label("用途说明（报备运营商用）").fill("")
    page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator('[data-error-for="remark"]')).not_to_be_empty()
    page.get_by_label("用途说明（报备运营商用）").fill("养老金按月发放后告知参保人")
    page.get_by_role("button", name="保存并提交审核").click()
    expect(page.get_by_role("heading", name="养老金发放通知（定向通知类，市社保中心）")).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text("待审核")

    review = browser.new_page()
    sign_in(review, portal_platform, reviewer["username"], reviewer["password"])
    review.get_by_role("link", name="短信模板").click()
    review.get_by_role("link", name="待审核").click()
    review.get_by_role("link", name="养老金发放通知（第 1 版）").click()
    card = review.get_by_role("region", name="模板 养老金发放通知 的审核内容")
    expect(card).to_contain_text(f"【{city_signature}】{TEXT}")
    expect(card).to_contain_text(f"含签名共 {length.characters} 字")
    # A rejection needs a reason, shown beside its field.
    card.get_by_role("button", name="不通过").click()
    expect(card.locator('[data-error-for="reason"]')).not_to_be_empty()
    card.get_by_role("button", name="审核通过并报备").click()

    # The queue stays open with the outcome; its link leads to the template's page.
    outcome = review.locator(".review-outcome")
    expect(outcome).to_contain_text("已审核通过：养老金发放通知（第 1 版），已报备，运营商审核中。")
    outcome.get_by_role("link", name="查看该模板").click()
    expect(review.locator(".facts").first).to_contain_text("已报备，运营商审核中")
    expect(review.locator(".carrier-code").first).not_to_be_empty()
    expect(review.locator(".facts").first).to_contain_text("李审核")

    # Filed with each carrier the local platform has, one line each.
    filings = review.locator(".facts").first.locator(".carrier-filings li")
    expect(filings).to_have_count(2)
    expect(filings.nth(0)).to_contain_text("阿里云：报备中")
    expect(filings.nth(1)).to_contain_text("腾讯云：报备中")

    # The author sees the same: filed with the carrier, under its code.
    page.reload()
    expect(page.locator(".facts").first).to_contain_text("已报备，运营商审核中")
    shot(review, "template-filed")

    # Once the carriers approved it (the poller asks them), both lines say so.
    _settle(staff_api, operator, page.url.split("#/templates/")[1])
    page.reload()
    lines = page.locator(".facts").first.locator(".carrier-filings li")
    expect(lines.nth(0)).to_contain_text("阿里云：已通过")
    expect(lines.nth(1)).to_contain_text("腾讯云：已通过")
    shot(page, "template-filed-both-carriers")


def _settle(staff_api, author, template_id) -> dict:
    """Run the filing poller until every carrier has given its verdict (each reviews a filing for
    two seconds of the platform's clock)."""
    deadline = time.monotonic() + 30
    while True:
        staff_api.poll_filings()
        version = staff_api.call("GET", f"/templates/{template_id}", author["token"])["versions"][-1]
        states = [f["state"] for f in version["carrier_filings"].values()]
        if all(state in ("approved", "rejected") for state in states) or time.monotonic() > deadline:
            return version
        time.sleep(1)


def test_a_template_one_carrier_refuses_shows_why_and_is_active_through_the_other(portal_platform, staff_api, browser):
    operator = staff_api.account("tpl-op-", "city", ["city_operator"], "赵模板")
    reviewer = staff_api.account("tpl-rev-", "city", ["city_reviewer"], "钱审核")
    # A literal {1} in the text: Tencent would read it as its own placeholder, so it refuses it.
    text = "请于本月{1}号窗口前往社保大厅办理年审，详询12333。"
    today = staff_api.platform_now().astimezone(BEIJING).date()
    draft = {
        "name": "年审提醒", "category": "targeted", "office": "city", "text": text, "variables": [],
        "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=365)).isoformat(),
        "remark": "提醒参保人办理年审",
    }  # fmt: skip
    created = staff_api.call("POST", "/templates", operator["token"], draft)
    template_id = created["template_id"]
    staff_api.call("POST", f"/templates/{template_id}/versions/1/submission", operator["token"])
    staff_api.call("POST", f"/templates/{template_id}/versions/1/approval", reviewer["token"], {"note": None})
    version = _settle(staff_api, operator, template_id)
    assert version["status"] == "active", version

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.goto(f"{portal_platform.api}/portal/#/templates/{template_id}")
    expect(page.get_by_text("启用中：第 1 版")).to_be_visible()
    lines = page.locator(".facts").first.locator(".carrier-filings li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("阿里云：已通过")
    expect(lines.nth(0).locator(".badge.ok")).to_be_visible()
    expect(lines.nth(1)).to_contain_text("腾讯云：被拒：短信内容含有“{数字}”，该运营商会当作变量，请改写")
    expect(lines.nth(1).locator(".badge.bad")).to_be_visible()
    expect(page.locator("table")).to_contain_text("腾讯云：被拒")
    shot(page, "template-refused-by-one-carrier")
