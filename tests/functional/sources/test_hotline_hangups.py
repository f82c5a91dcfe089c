"""The 12333 hang-up webhook through its real handler on moto (CONTRACTS §2).

Signed requests are built here from the contract's text: hex HMAC-SHA256 with the hotline
secret over ``timestamp + "." + raw body``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.sending.messages import MessageState, message_id
from sms_platform.sources import hotline
from sms_platform.staff.context import Office, Role

from tests.conftest import TEST_SECRETS
from tests.events import api_event
from tests.functional.intake_support import phones_of, queued_batches
from tests.staff_calls import member
from tests.template_support import CITY_OPERATOR, HOTLINE_MANAGER, active_template

SECRET = json.loads(TEST_SECRETS["WebhookSecret"])["hotline_webhook_secret"]
NOW = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)  # 07:30 the next morning in Beijing
CALLER = "13800001111"
# Agents are matched to calls by staff number: the telephony system's agent_id.
AGENT = replace(member("agent-1", Office.hotline, Role.hotline_agent), staff_number="A1024")
OTHER_AGENT = replace(member("agent-2", Office.hotline, Role.hotline_agent), staff_number="A2000")


@pytest.fixture
def clock():
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


@pytest.fixture
def bank(aws, carrier_simulator, clock):
    """Three entries in scope and one out of scope, each its own active hang-up template."""
    ids = {}
    for name in ("社保卡补办", "养老金查询", "医保报销", "停用条目"):
        template_id = active_template(clock, category="hangup", office="hotline",
                                      text=f"{name}：请携带身份证到就近社保经办窗口办理。")  # fmt: skip
        entry = hotline.create_entry(CITY_OPERATOR, name, template_id, now=clock.now())
        if name != "停用条目":
            hotline.set_scope(HOTLINE_MANAGER, entry.faq_id, True, now=clock.now())
        ids[name] = entry.faq_id
        ids[f"template:{name}"] = template_id
    clock.set(NOW)
    return ids


def signed(body: dict | str, *, at: datetime = NOW, secret: str = SECRET, signature: str | None = None):
    raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature or digest}
    return api_event("POST", "/v1/hotline/hangups", raw_body=raw, headers=headers)


def call(call_id: str = "call-0001", *, caller: str = CALLER, faq_ids=None, **extra) -> dict:
    body = {"call_id": call_id, "caller": caller, "agent_id": "A1024", "ended_at": "2024-03-06T07:29:40+08:00"}
    if faq_ids is not None:
        body["faq_ids"] = faq_ids
    return {**body, **extra}


def post(event, lambda_context):
    import hangups

    answer = hangups.handler(event, lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_signed_hang_up_sends_one_sms_per_chosen_entry(aws, bank, lambda_context):
    chosen = [bank["社保卡补办"], bank["养老金查询"]]
    status, body = post(signed(call(faq_ids=chosen)), lambda_context)

    assert (status, body) == (202, {"call_id": "call-0001", "status": "queued"})
    batches = queued_batches(aws)
    assert sorted(b["template_id"] for b in batches) == sorted(
        [bank["template:养老金查询"], bank["template:社保卡补办"]]
    )
    assert all(b["kind"] == "hangup" for b in batches)
    assert phones_of(batches) == [CALLER, CALLER]


def test_the_same_call_again_gets_the_same_answer_and_sends_nothing_more(aws, bank, lambda_context):
    first = post(signed(call(faq_ids=[bank["医保报销"]])), lambda_context)
    assert len(queued_batches(aws)) == 1
    again = post(signed(call(faq_ids=[bank["医保报销"], bank["社保卡补办"]])), lambda_context)

    assert again == first == (202, {"call_id": "call-0001", "status": "queued"})
    assert queued_batches(aws) == []


@pytest.mark.parametrize(
    "make_event",
    [
        pytest.param(lambda body: signed(body, secret="not-the-secret"), id="wrong secret"),
        pytest.param(lambda body: signed(body, signature="0" * 64), id="wrong signature"),
        pytest.param(lambda body: signed(body, at=NOW - timedelta(seconds=301)), id="301 s old"),
        pytest.param(lambda body: signed(body, at=NOW + timedelta(seconds=301)), id="301 s ahead"),
        pytest.param(
            lambda body: api_event("POST", "/v1/hotline/hangups", body=body, headers={}), id="no signature at all"
        ),
        pytest.param(
            lambda body: {**signed(body), "body": json.dumps({**body, "caller": "13900002222"})},
            id="body changed after signing",
        ),
    ],
)
def test_unsigned_or_stale_requests_get_401_and_change_nothing(aws, bank, lambda_context, make_event):
    status, body = post(make_event(call(faq_ids=[bank["社保卡补办"]])), lambda_context)

    assert status == 401
    assert body["error"]["code"] == "unauthenticated"
    assert hotline.get_call("call-0001") is None
    assert queued_batches(aws) == []


def test_a_timestamp_within_300_seconds_is_accepted(aws, bank, lambda_context):
    status, _ = post(signed(call(faq_ids=[bank["社保卡补办"]]), at=NOW - timedelta(seconds=300)), lambda_context)
    assert status == 202


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"faq_ids": ["unknown-entry"]}, "faq_ids"),
        ({"faq_ids": "not-a-list"}, "faq_ids"),
        ({"call_id": ""}, "call_id"),
        ({"ended_at": "yesterday"}, "ended_at"),
        ({"caller": "12345"}, "caller"),
        ({"agent_id": None}, "agent_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_body_that_fails_validation_gets_422_and_changes_nothing(aws, bank, lambda_context, change, field):
    status, body = post(signed({**call(faq_ids=[bank["社保卡补办"]]), **change}), lambda_context)

    assert status == 422
    assert body["error"]["field"] == field
    assert hotline.get_call("call-0001") is None
    assert queued_batches(aws) == []


@pytest.mark.parametrize(
    "caller",
    ["\x1c\x1d\x1e\x1f\x0b\x0c", "138\x1f0000\x1e1111", "13800001111\x00", "\u202e1111000083 1"],
    ids=["only separators of no keyboard", "unit separators inside a mobile", "NUL after a mobile", "RLO"],
)
def test_a_caller_with_control_characters_gets_422_and_nothing_is_stored(aws, bank, lambda_context, caller):
    status, body = post(signed(call(caller=caller, faq_ids=[bank["社保卡补办"]])), lambda_context)
    waiting = post(signed(call("call-0002", caller=caller)), lambda_context)

    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "validation_failed", "caller")
    assert body["error"]["details"] == [{"field": "caller", "message": "主叫号码含有不可见的控制字符"}]
    assert waiting[0] == 422
    assert hotline.get_call("call-0001") is None and hotline.get_call("call-0002") is None
    assert hotline.waiting_calls(HOTLINE_MANAGER, now=NOW).calls == []
    assert queued_batches(aws) == []
    assert caller not in json.dumps(body, ensure_ascii=False)


def test_more_than_three_entries_or_an_inactive_one_gets_422(aws, bank, lambda_context):
    four = [bank["社保卡补办"], bank["养老金查询"], bank["医保报销"], bank["停用条目"]]
    assert post(signed(call(faq_ids=four)), lambda_context)[0] == 422
    status, body = post(signed(call(faq_ids=[bank["社保卡补办"], bank["停用条目"]])), lambda_context)
    assert status == 422
    assert "未启用" in body["error"]["message"]
    assert queued_batches(aws) == []
    assert hotline.get_call("call-0001") is None


def test_an_unparseable_body_gets_422(aws, bank, lambda_context):
    status, body = post(signed("{not json"), lambda_context)
    assert (status, body["error"]["code"]) == (422, "validation_failed")


def test_a_landline_caller_gets_not_mobile_and_nothing_is_sent(aws, bank, lambda_context):
    status, body = post(signed(call(caller="0631-5201234", faq_ids=[bank["社保卡补办"]])), lambda_context)

    assert (status, body) == (202, {"call_id": "call-0001", "status": "not_mobile"})
    assert queued_batches(aws) == []


def test_no_entries_waits_for_the_agent_who_picks_within_24_hours(aws, bank, clock, lambda_context):
    status, body = post(signed(call()), lambda_context)
    assert (status, body["status"]) == (202, "awaiting_agent")
    assert queued_batches(aws) == []

    waiting = hotline.waiting_calls(AGENT, now=NOW).calls
    assert [(c.call_id, c.caller) for c in waiting] == [("call-0001", "138****1111")]
    assert hotline.waiting_calls(OTHER_AGENT, now=NOW).calls == []

    clock.advance(hours=23)
    picked = hotline.pick(AGENT, "call-0001", [bank["医保报销"]], now=clock.now())
    assert (picked.status, picked.picked_by) == ("queued", "agent-1")
    assert phones_of(queued_batches(aws)) == [CALLER]
    # Picking again, or a repeated webhook, sends nothing more.
    with pytest.raises(Exception, match="已处理"):
        hotline.pick(AGENT, "call-0001", [bank["社保卡补办"]], now=clock.now())
    assert post(signed(call(), at=clock.now()), lambda_context)[1]["status"] == "awaiting_agent"
    assert queued_batches(aws) == []


def test_after_24_hours_the_call_is_expired_and_nothing_is_sent(aws, bank, clock, lambda_context):
    post(signed(call()), lambda_context)
    clock.advance(hours=24, minutes=1)

    assert hotline.waiting_calls(HOTLINE_MANAGER, now=clock.now()).calls == []
    with pytest.raises(Exception, match="24 小时"):
        hotline.pick(HOTLINE_MANAGER, "call-0001", [bank["医保报销"]], now=clock.now())
    assert hotline.get_call("call-0001")["status"] == "expired"
    assert queued_batches(aws) == []


def test_an_agent_cannot_pick_for_another_agents_call(aws, bank, lambda_context):
    post(signed(call()), lambda_context)
    with pytest.raises(Exception, match="自己接听"):
        hotline.pick(OTHER_AGENT, "call-0001", [bank["医保报销"]], now=NOW)
    assert queued_batches(aws) == []


def test_queued_messages_are_recorded_once_per_entry(aws, bank, lambda_context):
    from sms_platform.foundation import crypto
    from sms_platform.sending import message_store

    post(signed(call(faq_ids=[bank["社保卡补办"]])), lambda_context)
    mid = message_id(f"call#call-0001#{bank['社保卡补办']}", crypto.keyed_hash(CALLER))
    stored = message_store.get(mid)
    assert stored["state"] == MessageState.QUEUED
    assert stored["phone_masked"] == "138****1111"
    assert CALLER not in json.dumps(stored, default=str)


def test_an_entry_whose_answer_template_was_retired_is_no_longer_sent(aws, bank, lambda_context):
    from tests.staff_calls import call as staff_call
    from tests.template_support import HOTLINE_MANAGER

    template_id = bank["template:医保报销"]
    retired = staff_call(HOTLINE_MANAGER, "POST", f"/v1/staff/templates/{template_id}/retirement",
                         {"reason": "医保报销政策调整，答案停用"})  # fmt: skip
    assert retired.status == 200, retired.body

    status, body = post(signed(call(faq_ids=[bank["医保报销"]])), lambda_context)
    assert (status, body["error"]["field"]) == (422, "faq_ids")
    active = hotline.active_entries(NOW).entries
    assert sorted(e.faq_id for e in active) == sorted([bank["社保卡补办"], bank["养老金查询"]])
    assert queued_batches(aws) == []


def test_an_entry_can_only_answer_with_a_hang_up_template(aws, carrier_simulator, clock):
    from sms_platform.foundation.errors import ValidationFailed

    notice = active_template(clock, category="triggered", office="city", text="您的养老金已发放，请注意查收。")
    with pytest.raises(ValidationFailed, match="挂机短信"):
        hotline.create_entry(CITY_OPERATOR, "养老金发放", notice, now=NOW)
    with pytest.raises(ValidationFailed, match="挂机短信"):
        hotline.create_entry(CITY_OPERATOR, "养老金发放", "tpl-never-written", now=NOW)
    assert hotline.list_entries().entries == []


def audited(action: str, at: datetime) -> list[dict]:
    """The audit entries of ``action`` on ``at``'s Beijing day, as an auditor's export shows them."""
    from sms_platform.audit import archive
    from sms_platform.foundation.clock import BEIJING

    lines, _, broken = archive.archive_lines(at.astimezone(BEIJING).date(), at)
    assert broken is None
    return [entry for entry in map(json.loads, lines[1:]) if entry["action"] == action]


def test_the_desk_services_audit_what_staff_change(aws, bank, clock, lambda_context):
    post(signed(call()), lambda_context)
    clock.advance(minutes=5)
    picked = hotline.pick(AGENT, "call-0001", [bank["医保报销"]], now=clock.now())
    entry = hotline.create_entry(CITY_OPERATOR, "社保卡挂失", bank["template:社保卡补办"], now=clock.now())
    scoped = hotline.set_scope(HOTLINE_MANAGER, entry.faq_id, True, now=clock.now())

    [created] = [e for e in audited("hotline_entry.create", clock.now()) if e["target"] == f"faq:{entry.faq_id}"]
    [scope] = [e for e in audited("hotline_entry.scope", clock.now()) if e["target"] == f"faq:{entry.faq_id}"]
    [pick] = audited("hotline_call.pick", clock.now())
    assert (created["actor"]["account_id"], created["office"]) == (CITY_OPERATOR.account_id, "city")
    assert created["before"] is None and created["after"] == entry.model_dump()
    assert (scope["actor"]["account_id"], scope["office"]) == (HOTLINE_MANAGER.account_id, "hotline")
    assert scope["before"] == entry.model_dump() and scope["after"] == scoped.model_dump()
    assert scoped.in_scope and scoped.scope_by == HOTLINE_MANAGER.account_id
    assert (pick["target"], pick["actor"]["account_id"], pick["office"]) == ("call:call-0001", "agent-1", "hotline")
    assert pick["before"] == {"status": "awaiting_agent"}
    assert pick["after"] == {"status": "queued", "faq_ids": [bank["医保报销"]]} and picked.status == "queued"
    # Each entry bears the time of the change it records.
    assert {e["at"] for e in (created, scope, pick)} == {clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
