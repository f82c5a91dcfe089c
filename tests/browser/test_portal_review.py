"""Reviewers' queues in the portal: a table of what waits and the detail of one item with all the
approval covers (text with its signature, parts, variables with types and lengths, the purpose
filed with the carrier; for a send also its values, audience and timing). Approving or rejecting
stays in the queue: the outcome is announced and the next item opens."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sms_platform.text import sms

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

MONTH = {"name": "month", "type": "text", "max_length": 8}
NOTICE = "尊敬的${name}，您的社保待遇将于${date}发放，金额${amount}元，详询12333。"


def _draft(staff_api, name: str, text: str, variables: list[dict], remark: str) -> dict:
    today = staff_api.platform_now().date()
    return {
        "name": name, "category": "targeted", "office": "city", "text": text, "variables": variables,
        "valid_from": today.isoformat(), "valid_until": today.replace(year=today.year + 1).isoformat(),
        "remark": remark,
    }  # fmt: skip


def test_a_reviewer_sees_everything_a_template_approval_covers_and_moves_on_to_the_next(
    portal_platform, staff_api, browser
):
    tag = os.getpid() % 10000
    operator = staff_api.account("rq-op-", "city", ["city_operator"], "孙编写")
    reviewer = staff_api.account("rq-rev-", "city", ["city_reviewer"], "吴审核")
    variables = [
        {"name": "name", "type": "name", "max_length": 10},
        {"name": "date", "type": "date", "max_length": 11, "format": "chinese"},
        {"name": "amount", "type": "money", "max_length": 9},
    ]
    first_name, second_name = f"待遇发放通知{tag}", f"年审提醒{tag}"
    ids = []
    for name, text, specs, remark in [
        (first_name, NOTICE, variables, "每月待遇发放后告知参保人发放日期和金额"),
        (second_name, "请于本月底前到社保大厅办理年审，详询12333。", [], "提醒参保人按时年审"),
    ]:
        created = staff_api.call("POST", "/templates", operator["token"], _draft(staff_api, name, text, specs, remark))
        staff_api.call("POST", f"/templates/{created['template_id']}/versions/1/submission", operator["token"])
        ids.append(created["template_id"])
    signatures = staff_api.call("GET", "/signatures", reviewer["token"])["signatures"]
    signature = next(s["name"] for s in signatures if s["office"] == "city")
    length = sms.measure(NOTICE, signature)

    page = browser.new_page()
    sign_in(page, portal_platform, reviewer["username"], reviewer["password"])
    # 我的工作 leads straight to the template's review, inside the queue.
    page.get_by_role("link", name=f"模板：{first_name}（第 1 版）").click()
    queue = page.locator(".review-queue")
    expect(queue.get_by_role("heading")).to_have_text(re.compile(r"待审核的模板（共 \d+ 件）"))
    row = queue.locator(f'tr[data-key="{ids[0]}/1"]')
    expect(row).to_contain_text("孙编写")
    expect(row).to_contain_text("定向通知类")
    expect(row).to_have_class(re.compile("selected"))

    detail = page.get_by_role("region", name=f"模板 {first_name} 的审核内容")
    expect(detail.get_by_role("heading", name=f"审核：{first_name}（第 1 版）")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"#/templates/review/{ids[0]}/1$"))
    expect(detail.locator("#review-signature")).to_have_text(f"【{signature}】")
    expect(detail.locator("#review-text")).to_have_text(f"【{signature}】{NOTICE}")
    expect(detail.locator("#review-parts")).to_have_text(
        f"含签名共 {length.characters} 字，按 {length.parts} 条计费（每条 {length.per_part} 字）"
    )
    expect(detail.locator("#review-remark")).to_have_text("每月待遇发放后告知参保人发放日期和金额")
    rows = detail.locator(".review-variables tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_text(re.compile(r"\$\{name\}\s*姓名\s*—\s*10 字"))
    expect(rows.nth(1)).to_have_text(re.compile(r"\$\{date\}\s*日期\s*2026年12月31日\s*11 字"))
    expect(rows.nth(2)).to_have_text(re.compile(r"\$\{amount\}\s*金额\s*—\s*9 字"))
    shot(page, "review-template-detail")

    # Approving keeps the reviewer in the queue: the outcome is announced, the decided template
    # leaves the table and the one after it opens.
    detail.get_by_role("button", name="审核通过并报备").click()
    outcome = page.locator(".review-outcome")
    expect(outcome).to_contain_text(f"已审核通过：{first_name}（第 1 版），已报备，运营商审核中。")
    expect(queue.locator(f'tr[data-key="{ids[0]}/1"]')).to_have_count(0)
    expect(page.locator(".review-detail h2")).not_to_have_text(f"审核：{first_name}（第 1 版）")
    expect(page.locator(".review-detail h2")).to_be_focused()  # the reviewer reads on from the next item
    expect(page).to_have_url(re.compile(r"#/templates/review"))

    # The second one, rejected with a reason, without leaving the queue either.
    queue.get_by_role("link", name=f"{second_name}（第 1 版）").click()
    second = page.get_by_role("region", name=f"模板 {second_name} 的审核内容")
    expect(second.locator("#review-remark")).to_have_text("提醒参保人按时年审")
    expect(second).to_contain_text("无变量")
    second.get_by_label("不通过的原因").fill("请写明年审的截止日期")
    second.get_by_role("button", name="不通过").click()
    expect(outcome).to_contain_text(f"已审核不通过：{second_name}（第 1 版），审核未通过。")
    expect(queue.locator(f'tr[data-key="{ids[1]}/1"]')).to_have_count(0)
    shot(page, "review-template-next")

    versions = [staff_api.call("GET", f"/templates/{i}", operator["token"])["versions"][0] for i in ids]
    assert [v["status"] for v in versions] == ["filed", "rejected"], versions
    assert versions[1]["reject_reason"] == "请写明年审的截止日期"


def test_a_reviewer_works_through_send_requests_with_their_values_and_variables(portal_platform, staff_api, browser):
    tag = os.getpid() % 1000
    operator = staff_api.account("rqs-op-", "city", ["city_operator"], "冯申请")
    reviewer = staff_api.account("rqs-rev-", "city", ["city_reviewer"], "陈审核")
    contacts = [person(8300 + tag * 3 + n, district="wendeng") for n in range(2)]
    assert staff_api.call("POST", "/contacts/batch", operator["token"], {"contacts": contacts})["rejected"] == 0
    text = "您单位${month}的社保缴费已到账，详询12333。"
    template = staff_api.active_template(
        operator,
        reviewer,
        _draft(staff_api, f"缴费到账通知{tag}", text, [MONTH], "缴费到账后告知"),
    )
    requests_made = []
    for month in ("2026年11月", "2026年12月"):
        created = staff_api.call(
            "POST",
            "/send-requests",
            operator["token"],
            {
                "template_id": template["template_id"],
                "values": {"month": month},
                "audience": {"kind": "person", "districts": ["wendeng"]},
                "note": f"{month}到账告知",
            },
        )
        requests_made.append(created["request_id"])

    page = browser.new_page()
    sign_in(page, portal_platform, reviewer["username"], reviewer["password"])
    page.get_by_role("link", name="发送申请").click()
    page.get_by_role("link", name="待审核").click()
    queue = page.locator(".review-queue")
    expect(queue.get_by_role("heading")).to_have_text(re.compile(r"待审核的发送申请（共 \d+ 件）"))
    queue.locator(f'tr[data-key="{requests_made[0]}"] a').click()

    detail = page.locator(f'.review[data-request="{requests_made[0]}"]')
    expect(detail.locator("#review-audience")).to_contain_text("人（参保人员，文登区）")
    expect(detail.locator("#review-remark")).to_have_text("缴费到账后告知")
    expect(detail.locator("#review-text")).to_contain_text("您单位2026年11月的社保缴费已到账")
    month_row = detail.locator(".review-variables tbody tr")
    expect(month_row).to_have_text(re.compile(r"\$\{month\}\s*文本\s*—\s*8 字\s*2026年11月"))
    expect(detail).to_contain_text("2026年11月到账告知")
    shot(page, "review-send-detail")

    detail.get_by_role("button", name="审核通过", exact=True).click()
    outcome = page.locator(".review-outcome")
    expect(outcome).to_contain_text(f"已审核通过：定向通知：缴费到账通知{tag}（市社保中心）。")
    expect(queue.locator(f'tr[data-key="{requests_made[0]}"]')).to_have_count(0)
    # The next request opens by itself; this reviewer's queue holds the second one too.
    queue.locator(f'tr[data-key="{requests_made[1]}"] a').click()
    second = page.locator(f'.review[data-request="{requests_made[1]}"]')
    expect(second.locator(".review-variables tbody tr")).to_contain_text("2026年12月")
    second.get_by_role("button", name="不通过").click()
    expect(second.locator('[data-error-for="reason"]')).not_to_be_empty()
    second.get_by_label("不通过的原因").fill("与上一份申请重复")
    second.get_by_role("button", name="不通过").click()
    expect(outcome).to_contain_text(f"已审核不通过：定向通知：缴费到账通知{tag}（市社保中心）。")
    shot(page, "review-send-next")

    statuses = [
        staff_api.call("GET", f"/send-requests/{r}", operator["token"])["request"]["status"] for r in requests_made
    ]
    assert statuses[1] == "rejected"
    assert statuses[0] != "submitted"
