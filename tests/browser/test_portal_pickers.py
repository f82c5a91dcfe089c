"""Names instead of ids on the forms that used to ask for codes: a trigger rule's event type is
chosen from those granted to business systems, its template by name and each variable's data
field from a sample event; a question-bank entry's answer is chosen by its template's name; the
lists show templates by name."""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]


def _draft(staff_api, name: str, category: str, office: str, text: str, variables: list[dict]) -> dict:
    today = staff_api.platform_now().date()
    return {
        "name": name, "category": category, "office": office, "text": text, "variables": variables,
        "valid_from": today.isoformat(), "valid_until": today.replace(year=today.year + 1).isoformat(),
        "remark": "按名称选择的测试模板",
    }  # fmt: skip


def test_a_rule_is_written_by_choosing_event_type_template_and_data_fields(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    operator = staff_api.account("pick-op-", "city", ["city_operator"], "卫规则")
    reviewer = staff_api.account("pick-rev-", "city", ["city_reviewer"], "蒋审核")
    ops = staff_api.account("pick-it-", "it", ["it_ops"], "沈运维")
    event_type = f"pension{tag}.paid"
    staff_api.call("PUT", f"/event-grants/key-pension-{tag}/{event_type}", ops["token"])
    template = staff_api.active_template(
        operator,
        reviewer,
        _draft(staff_api, f"养老金到账{tag}", "triggered", "city", "您${month}的养老金${amount}元已发放。",
               [{"name": "month", "type": "text", "max_length": 8},
                {"name": "amount", "type": "money", "max_length": 10}]),  # fmt: skip
    )

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="触发规则").click()
    form = page.get_by_role("form", name="新建触发规则")
    form.get_by_label("规则名称").fill(f"养老金到账通知{tag}")
    form.get_by_label("事件类型").select_option(label=f"{event_type}（1 个业务系统可发送）")
    form.get_by_label("模板", exact=True).select_option(label=f"养老金到账{tag}（市社保中心）")
    month = form.get_by_label("${month}（文本，最多 8 字）取自")
    amount = form.get_by_label("${amount}（金额，最多 10 字）取自")
    expect(month).to_be_visible()
    sample = {"event_type": event_type, "data": {"amount": "3250.00", "period": {"month": "2026年6月"}}}
    form.get_by_label("样例事件（可选）").fill(json.dumps(sample, ensure_ascii=False))
    expect(form.get_by_role("status")).to_have_text("样例中有 2 个数据字段：data.amount、data.period.month")
    fields = form.locator("datalist option")
    expect(fields.first).to_have_attribute("value", "data.amount")
    expect(fields.nth(1)).to_have_attribute("value", "data.period.month")
    month.fill("data.period.month")
    amount.fill("data.amount")
    form.get_by_label("生效时间").fill(f"{staff_api.platform_now().date().isoformat()}T00:00")
    form.get_by_label("失效时间").fill("2030-12-31T00:00")
    shot(page, "pickers-rule-form")
    form.get_by_role("button", name="保存草稿").click()

    row = page.locator("tr", has_text=f"养老金到账通知{tag}")
    expect(row).to_contain_text(f"养老金到账{tag}")
    expect(row).to_contain_text(event_type)
    expect(row).not_to_contain_text(template["template_id"])
    shot(page, "pickers-rule-list")
    rule = next(r for r in staff_api.call("GET", "/trigger-rules", operator["token"])["rules"]
                if r["name"] == f"养老金到账通知{tag}")  # fmt: skip
    assert rule["template_id"] == template["template_id"] and rule["event_type"] == event_type
    assert rule["variables"] == {"month": "data.period.month", "amount": "data.amount"}

    # A subscription item takes its event type from the same grants.
    page.get_by_role("link", name="订阅项目").click()
    item_form = page.get_by_role("form", name="新建订阅项目")
    expect(item_form.get_by_label("数据来源事件类型").locator("option", has_text=event_type)).to_have_count(1)
    expect(item_form.get_by_role("group", name="变量取值（从事件的数据字段中选择）")).to_contain_text("选择模板后")


def test_a_question_bank_entry_is_answered_by_a_template_chosen_by_name(portal_platform, staff_api, browser):
    tag = os.getpid() % 10000
    operator = staff_api.account("pick-faq-", "city", ["city_operator"], "韩问答")
    manager = staff_api.account("pick-mgr-", "hotline", ["hotline_manager"], "杨主管")
    reviewer = staff_api.account("pick-frev-", "city", ["city_reviewer"], "朱审核")
    text = "社保卡补办请携带身份证到任一社保网点办理。"
    answer = staff_api.active_template(
        manager, reviewer, _draft(staff_api, f"社保卡补办答复{tag}", "hangup", "hotline", text, [])
    )

    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="12333问答库").click()
    form = page.get_by_role("form", name="新建问答条目")
    form.get_by_label("问题标题").fill(f"社保卡丢了怎么补办{tag}")
    form.get_by_label("答案模板").select_option(label=f"社保卡补办答复{tag}（12333服务中心）")
    form.get_by_role("button", name="新建").click()
    row = page.locator("tr", has_text=f"社保卡丢了怎么补办{tag}")
    expect(row.get_by_role("link", name=f"社保卡补办答复{tag}")).to_have_attribute(
        "href", f"#/templates/{answer['template_id']}"
    )
    expect(row).not_to_contain_text(answer["template_id"])
    expect(page.locator("main")).not_to_contain_text("null")
    shot(page, "pickers-question-bank")
