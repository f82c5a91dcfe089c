"""The portal on narrow screens: every page usable at 768 px (the navigation beside the page,
nothing wider than the window but tables that scroll in their own frame); at 390 px (a phone)
the sign-in card fits, the navigation folds behind 菜单, and the dashboard, the desk and its
delivery lookup read in one column."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import shot, sign_in
from tests.browser.test_portal_accessibility import waiting_call

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

# How far the document is wider than the window (0: no sideways scrolling of the page).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# The outermost elements reaching past the window's right edge, for a message that names them
# (inside a frame that scrolls sideways, such as a table's, does not count).
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .filter((el) => {
      for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return false;
      return true;
    })
    .slice(0, 5).map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`);
}"""


def fits(page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, page.evaluate(TOO_WIDE)


def _phone(browser):
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def test_the_sign_in_card_fits_a_phone(portal_platform, browser):
    page = _phone(browser)
    page.goto(f"{portal_platform.api}/portal/")
    card = page.get_by_role("form", name="登录")
    expect(card).to_be_visible()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    fits(page)
    assert_accessible(page, "sign-in at 390 px")
    shot(page, "sign-in-390")


def test_every_page_is_usable_at_768_px(portal_platform, staff_api, browser):
    operator = staff_api.account("w768-", "city", ["city_operator", "phone_reveal"], "褚窄屏")
    page = browser.new_page()
    page.set_viewport_size({"width": 768, "height": 900})
    sign_in(page, portal_platform, operator["username"], operator["password"])
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation).to_be_visible()  # at 768 px the navigation stays beside the page
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    wide = {}
    for title in navigation.locator("a").all_text_contents():
        navigation.get_by_role("link", name=title, exact=True).click()
        expect(page.locator("#main :is(h1, h2)").first).to_be_focused()
        if (overflow := page.evaluate(OVERFLOW)) > 0:
            wide[title] = (overflow, page.evaluate(TOO_WIDE))
    assert not wide, f"pages wider than 768 px (px too wide, the widest elements): {wide}"
    page.get_by_role("link", name="短信模板").click()
    expect(page.locator("#main h1")).to_have_text("短信模板")
    shot(page, "templates-768")


def test_dashboard_desk_and_lookup_read_on_a_phone(portal_platform, staff_api, browser):
    agent, masked, question = waiting_call(staff_api, "w390-")
    manager = staff_api.account("w390-dash-", "hotline", ["hotline_manager"], "蒋手机")
    page = _phone(browser)
    sign_in(page, portal_platform, manager["username"], manager["password"])
    menu = page.get_by_role("button", name="菜单")
    navigation = page.get_by_role("navigation", name="主导航")
    expect(menu).to_be_visible()
    expect(navigation).to_be_hidden()  # folded away: the page takes the whole width
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(navigation).to_be_visible()
    shot(page, "menu-390")
    navigation.get_by_role("link", name="统计与运维").click()
    expect(page.locator("#main h1")).to_have_text("统计与运维")
    expect(navigation).to_be_hidden()  # choosing a page folds the menu again
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#main h1")).to_be_focused()
    fits(page)
    assert_accessible(page, "dashboard at 390 px")
    shot(page, "dashboard-390")

    page = _phone(browser)
    sign_in(page, portal_platform, agent["username"], agent["password"])
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="12333坐席").click()
    expect(page.locator("#main h1")).to_have_text("12333坐席工作台")
    page.get_by_role("button", name=f"为来电 {masked} 选择问答").click()
    page.get_by_label(question).check()
    expect(page.locator("#pick-preview")).to_contain_text(f"发送到 {masked}，共 1 条")
    fits(page)
    shot(page, "desk-390")
    page.get_by_role("button", name="发送", exact=True).click()
    expect(page.locator("#toast")).to_contain_text(f"已发送 1 条短信到 {masked}")

    page.get_by_label("来电人手机号").fill("13812340000")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#lookup-result")).to_contain_text("138****0000")
    fits(page)
    assert_accessible(page, "desk lookup at 390 px")
    shot(page, "lookup-390")
