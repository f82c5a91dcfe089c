"""The portal's accessibility, as axe-core judges it and as a keyboard user meets it: every page
of every role without serious or critical axe violations (sign-in included; a send's and a template's
own pages for their author, a reviewer reviewing them and an auditor), the focus on the
page's main heading after each navigation, a skip link and a focus ring that can be seen."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible, violations
from tests.browser.conftest import ADMIN, shot, sign_in
from tests.contacts_support import person
from tests.staff_fixtures import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

# One account per role, in the office that role works in.
ROLES = [
    ("a11y-op-", "city", ["city_operator", "phone_reveal"], "钱编写"),
    ("a11y-rev-", "city", ["city_reviewer"], "孙审核"),
    ("a11y-dist-", "huancui", ["district_operator"], "李区县"),
    ("a11y-mgr-", "hotline", ["hotline_manager"], "周主管"),
    ("a11y-agent-", "hotline", ["hotline_agent"], "吴坐席"),
    ("a11y-aud-", "city", ["auditor"], "郑审计"),
    ("a11y-ops-", "it", ["it_ops"], "王运维"),
]

FOCUS_IN_MAIN = """() => {
  const main = document.getElementById("main");
  const active = document.activeElement;
  return main && main.contains(active) ? active.tagName + ":" + active.textContent.slice(0, 40) : "";
}"""

RING = "el => { const s = getComputedStyle(el); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"

FOCUS_ON_HEADING = f"() => /^(H1|H2|MAIN):/.test(({FOCUS_IN_MAIN})())"


def _draft(staff_api, name: str) -> dict:
    today = staff_api.platform_now().date()
    return {
        "name": name, "category": "targeted", "office": "city",
        "text": "尊敬的${name}，您的社保卡已制作完成，请到社保大厅领取，详询12333。",
        "variables": [{"name": "name", "type": "name", "max_length": 10}],
        "valid_from": today.isoformat(), "valid_until": today.replace(year=today.year + 1).isoformat(),
        "remark": "社保卡制作完成后通知领取",
    }  # fmt: skip


def _pages_of(page) -> list[str]:
    return page.locator("nav.side a").evaluate_all("links => links.map((a) => a.textContent)")


def _visit_every_page(page, who: str, found: dict[str, list[str]], focus: dict[str, str]) -> None:
    for title in _pages_of(page):
        page.get_by_role("navigation", name="主导航").get_by_role("link", name=title, exact=True).click()
        expect(page.locator("#main .loading")).to_have_count(0)
        expect(page.locator("#main :is(h1, h2)").first).to_be_visible()
        where = f"{who} / {title}"
        try:  # the page has finished loading once the shell has placed the focus
            page.wait_for_function(FOCUS_ON_HEADING, timeout=15_000)
        except PlaywrightTimeout:
            focus[where] = page.evaluate(FOCUS_IN_MAIN) or "outside the page's main region"
        problems = violations(page)
        if problems:
            found[where] = problems


def test_every_page_of_every_role_passes_axe_and_takes_the_focus_to_its_heading(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    accounts = [staff_api.account(*role) for role in ROLES]
    operator, reviewer = accounts[0], accounts[1]
    # Something in the lists: an active template (badges, links) and one waiting for review.
    staff_api.active_template(operator, reviewer, _draft(staff_api, f"社保卡领取通知{tag}"))
    pending = staff_api.call("POST", "/templates", operator["token"], _draft(staff_api, f"社保卡补领通知{tag}"))
    staff_api.call("POST", f"/templates/{pending['template_id']}/versions/1/submission", operator["token"])

    found: dict[str, list[str]] = {}
    focus: dict[str, str] = {}
    page = browser.new_page()
    page.goto(f"{portal_platform.api}/portal/")
    expect(page.get_by_role("main")).to_contain_text("工作人员登录")
    if problems := violations(page):
        found["sign-in"] = problems
    for account in accounts:
        page = browser.new_page()
        sign_in(page, portal_platform, account["username"], account["password"])
        expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
        _visit_every_page(page, "、".join(account["roles"]), found, focus)
        page.close()

    staff_api.admin()  # TOTP enrolled: the administrator's sign-in asks for a code
    page = browser.new_page()
    sign_in(page, portal_platform, *ADMIN)
    page.get_by_label("身份验证器应用显示的 6 位动态口令").fill(totp_code(staff_api.admin_secret))
    if problems := violations(page):
        found["sign-in: TOTP code"] = problems
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    _visit_every_page(page, "permission_admin", found, focus)

    report = "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())
    assert not found, f"axe-core finds serious or critical violations:\n{report}"
    assert not focus, f"after navigation the focus is not on the page's heading: {focus}"


def test_a_keyboard_user_signs_in_skips_to_the_page_and_sees_where_the_focus_is(portal_platform, staff_api, browser):
    operator = staff_api.account("kbd-op-", "city", ["city_operator"], "赵键盘")
    page = browser.new_page()
    page.goto(f"{portal_platform.api}/portal/")
    # Sign-in by keyboard alone: the user name field has the focus, Tab reaches the password,
    # Enter submits.
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type(operator["username"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码")).to_be_focused()
    page.keyboard.type(operator["password"])
    page.keyboard.press("Enter")
    heading = page.locator("#main h1").first
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()

    # From the top of the document the first Tab shows the skip link; Enter takes the focus to
    # the page's heading, past the header and the navigation.
    page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(heading).to_be_focused()

    # Tab onwards reaches the navigation's links; the focused one wears a ring of at least 2 px.
    page.get_by_role("link", name="跳到正文").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    ring = focused.evaluate(RING)
    assert ring[0] != "none" and ring[1] >= 2, ring
    shot(page, "focus-ring")
    link = page.get_by_role("navigation", name="主导航").get_by_role("link", name="短信模板")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#main h1").first).to_have_text("短信模板")
    expect(page.locator("#main h1").first).to_be_focused()


def tab_to(page, name: str, limit: int = 120) -> None:
    """Press Tab until the focused element's accessible text contains ``name``: the way a
    keyboard user reaches a control, without a click."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate(FOCUSED_TEXT)
        if name in text:
            return
    raise AssertionError(f"Tab never reached {name!r}")


FOCUSED_TEXT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  return [el.getAttribute("aria-label") || "", el.textContent || "", label].join(" ");
}"""


def test_a_reviewer_approves_a_template_with_the_keyboard_alone(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    operator = staff_api.account("kbd-rq-op-", "city", ["city_operator"], "钱起草")
    reviewer = staff_api.account("kbd-rq-rev-", "city", ["city_reviewer"], "冯键审")
    name = f"社保卡挂失通知{tag}"
    created = staff_api.call("POST", "/templates", operator["token"], _draft(staff_api, name))
    staff_api.call("POST", f"/templates/{created['template_id']}/versions/1/submission", operator["token"])

    page = browser.new_page()
    sign_in(page, portal_platform, reviewer["username"], reviewer["password"])
    expect(page.locator("#main h1")).to_be_focused()
    tab_to(page, f"模板：{name}（第 1 版）")
    page.keyboard.press("Enter")
    detail = page.get_by_role("region", name=f"模板 {name} 的审核内容")
    expect(detail.get_by_role("heading", name=f"审核：{name}（第 1 版）")).to_be_focused()
    assert_accessible(page, "template review detail")
    tab_to(page, "审核通过并报备")
    shot(page, "keyboard-review")
    page.keyboard.press("Enter")
    expect(page.locator(".review-outcome")).to_contain_text(f"已审核通过：{name}（第 1 版）")
    # The reviewer reads on from the next item, or from the queue's heading when it is empty.
    expect(page.locator(".review-detail h2:focus, #review-queue-title:focus")).to_have_count(1)
    version = staff_api.call("GET", f"/templates/{created['template_id']}", operator["token"])["versions"][0]
    assert version["status"] in {"filed", "active"}, version


DESK_ANSWER = "社保卡挂失可拨打12333或到社保大厅办理，挂失后请尽快补领。"


def waiting_call(staff_api, prefix: str) -> tuple[dict, str, str]:
    """A hotline agent and a call that hung up without a choice, waiting for the agent, with an
    active question-bank entry to answer it: the agent, the caller's masked number, the question."""
    operator = staff_api.account(f"{prefix}op-", "city", ["city_operator"], "孙编写")
    reviewer = staff_api.account(f"{prefix}rev-", "city", ["city_reviewer"], "周审核")
    manager = staff_api.account(f"{prefix}mgr-", "hotline", ["hotline_manager"], "吴主管")
    agent = staff_api.account(f"{prefix}agent-", "hotline", ["hotline_agent"], "郑坐席")
    today = staff_api.platform_now().date().isoformat()
    template = staff_api.active_template(operator, reviewer, {
        "name": "社保卡挂失答复", "category": "hangup", "office": "hotline", "text": DESK_ANSWER, "variables": [],
        "valid_from": today, "valid_until": "2030-12-31", "remark": "12333 挂机短信：社保卡挂失",
    })  # fmt: skip
    question = f"如何挂失社保卡（{prefix}{os.getpid()}）"
    entry = staff_api.call(
        "POST", "/hotline/entries", operator["token"],
        {"question": question, "template_id": template["template_id"]},
    )  # fmt: skip
    staff_api.call("PUT", f"/hotline/entries/{entry['faq_id']}/scope", manager["token"], {"in_scope": True})
    caller = f"1381234{(os.getpid() + len(prefix)) % 10000:04d}"
    answer = staff_api.hangup({
        "call_id": f"call-{prefix}{os.getpid()}", "caller": caller, "agent_id": agent["staff_number"],
        "ended_at": staff_api.platform_now().isoformat(),
    })  # fmt: skip
    assert answer["status"] == "awaiting_agent"
    return agent, f"{caller[:3]}****{caller[-4:]}", question


def test_an_agent_answers_a_waiting_call_with_the_keyboard_alone(portal_platform, staff_api, browser):
    agent, masked, question = waiting_call(staff_api, "kbd-desk-")
    page = browser.new_page()
    sign_in(page, portal_platform, agent["username"], agent["password"])
    expect(page.locator("#main h1")).to_be_focused()
    tab_to(page, "12333坐席")
    page.keyboard.press("Enter")
    expect(page.locator("#main h1")).to_have_text("12333坐席工作台")
    expect(page.locator("#main h1")).to_be_focused()
    tab_to(page, f"为来电 {masked} 选择问答")
    page.keyboard.press("Enter")
    # The panel just opened has the focus: the agent types the keyword at once.
    expect(page.get_by_label("查找问答")).to_be_focused()
    page.keyboard.type(question)
    page.keyboard.press("Tab")
    expect(page.get_by_label(question)).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#pick-preview")).to_contain_text(f"发送到 {masked}，共 1 条")
    assert_accessible(page, "desk with a call's panel open")
    tab_to(page, "发送")
    page.keyboard.press("Enter")
    expect(page.locator("#toast")).to_contain_text(f"已发送 1 条短信到 {masked}")
    # After the send the desk is drawn again and the focus is back on its heading, not the body.
    expect(page.locator("#main h1")).to_be_focused()
    expect(page.get_by_role("button", name=f"为来电 {masked} 选择问答")).to_have_count(0)


DETAIL_TAG = "无障碍详情"  # this test's people alone, whatever other tests put in the district


def test_a_sends_and_a_templates_detail_pages_pass_axe_for_everyone_who_opens_them(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    operator = staff_api.account("a11y-d-op-", "city", ["city_operator"], "钱发起")
    reviewer = staff_api.account("a11y-d-rev-", "city", ["city_reviewer"], "孙复核")
    auditor = staff_api.account("a11y-d-aud-", "city", ["auditor"], "郑查阅")
    contacts = [person(8600 + n, district="huancui", tags=[DETAIL_TAG]) for n in range(2)]
    assert staff_api.call("POST", "/contacts/batch", operator["token"], {"contacts": contacts})["rejected"] == 0
    active = staff_api.active_template(operator, reviewer, _draft(staff_api, f"社保卡领取提醒{tag}"))
    pending = staff_api.call("POST", "/templates", operator["token"], _draft(staff_api, f"社保卡换领提醒{tag}"))
    staff_api.call("POST", f"/templates/{pending['template_id']}/versions/1/submission", operator["token"])
    proposal = {
        "template_id": active["template_id"],
        "values": {"name": "王芳"},
        "audience": {"kind": "person", "districts": ["huancui"], "tag": DETAIL_TAG},
        "note": "社保卡制作完成，通知领取",
    }
    waiting = staff_api.call("POST", "/send-requests", operator["token"], proposal)["request_id"]
    done = staff_api.call("POST", "/send-requests", operator["token"], proposal)["request_id"]
    staff_api.call("POST", f"/send-requests/{done}/approval", reviewer["token"])
    staff_api.finished_send(operator["token"], done)

    pages = {
        "template, active": (f"#/templates/{active['template_id']}", "#main section h2"),
        "template, waiting for review": (f"#/templates/{pending['template_id']}", "#main section h2"),
        "send, waiting for review": (f"#/sends/{waiting}", "#request-status"),
        "send, finished": (f"#/sends/{done}", "#send-outcome"),
    }
    # The reviewer reviewing: each item open in its review queue too.
    reviewing = {
        "template review queue, item open": (f"#/templates/review/{pending['template_id']}/1", ".review-detail h2"),
        "send review queue, item open": (f"#/sends/review/{waiting}", ".review-detail h2"),
    }
    found: dict[str, list[str]] = {}
    for account in (operator, reviewer, auditor):
        page = browser.new_page()
        sign_in(page, portal_platform, account["username"], account["password"])
        expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
        for what, (route, ready) in (pages | reviewing if account is reviewer else pages).items():
            page.goto(f"{portal_platform.api}/portal/{route}")
            expect(page.locator("#main .loading")).to_have_count(0)
            expect(page.locator(ready).first).to_be_visible()
            if route == f"#/sends/{waiting}":
                # The author may cancel what waits for review; the reviewer decides on it.
                offered = "审核通过" if account is reviewer else "取消申请" if account is operator else None
                if offered:
                    expect(page.get_by_role("button", name=offered)).to_be_visible()
            if problems := violations(page):
                found[f"{'、'.join(account['roles'])} / {what}"] = problems
            shot(page, f"a11y-detail-{account['roles'][0]}-{list(pages | reviewing).index(what)}")
        page.close()

    report = "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())
    assert not found, f"axe-core finds serious or critical violations:\n{report}"
