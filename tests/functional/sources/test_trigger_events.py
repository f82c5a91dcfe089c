"""Business-event intake through its real handler on moto (CONTRACTS §3): API key grants,
rules and their conditions, idempotency by event_id, undeliverable subjects, EventBridge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.audit.chain import time_key
from sms_platform.audit.search import AuditQuery, search
from sms_platform.contacts import upserts
from sms_platform.contacts.models import ContactIn
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.foundation.errors import Conflict, Forbidden
from sms_platform.sources import trigger_rule_store, trigger_rules
from sms_platform.sources.trigger_rule_models import RuleDraft
from sms_platform.staff.context import Office, Role

from tests.events import api_event, eventbridge_event
from tests.functional.intake_support import phones_of, queued_batches
from tests.staff_calls import member
from tests.template_support import active_template

NOW = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
PERSON = "11010519491231002X"
PHONE = "13700002222"
KEY = "key-pension-system"
OPS = member("ops-1", Office.it, Role.it_ops)
AUTHOR = member("op-1", Office.city, Role.city_operator, real_name="李四")
REVIEWER = member("rev-1", Office.city, Role.city_reviewer)


@pytest.fixture
def platform(aws, carrier_simulator):
    clock = FixedClock(NOW)
    set_clock(clock)
    template_id = active_template(
        clock, category="triggered", office="city", text="您${month}的养老金${amount}元已发放。",
        variables=[{"name": "month", "type": "text", "max_length": 20},
                   {"name": "amount", "type": "money", "max_length": 12}],
    )  # fmt: skip
    upserts.upsert(
        ContactIn(kind="person", id=PERSON, name="张三", district="huancui",
                  phones=[{"number": PHONE, "source": "service_hall", "verified": True}]),
        at=NOW,
    )  # fmt: skip
    trigger_rules.grant(OPS, KEY, "pension.paid", now=NOW)
    rule = trigger_rules.create(
        AUTHOR,
        RuleDraft(name="养老金发放通知", event_type="pension.paid", condition='data["amount"] > 0',
                  template_id=template_id, recipients="subject",
                  variables={"month": "data.month", "amount": "data.amount"},
                  valid_from="2024-01-01T00:00:00+08:00", valid_until="2025-01-01T00:00:00+08:00"),
        now=NOW,
    )  # fmt: skip
    trigger_rules.submit(AUTHOR, rule.rule_id, now=NOW)
    trigger_rules.approve(REVIEWER, rule.rule_id, now=NOW)
    yield rule
    set_clock(None)


def event_body(event_id="evt-1", *, amount=3120.5, subject=PERSON, event_type="pension.paid", **extra):
    return {"event_id": event_id, "event_type": event_type, "occurred_at": "2024-06-01T09:00:00+08:00",
            "subject": {"kind": "person", "id": subject}, "data": {"month": "2024年5月", "amount": amount},
            **extra}  # fmt: skip


def post(body, lambda_context, *, key=KEY, raw=None):
    import events_intake

    event = api_event("POST", "/v1/events", body=body, raw_body=raw, api_key_id=key, api_key="secret-value")
    answer = events_intake.handler(event, lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_matching_event_queues_the_filled_notice_on_the_high_lane(aws, platform, lambda_context):
    status, body = post(event_body(), lambda_context)

    assert (status, body) == (202, {"event_id": "evt-1", "matched_rules": 1, "messages": 1})
    batches = queued_batches(aws)
    assert [(b["kind"], b["template_id"]) for b in batches] == [("triggered", platform.template_id)]
    assert batches[0]["params"][0] == {"month": "2024年5月", "amount": "3120.5"}
    assert phones_of(batches) == [PHONE]


def test_a_repeated_event_id_gets_the_first_answer_and_sends_nothing_more(aws, platform, lambda_context):
    first = post(event_body(), lambda_context)
    queued_batches(aws)
    again = post(event_body(amount=99), lambda_context)

    assert again == first
    assert queued_batches(aws) == []


def test_a_key_may_send_only_its_granted_event_types(aws, platform, lambda_context):
    status, body = post(event_body(event_type="medical.reimbursed"), lambda_context)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert post(event_body(), lambda_context, key="key-of-another-system")[0] == 403
    assert queued_batches(aws) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**event_body(), "subject": {"kind": "person", "id": "110105194912310021"}}, id="bad ID check"),
        pytest.param({**event_body(), "subject": {"kind": "unit", "id": "91350100M000100Y42"}}, id="bad credit code"),
        pytest.param({**event_body(), "event_type": "Pension Paid"}, id="bad event type"),
        pytest.param({**event_body(), "occurred_at": "yesterday"}, id="bad time"),
        pytest.param({k: v for k, v in event_body().items() if k != "event_id"}, id="no event id"),
        pytest.param({**event_body(), "data": {"amount": 10}}, id="data lacks a template variable"),
    ],
)
def test_a_body_that_fails_validation_gets_422_and_changes_nothing(aws, platform, lambda_context, body):
    status, answer = post(body, lambda_context)

    assert (status, answer["error"]["code"]) == (422, "validation_failed")
    assert "110105194912310021" not in json.dumps(answer, ensure_ascii=False)
    assert queued_batches(aws) == []


def test_a_condition_that_does_not_hold_matches_no_rule(aws, platform, lambda_context):
    assert post(event_body(amount=0), lambda_context) == (202, {"event_id": "evt-1", "matched_rules": 0,
                                                               "messages": 0})  # fmt: skip
    assert queued_batches(aws) == []


def test_a_subject_without_a_number_is_recorded_undeliverable(aws, platform, lambda_context):
    from sms_platform.sending import message_store
    from sms_platform.sending.messages import message_id
    from sms_platform.sources.channel_sends import NO_NUMBER

    stranger = "371002199003074530"
    status, body = post(event_body(subject=stranger), lambda_context)

    assert (status, body["matched_rules"], body["messages"]) == (202, 1, 0)
    stored = message_store.get(message_id(f"evt#evt-1#{platform.rule_id}", NO_NUMBER))
    assert stored["state"] == "undeliverable"
    assert queued_batches(aws) == []


def test_eventbridge_events_of_the_business_source_are_taken_too(aws, platform, lambda_context):
    import events_intake

    answer = events_intake.handler(eventbridge_event("weihai.si.business", "pension.paid", event_body("evt-eb")),
                                   lambda_context)  # fmt: skip
    assert answer == {"event_id": "evt-eb", "matched_rules": 1, "messages": 1}
    assert phones_of(queued_batches(aws)) == [PHONE]


def test_rule_lifecycle_refuses_self_approval_and_keeps_versions(aws, platform):
    with pytest.raises(Conflict):
        trigger_rules.submit(AUTHOR, platform.rule_id, now=NOW)  # active, not a draft
    draft = RuleDraft(
        **{**platform.model_dump(include=set(RuleDraft.model_fields)), "condition": 'data["amount"] > 100'}
    )
    revised = trigger_rules.revise(AUTHOR, platform.rule_id, draft, now=NOW)
    trigger_rules.submit(AUTHOR, platform.rule_id, now=NOW)
    with pytest.raises(Forbidden):
        trigger_rules.approve(AUTHOR, platform.rule_id, now=NOW)
    second_reviewer = member("rev-2", Office.city, Role.city_reviewer)
    active = trigger_rules.approve(second_reviewer, platform.rule_id, now=NOW)

    assert (revised.version, revised.author_name, active.status, active.reviewer) == (2, "李四", "active", "rev-2")
    assert [r.status for r in trigger_rules.versions(platform.rule_id).rules] == ["retired", "active"]
    assert [r.version for r in trigger_rule_store.active_for("pension.paid")] == [2]


def rule_entries(window: AuditQuery) -> dict[tuple[str, str], dict]:
    return {(e["action"], e["actor"]["account_id"]): e for e in search(window).entries
            if e["action"].startswith("trigger_rule.")}  # fmt: skip


def test_each_change_of_a_rule_or_a_grant_is_audited_by_the_service(aws, platform):
    window = AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1), office="city")
    entries = rule_entries(window)
    target = f"trigger_rule:{platform.rule_id}"
    assert sorted(entries) == [("trigger_rule.approve", "rev-1"), ("trigger_rule.create", "op-1"),
                               ("trigger_rule.submit", "op-1")]  # fmt: skip
    assert {e["target"] for e in entries.values()} == {target}
    assert entries[("trigger_rule.create", "op-1")]["before"] is None
    assert entries[("trigger_rule.submit", "op-1")]["before"] == {"status": "draft"}
    approved = entries[("trigger_rule.approve", "rev-1")]
    assert (approved["before"], approved["after"]["status"]) == (None, "active")

    first_active = trigger_rules.get(platform.rule_id)
    revised = trigger_rules.revise(AUTHOR, platform.rule_id, RuleDraft(**platform.model_dump(
        include=set(RuleDraft.model_fields))), now=NOW)  # fmt: skip
    trigger_rules.submit(AUTHOR, platform.rule_id, now=NOW)
    trigger_rules.approve(member("rev-2", Office.city, Role.city_reviewer), platform.rule_id, now=NOW)
    later_on = NOW + timedelta(minutes=5)  # the service's time, not the clock's, dates its entry
    trigger_rules.retire(REVIEWER, platform.rule_id, now=later_on)
    assert trigger_rules.revoke(OPS, KEY, "pension.paid", now=NOW).event_types == []

    later = rule_entries(window)
    assert later[("trigger_rule.revise", "op-1")]["before"] == first_active.model_dump(mode="json")
    assert later[("trigger_rule.revise", "op-1")]["after"]["version"] == revised.version == 2
    replaced = later[("trigger_rule.approve", "rev-2")]["before"]
    assert (replaced["version"], replaced["status"]) == (1, "retired")
    retired = later[("trigger_rule.retire", "rev-1")]
    assert (retired["before"], retired["at"]) == ({"status": "active"}, time_key(later_on))
    grants = search(AuditQuery(start=window.start, end=window.end, operator="ops-1")).entries
    assert [(e["action"], e["target"], e["before"], e["after"], e["office"]) for e in grants] == [
        ("event_grant.add", f"api_key:{KEY}", {"event_types": []}, {"event_types": ["pension.paid"]}, "it"),
        ("event_grant.remove", f"api_key:{KEY}", {"event_types": ["pension.paid"]}, {"event_types": []}, "it"),
    ]


def test_a_rule_with_a_template_of_another_kind_or_not_yet_active_cannot_be_approved(aws, platform):
    clock = FixedClock(NOW)
    set_clock(clock)
    hangup = active_template(clock, category="hangup", office="hotline", text="社保卡补办请携带身份证到社保经办窗口。")
    for template_id in (hangup, "tpl-never-written"):
        draft = RuleDraft(**{**platform.model_dump(include=set(RuleDraft.model_fields)), "template_id": template_id})
        rule = trigger_rules.create(AUTHOR, draft, now=NOW)
        trigger_rules.submit(AUTHOR, rule.rule_id, now=NOW)
        with pytest.raises(Conflict, match="业务触发类"):
            trigger_rules.approve(REVIEWER, rule.rule_id, now=NOW)
        assert trigger_rules.get(rule.rule_id).status == "submitted"
    assert [r.rule_id for r in trigger_rule_store.active_for("pension.paid")] == [platform.rule_id]
