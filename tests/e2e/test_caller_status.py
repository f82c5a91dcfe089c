"""Status for callers and test keys (CONTRACTS §7) through the local platform, as a business
system lives them: IT operations issue it a test key beside its live one and give both a callback
URL; it sends an event with the test key, then the same kind of event with the live key, polls
each event's status until ``delivered`` and receives the signed callbacks on a small HTTP
receiver this test runs. The test key's message never reaches the carrier simulator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.callback_receiver import CallbackReceiver
from tests.e2e.test_intake_channels import (
    Staff,
    activate,
    business_key_id,
    create_accounts,
    sign_in_admin,
    wait_for,
    write_template,
)

pytestmark = [pytest.mark.e2e]

PERSON = "370602198001010012"
PHONE = "13700005555"


def issue_test_key(platform: Any, live_key_id: str) -> dict[str, str]:
    """What ``python -m infra.keys issue --kind test --twin <live key>`` does, against the local
    platform's moto (it has no CloudFormation stack to look the plans up in)."""
    import boto3
    from sms_platform.sources import caller_keys

    from infra import keys

    with platform.functions_environment():
        gateway = boto3.client("apigateway", endpoint_url=platform.moto, region_name="us-east-1")
        plans = {plan["name"]: plan["id"] for plan in gateway.get_usage_plans()["items"]}
        business_plan = next(plan_id for name, plan_id in plans.items() if "Business" in name)
        issued = keys.issue_key(gateway, business_plan, "pension-system", "养老保险业务系统（测试）", kind="test")
        ops = keys._operator_context("e2e.ops")
        now = datetime.now(UTC)
        caller_keys.register(ops, issued["id"], kind="test", name="pension-system", twin=live_key_id, now=now)
    return issued


def set_callback(platform: Any, key_id: str, url: str) -> str:
    """What ``python -m infra.keys set-callback`` does: the key's URL and a new secret, shown once."""
    from sms_platform.sources import caller_keys

    from infra import keys

    with platform.functions_environment():
        _, secret = caller_keys.set_callback(keys._operator_context("e2e.ops"), key_id, url, now=datetime.now(UTC))
    return secret


@pytest.fixture(scope="module")
def business(local_platform):
    staff = Staff(local_platform.api)
    sign_in_admin(local_platform, staff)
    create_accounts(staff)
    template_id = write_template(
        staff, "operator", category="triggered", office="city", name="养老金发放通知（状态）",
        text="您的养老金${amount}元已发放，请注意查收。",
        variables=[{"name": "amount", "type": "money", "max_length": 12}],
    )  # fmt: skip
    activate(local_platform, [template_id])
    live_id = business_key_id(local_platform)
    staff.ok("ops", "PUT", f"/event-grants/{live_id}/pension.paid")
    stored = staff.ok("operator", "POST", "/contacts/batch", {"contacts": [{
        "kind": "person", "id": PERSON, "name": "王五", "district": "huancui",
        "phones": [{"number": PHONE, "source": "service_hall", "verified": True}]}]})  # fmt: skip
    assert stored["created"] + stored.get("updated", 0) >= 1, stored
    today = datetime.now(UTC).date()
    rule_id = staff.ok("operator", "POST", "/trigger-rules", {
        "name": "养老金发放通知（状态）", "event_type": "pension.paid", "condition": 'data["amount"] > 0',
        "template_id": template_id, "recipients": "subject", "variables": {"amount": "data.amount"},
        "valid_from": f"{(today - timedelta(days=1)).isoformat()}T00:00:00+08:00",
        "valid_until": f"{(today + timedelta(days=365)).isoformat()}T00:00:00+08:00"})["rule_id"]  # fmt: skip
    staff.ok("operator", "POST", f"/trigger-rules/{rule_id}/submission")
    staff.ok("reviewer", "POST", f"/trigger-rules/{rule_id}/approval")
    defaults = local_platform.log_events("development_defaults")[0]
    return {"live_id": live_id, "live_value": defaults["BUSINESS_API_KEY"],
            "channel_value": defaults["CHANNEL_API_KEY"]}  # fmt: skip


def post_event(api: str, key: str, event_id: str) -> requests.Response:
    body = {"event_id": event_id, "event_type": "pension.paid", "occurred_at": datetime.now(UTC).isoformat(),
            "subject": {"kind": "person", "id": PERSON}, "data": {"amount": 1880}}  # fmt: skip
    return requests.post(f"{api}/v1/events", json=body, headers={"X-Api-Key": key}, timeout=60)


def status_of(api: str, key: str, event_id: str) -> requests.Response:
    return requests.get(f"{api}/v1/events/{event_id}", headers={"X-Api-Key": key}, timeout=60)


def delivered(api: str, key: str, event_id: str) -> dict[str, Any] | None:
    body = status_of(api, key, event_id).json()
    states = [message["state"] for message in body.get("messages", [])]
    return body if states == ["delivered"] else None


def test_an_event_with_the_test_key_then_the_live_key_is_followed_to_delivered_and_called_back(
    local_platform, business
):
    api = local_platform.api
    with CallbackReceiver() as receiver:
        test_key = issue_test_key(local_platform, business["live_id"])
        test_secret = set_callback(local_platform, test_key["id"], receiver.url)
        live_secret = set_callback(local_platform, business["live_id"], receiver.url)

        tried = post_event(api, test_key["value"], "e2e-status-test-1")
        assert (tried.status_code, tried.json()) == (
            202, {"event_id": "e2e-status-test-1", "matched_rules": 1, "messages": 1, "test": True},
        )  # fmt: skip
        seen = wait_for("the test event delivered", lambda: delivered(api, test_key["value"], "e2e-status-test-1"))
        assert seen["test"] is True
        assert [(m["phone"], m["reason"]) for m in seen["messages"]] == [("137****5555", None)]
        test_calls = wait_for("the test message's callbacks", lambda: [
            r for r in receiver.received if r.body["event_id"] == "e2e-status-test-1"
            and r.body["message"]["state"] == "delivered"])  # fmt: skip
        assert test_calls[0].signed_with(test_secret) and test_calls[0].body["test"] is True

        sent = post_event(api, business["live_value"], "e2e-status-live-1")
        assert (sent.status_code, sent.json()) == (
            202, {"event_id": "e2e-status-live-1", "matched_rules": 1, "messages": 1},
        )  # fmt: skip
        seen = wait_for("the live event delivered", lambda: delivered(api, business["live_value"], "e2e-status-live-1"))
        assert "test" not in seen
        live_calls = wait_for("the live message's delivered callback", lambda: [
            r for r in receiver.received if r.body["event_id"] == "e2e-status-live-1"
            and r.body["message"]["state"] == "delivered"])  # fmt: skip
        assert live_calls[0].signed_with(live_secret) and "test" not in live_calls[0].body

    at_carrier = requests.get(f"{local_platform.carrier}/_simulator/sent?full=1", timeout=10).json()
    assert [m["out_id"].split("#")[1] for m in at_carrier if m["phone"] == PHONE] == ["e2e-status-live-1"]
    other = status_of(api, business["channel_value"], "e2e-status-live-1")
    assert (other.status_code, other.json()["error"]["code"]) == (404, "not_found")
    assert status_of(api, test_key["value"], "e2e-status-live-1").status_code == 404
