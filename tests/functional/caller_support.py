"""Shared set-up of the callers' status tests (CONTRACTS §7): a pension rule matching every
event, four persons whose numbers end as the contract's test numbers say, a live key, another
system's key and a test key twinned with the live one; and the intake called as API Gateway would."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sms_platform.contacts import upserts
from sms_platform.contacts.models import ContactIn
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.sources import caller_keys, trigger_rules
from sms_platform.sources.trigger_rule_models import RuleDraft
from sms_platform.staff.context import Office, Role

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.conftest import TEST_SECRETS
from tests.contacts_support import id_number
from tests.events import api_event
from tests.functional.dispatch_support import LaneRunner
from tests.staff_calls import member
from tests.template_support import active_template

NOW = datetime(2024, 6, 3, 10, 0, tzinfo=BEIJING)
LIVE_KEY, TEST_KEY, OTHER_KEY = "key-pension-live", "key-pension-test", "key-other-system"
OPS = member("ops-1", Office.it, Role.it_ops)
AUTHOR = member("op-1", Office.city, Role.city_operator, real_name="李四")
REVIEWER = member("rev-1", Office.city, Role.city_reviewer)
HOTLINE_SECRET = json.loads(TEST_SECRETS["WebhookSecret"])["hotline_webhook_secret"]
# One person per number: the three numbers of the contract that end otherwise, and an ordinary one.
NUMBERS = {"empty": "13800000001", "stopped": "13800000002", "slow": "13800000003", "plain": "13912345678"}
PEOPLE = {name: id_number(index + 1) for index, name in enumerate(NUMBERS)}


@pytest.fixture
def platform(aws, carrier_simulator, lambda_context):
    crypto.reset()
    clock = FixedClock(NOW)
    set_clock(clock)
    template_id = active_template(clock, category="triggered", office="city", text="您的养老金${amount}元已发放。",
                                  variables=[{"name": "amount", "type": "money", "max_length": 12}])  # fmt: skip
    for name, number in NUMBERS.items():
        upserts.upsert(
            ContactIn(kind="person", id=PEOPLE[name], name="张三", district="huancui",
                      phones=[{"number": number, "source": "service_hall", "verified": True}]),
            at=clock.now(),
        )  # fmt: skip
    trigger_rules.grant(OPS, LIVE_KEY, "pension.paid", now=clock.now())
    trigger_rules.grant(OPS, OTHER_KEY, "pension.paid", now=clock.now())
    caller_keys.register(OPS, TEST_KEY, kind="test", name="pension-system", twin=LIVE_KEY, now=clock.now())
    rule = trigger_rules.create(
        AUTHOR,
        RuleDraft(name="养老金发放通知", event_type="pension.paid", condition='data["amount"] > 0',
                  template_id=template_id, recipients="subject", variables={"amount": "data.amount"},
                  valid_from="2024-01-01T00:00:00+08:00", valid_until="2025-01-01T00:00:00+08:00"),
        now=clock.now(),
    )  # fmt: skip
    trigger_rules.submit(AUTHOR, rule.rule_id, now=clock.now())
    trigger_rules.approve(REVIEWER, rule.rule_id, now=clock.now())
    yield LaneRunner(aws, clock, lambda_context)
    set_clock(None)
    crypto.reset()


def send_event(event_id: str, person: str, key: str, context) -> tuple[int, dict]:
    import events_intake

    body = {"event_id": event_id, "event_type": "pension.paid", "occurred_at": "2024-06-03T09:00:00+08:00",
            "subject": {"kind": "person", "id": PEOPLE[person]}, "data": {"amount": 3120.5}}  # fmt: skip
    answer = events_intake.handler(api_event("POST", "/v1/events", body=body, api_key_id=key), context)
    return answer["statusCode"], json.loads(answer["body"])


def event_status(event_id: str, key: str | None, context) -> tuple[int, dict]:
    import events_intake

    event = api_event("GET", f"/v1/events/{event_id}", resource="/v1/events/{event_id}",
                      path_parameters={"event_id": event_id}, api_key_id=key)  # fmt: skip
    answer = events_intake.handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def states(body: dict) -> list[tuple[str, str, str | None]]:
    return [(m["phone"], m["state"], m["reason"]) for m in body["messages"]]
