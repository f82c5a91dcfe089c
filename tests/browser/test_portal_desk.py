"""The 12333 desk in the portal: an agent answers a call that hung up without a choice, then
looks up whether the caller's message arrived."""

from __future__ import annotations

import os

import pytest
import requests
from playwright.sync_api import expect
from sms_platform.text import sms

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

ANSWER = "养老保险待遇资格认证可在社区服务站或社保经办大厅办理，详询12333。"


def test_an_agent_answers_a_waiting_call_and_looks_up_its_delivery(portal_platform, staff_api, browser):
    operator = staff_api.account("desk-op-", "city", ["city_operator"], "孙编写")
    reviewer = staff_api.account("desk-rev-", "city", ["city_reviewer"], "周审核")
    manager = staff_api.account("desk-mgr-", "hotline", ["hotline_manager"], "吴主管")
    agent = staff_api.account("desk-agent-", "hotline", ["hotline_agent"], "郑坐席")
    template = staff_api.active_template(
        operator,
        reviewer,
        {
            "name": "资格认证答复",
            "category": "hangup",
            "office": "hotline",
            "text": ANSWER,
            "variables": [],
            "valid_from": staff_api.platform_now().date().isoformat(),
            "valid_until": "2030-12-31",
            "remark": "12333 挂机短信：资格认证",
        },
    )
    entry = staff_api.call(
        "POST",
        "/hotline/entries",
        operator["token"],
        {"question": "如何办理养老待遇资格认证", "template_id": template["template_id"]},
    )
    staff_api.call("PUT", f"/hotline/entries/{entry['faq_id']}/scope", manager["token"], {"in_scope": True})
    caller = f"1391234{os.getpid() % 10000:04d}"
    masked = f"{caller[:3]}****{caller[-4:]}"
    call_id = f"call-{os.getpid()}"
    answer = staff_api.hangup(
        {
            "call_id": call_id,
            "caller": caller,
            "agent_id": agent["staff_number"],
            "ended_at": staff_api.platform_now().isoformat(),
        }
    )
    assert answer["status"] == "awaiting_agent"

    page = browser.new_page()
    sign_in(page, portal_platform, agent["username"], agent["password"])
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation).to_contain_text("12333坐席")
    expect(navigation).not_to_contain_text("短信模板")
    page.get_by_role("link", name="12333坐席").click()
    waiting = page.get_by_role("table").filter(has_text="等待坐席选择问答")
    expect(waiting).to_contain_text(masked)
    expect(waiting).not_to_contain_text(caller)
    page.get_by_role("button", name=f"为来电 {masked} 选择问答").click()

    page.get_by_label("查找问答").fill("资格认证")
    page.get_by_label("如何办理养老待遇资格认证").check()
    preview = page.locator("#pick-preview")
    signature = next(s["name"] for s in staff_api.call("GET", "/signatures", operator["token"])["signatures"]
                     if s["office"] == "hotline")  # fmt: skip
    length = sms.measure(ANSWER, signature)
    expect(preview).to_contain_text(f"发送到 {masked}，共 1 条（计费 {length.parts} 条）")
    expect(preview).to_contain_text("如何办理养老待遇资格认证")
    # The exact SMS the caller will get: the approved answer under the 12333 centre's signature.
    expect(preview.locator(".preview")).to_contain_text(f"【{signature}】{ANSWER}")
    expect(preview).to_contain_text(f"含签名共 {length.characters} 字，按 {length.parts} 条计费")
    page.get_by_role("button", name="发送").click()
    expect(page.locator("#toast")).to_contain_text(f"已发送 1 条短信到 {masked}")
    expect(page.get_by_role("table").filter(has_text="等待坐席选择问答")).not_to_contain_text(masked)

    # "Did my message arrive?": the number in, its messages out, masked.
    lookup = page.get_by_role("form", name="短信送达查询")
    for _ in range(20):
        lookup.get_by_label("来电人手机号").fill(caller)
        lookup.get_by_role("button", name="查询").click()
        expect(page.locator("#lookup-result")).to_contain_text(f"{masked} 近期的短信")
        if "已送达" in page.locator("#lookup-result").inner_text():
            break
        page.wait_for_timeout(500)
    result = page.locator("#lookup-result")
    expect(result).to_contain_text("12333服务中心")
    expect(result).to_contain_text("已送达")
    expect(result).not_to_contain_text(caller)
    expect(lookup.get_by_label("来电人手机号")).to_have_value("")
    # The carrier got exactly one message for that number: the chosen entry's answer.
    sent = requests.get(f"{portal_platform.carrier}/_simulator/sent", params={"full": "1"}, timeout=10).json()
    mine = [m for m in sent if m["phone"] == caller]
    assert len(mine) == 1, mine
    assert ANSWER in str(mine[0])
    shot(page, "desk-answered")
