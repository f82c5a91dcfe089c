"""A test key's messages where staff see them (CONTRACTS §7): a business system tries its event
with its test key, then sends it with its live key; the trigger rule's recipients and totals hold
the live message alone (the test one reached nobody), and a 12333 agent looking up the test
message's number sees it marked 测试, so nobody reads a message that was never sent as delivered."""

from __future__ import annotations

import time
from datetime import timedelta

import boto3
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import id_number

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

PERSON_TEST = id_number(9101)  # the test event's subject: 13800000001 ends 空号 (CONTRACTS §7)
PERSON_LIVE = id_number(9102)
EVENT_TYPE = "pension.marked"


def issue_test_key(platform, live_key_id: str) -> dict[str, str]:
    """What ``python -m infra.keys issue --kind test --twin <live key>`` does, on the local moto."""
    from datetime import UTC, datetime

    from sms_platform.sources import caller_keys

    from infra import keys

    with platform.functions_environment():
        gateway = boto3.client("apigateway", endpoint_url=platform.moto, region_name="us-east-1")
        plan = next(p["id"] for p in gateway.get_usage_plans()["items"] if "Business" in p["name"])
        issued = keys.issue_key(gateway, plan, "pension-system", kind="test")
        caller_keys.register(keys._operator_context("browser.ops"), issued["id"], kind="test", name="pension-system",
                             twin=live_key_id, now=datetime.now(UTC))  # fmt: skip
    return issued


def send(platform, key: str, event_id: str, person: str) -> None:
    body = {"event_id": event_id, "event_type": EVENT_TYPE, "occurred_at": "2024-06-03T09:00:00+08:00",
            "subject": {"kind": "person", "id": person}, "data": {"amount": 1880}}  # fmt: skip
    answer = requests.post(f"{platform.api}/v1/events", json=body, headers={"X-Api-Key": key}, timeout=30)
    assert answer.status_code == 202, answer.text


def settled(platform, key: str, event_id: str, state: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = requests.get(f"{platform.api}/v1/events/{event_id}", headers={"X-Api-Key": key}, timeout=30).json()
        if [m["state"] for m in answer.get("messages", [])] == [state]:
            return
        time.sleep(1)
    raise AssertionError(f"{event_id} did not end {state}: {answer}")


def test_a_test_keys_message_is_out_of_the_rules_recipients_and_marked_at_the_desk(portal_platform, staff_api, browser):
    operator = staff_api.account("mark-op-", "city", ["city_operator"], "卫标记")
    reviewer = staff_api.account("mark-rev-", "city", ["city_reviewer"], "蒋审核")
    ops = staff_api.account("mark-ops-", "it", ["it_ops"], "沈运维")
    agent = staff_api.account("mark-agent-", "hotline", ["hotline_agent"], "韩坐席")
    today = staff_api.platform_now().date()
    template = staff_api.active_template(operator, reviewer, {
        "name": "养老金到账（标记）", "category": "triggered", "office": "city",
        "text": "您的养老金${amount}元已发放，请注意查收。",
        "variables": [{"name": "amount", "type": "money", "max_length": 12}],
        "valid_from": (today - timedelta(days=1)).isoformat(), "valid_until": "2030-12-31",
        "remark": "养老金"})  # fmt: skip
    staff_api.call("POST", "/contacts/batch", operator["token"], {"contacts": [
        {"kind": "person", "id": PERSON_TEST, "name": "测试甲", "district": "huancui",
         "phones": [{"number": "13800000001", "source": "service_hall", "verified": True}]},
        {"kind": "person", "id": PERSON_LIVE, "name": "正式乙", "district": "huancui",
         "phones": [{"number": "13700006666", "source": "service_hall", "verified": True}]}]})  # fmt: skip
    rule_id = staff_api.call("POST", "/trigger-rules", operator["token"], {
        "name": "养老金到账（标记）", "event_type": EVENT_TYPE, "condition": 'data["amount"] > 0',
        "template_id": template["template_id"], "recipients": "subject", "variables": {"amount": "data.amount"},
        "valid_from": f"{(today - timedelta(days=1)).isoformat()}T00:00:00+08:00",
        "valid_until": "2030-12-31T00:00:00+08:00"})["rule_id"]  # fmt: skip
    staff_api.call("POST", f"/trigger-rules/{rule_id}/submission", operator["token"])
    staff_api.call("POST", f"/trigger-rules/{rule_id}/approval", reviewer["token"])

    gateway = boto3.client("apigateway", endpoint_url=portal_platform.moto, region_name="us-east-1")
    live_id = gateway.get_api_keys(nameQuery="local-business-api-key")["items"][0]["id"]
    staff_api.call("PUT", f"/event-grants/{live_id}/{EVENT_TYPE}", ops["token"])
    test_key = issue_test_key(portal_platform, live_id)
    live_value = portal_platform.log_events("development_defaults")[0]["BUSINESS_API_KEY"]
    send(portal_platform, test_key["value"], "browser-mark-test", PERSON_TEST)
    send(portal_platform, live_value, "browser-mark-live", PERSON_LIVE)
    settled(portal_platform, test_key["value"], "browser-mark-test", "failed")
    settled(portal_platform, live_value, "browser-mark-live", "delivered")

    page = browser.new_page()
    sign_in(page, portal_platform, reviewer["username"], reviewer["password"])
    page.goto(f"{portal_platform.api}/portal/#/recipients/rule/{rule_id}/{today.isoformat()}")
    rows = page.locator("#recipient-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("137****6666")
    expect(page.locator("#recipient-totals")).to_contain_text("收件人1")
    # The test message ended 空号; the rule's failure reasons know nothing of it.
    expect(page.locator("#failure-categories")).to_have_text("没有发送失败的收件人。")
    shot(page, "recipients-test-key")

    desk = browser.new_page()
    sign_in(desk, portal_platform, agent["username"], agent["password"])
    desk.goto(f"{portal_platform.api}/portal/#/desk")
    desk.get_by_label("来电人手机号").fill("13800000001")
    desk.get_by_role("button", name="查询").click()
    found = desk.locator("#lookup-result tbody tr")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("测试")
    shot(desk, "desk-test-key")
