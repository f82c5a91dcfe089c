"""Status for callers and test keys (CONTRACTS §7) through the real handlers on moto: a business
system reads its own event's messages (404 for another key's), the 12333 system reads a call's
(signed over the path), and a test key's messages never reach the carrier simulator, end as the
contract says and count in no statistics."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest
from sms_platform.contracts import shapes
from sms_platform.sending import daily_stats
from sms_platform.sources import caller_keys, hotline, trigger_rules
from sms_platform.staff.context import Office, Role

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.events import api_event
from tests.functional.caller_support import (  # noqa: F401 - the fixture is named as an argument
    HOTLINE_SECRET,
    LIVE_KEY,
    NOW,
    NUMBERS,
    OPS,
    OTHER_KEY,
    TEST_KEY,
    event_status,
    platform,
    send_event,
    states,
)
from tests.functional.dispatch_support import push, receipts_event
from tests.staff_calls import member
from tests.template_support import CITY_OPERATOR, HOTLINE_MANAGER, active_template

# ---------------------------------------------------------------- an event's status


def test_the_sending_key_reads_its_event_with_masked_numbers_and_states(platform, carrier_simulator,
                                                                         lambda_context):  # fmt: skip
    assert send_event("evt-live-1", "plain", LIVE_KEY, lambda_context) == (
        202, {"event_id": "evt-live-1", "matched_rules": 1, "messages": 1},
    )  # fmt: skip
    status, body = event_status("evt-live-1", LIVE_KEY, lambda_context)

    assert status == 200
    assert (body["event_id"], body["matched_rules"], states(body)) == (
        "evt-live-1",
        1,
        [("139****5678", "queued", None)],
    )
    assert "test" not in body and "13912345678" not in json.dumps(body)
    shapes.EventStatusOut.model_validate(body)

    platform.run()
    (sent,) = carrier_simulator.sent
    assert states(event_status("evt-live-1", LIVE_KEY, lambda_context)[1]) == [("139****5678", "sent", None)]
    receipt = {"phone_number": sent.phone, "send_time": "2024-06-03 10:00:00", "report_time": "2024-06-03 10:00:05",
               "success": False, "err_code": "DB:0101", "err_msg": "空号", "sms_size": "1", "biz_id": sent.biz_id,
               "out_id": sent.out_id}  # fmt: skip
    push(receipts_event([receipt]), lambda_context)
    # The reason is the category staff read, never the carrier's raw code.
    assert states(event_status("evt-live-1", LIVE_KEY, lambda_context)[1]) == [("139****5678", "failed", "空号")]


@pytest.mark.parametrize("key", [OTHER_KEY, TEST_KEY, None], ids=["another system's key", "a test key", "no key"])
def test_another_key_gets_404_as_for_an_unknown_event(platform, lambda_context, key):
    send_event("evt-live-2", "plain", LIVE_KEY, lambda_context)

    status, body = event_status("evt-live-2", key, lambda_context)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert event_status("evt-never-sent", LIVE_KEY, lambda_context)[0] == 404
    assert "139" not in json.dumps(body)


# ---------------------------------------------------------------- test keys


def test_a_test_keys_messages_never_reach_the_carrier_and_end_as_the_contract_says(platform, carrier_simulator,
                                                                                   lambda_context):  # fmt: skip
    answers = [send_event(f"evt-test-{name}", name, TEST_KEY, lambda_context) for name in NUMBERS]
    assert answers == [
        (202, {"event_id": f"evt-test-{name}", "matched_rules": 1, "messages": 1, "test": True}) for name in NUMBERS
    ]

    platform.step()  # sent to no carrier: the two failing numbers end at once
    platform.advance(3)
    platform.step()  # a few seconds later, all but the slow number are delivered
    seen = {name: event_status(f"evt-test-{name}", TEST_KEY, lambda_context)[1] for name in NUMBERS}
    assert all(body["test"] is True for body in seen.values())
    assert {name: states(body) for name, body in seen.items()} == {
        "empty": [("138****0001", "failed", "空号")],
        "stopped": [("138****0002", "failed", "停机")],
        "slow": [("138****0003", "sending", None)],
        "plain": [("139****5678", "delivered", None)],
    }
    platform.advance(55)  # 58 s after it went sending
    platform.step()
    assert states(event_status("evt-test-slow", TEST_KEY, lambda_context)[1]) == [("138****0003", "sending", None)]
    platform.run()
    assert states(event_status("evt-test-slow", TEST_KEY, lambda_context)[1]) == [("138****0003", "delivered", None)]

    assert carrier_simulator.sent == []
    day = NOW.date()
    assert daily_stats.report(day, day) == []  # counted in no statistics


def test_a_test_key_is_checked_against_its_live_twins_grants(platform, lambda_context):
    caller_keys.register(OPS, "key-lone-test", kind="test", name="medical-system", twin=None, now=NOW)

    assert send_event("evt-lone", "plain", "key-lone-test", lambda_context)[0] == 403
    trigger_rules.revoke(OPS, LIVE_KEY, "pension.paid", now=NOW)
    assert send_event("evt-twin", "plain", TEST_KEY, lambda_context)[0] == 403


def test_a_live_send_after_a_test_one_counts_and_reaches_the_carrier(platform, carrier_simulator, lambda_context):
    send_event("evt-t", "plain", TEST_KEY, lambda_context)
    platform.step()
    platform.advance(3)
    platform.step()
    assert daily_stats.report(NOW.date(), NOW.date()) == []
    send_event("evt-l", "plain", LIVE_KEY, lambda_context)
    platform.run()

    assert [m.out_id.startswith("evt#evt-l#") for m in carrier_simulator.sent] == [True]
    (row,) = daily_stats.report(NOW.date(), NOW.date())
    assert row["sent"] == 1


# ---------------------------------------------------------------- a 12333 call's status


@pytest.fixture
def entry(platform):
    template_id = active_template(platform.clock, category="hangup", office="hotline",
                                  text="社保卡补办：请携带身份证到就近社保经办窗口办理。")  # fmt: skip
    made = hotline.create_entry(CITY_OPERATOR, "社保卡补办", template_id, now=platform.clock.now())
    hotline.set_scope(HOTLINE_MANAGER, made.faq_id, True, now=platform.clock.now())
    return made.faq_id


def signed_get(path: str, *, at: datetime, secret: str = HOTLINE_SECRET, signature: str | None = None) -> dict:
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"{timestamp}.{path}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature or digest}
    call_id = path.rsplit("/", 1)[-1]
    return api_event("GET", path, resource="/v1/hotline/hangups/{call_id}", path_parameters={"call_id": call_id},
                     headers=headers)  # fmt: skip


def hangup(body: dict, at: datetime) -> dict:
    raw = json.dumps(body)
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(HOTLINE_SECRET.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    return api_event("POST", "/v1/hotline/hangups", raw_body=raw,
                     headers={"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": digest})  # fmt: skip


def call_hotline(event: dict, context) -> tuple[int, dict]:
    import hangups

    answer = hangups.handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def test_the_12333_system_reads_a_calls_messages_signed_over_the_path(platform, entry, lambda_context):
    now = platform.clock.now()
    body = {"call_id": "call-77", "caller": "13700001234", "agent_id": "A1024", "ended_at": now.isoformat(),
            "faq_ids": [entry]}  # fmt: skip
    assert call_hotline(hangup(body, now), lambda_context)[0] == 202

    status, answer = call_hotline(signed_get("/v1/hotline/hangups/call-77", at=now), lambda_context)
    assert status == 200
    assert (answer["call_id"], answer["status"], states(answer)) == ("call-77", "queued",
                                                                     [("137****1234", "queued", None)])  # fmt: skip
    shapes.CallStatusOut.model_validate(answer)
    platform.run()
    later = platform.clock.now()
    assert states(call_hotline(signed_get("/v1/hotline/hangups/call-77", at=later), lambda_context)[1]) == [
        ("137****1234", "sent", None)
    ]


@pytest.mark.parametrize(
    "how",
    [
        pytest.param({"secret": "not-the-secret"}, id="wrong secret"),
        pytest.param({"signature": "0" * 64}, id="wrong signature"),
        pytest.param({"shift": -301}, id="301 s old"),
        pytest.param({"shift": 301}, id="301 s ahead"),
    ],
)
def test_a_wrongly_signed_or_stale_status_read_gets_401(platform, entry, lambda_context, how):
    now = platform.clock.now()
    body = {"call_id": "call-78", "caller": "13700001234", "agent_id": "A1024", "ended_at": now.isoformat(),
            "faq_ids": [entry]}  # fmt: skip
    call_hotline(hangup(body, now), lambda_context)
    at = now + timedelta(seconds=how.get("shift", 0))
    options = {k: v for k, v in how.items() if k != "shift"}

    status, answer = call_hotline(signed_get("/v1/hotline/hangups/call-78", at=at, **options), lambda_context)
    assert (status, answer["error"]["code"]) == (401, "unauthenticated")
    assert "1234" not in json.dumps(answer)


def test_a_signature_over_another_calls_path_is_refused_and_an_unknown_call_is_404(platform, entry, lambda_context):
    now = platform.clock.now()
    forged = signed_get("/v1/hotline/hangups/call-1", at=now)
    forged["path"] = "/v1/hotline/hangups/call-2"
    forged["pathParameters"] = {"call_id": "call-2"}
    assert call_hotline(forged, lambda_context)[0] == 401
    status, answer = call_hotline(signed_get("/v1/hotline/hangups/call-unknown", at=now), lambda_context)
    assert (status, answer["error"]["code"]) == (404, "not_found")


def test_a_test_keys_messages_count_nowhere_among_the_rules_recipients_or_totals(platform, lambda_context):
    from sms_platform.reports import recipients

    send_event("evt-seen-test", "empty", TEST_KEY, lambda_context)
    send_event("evt-seen-test-2", "plain", TEST_KEY, lambda_context)
    send_event("evt-seen-live", "plain", LIVE_KEY, lambda_context)
    platform.step()
    platform.advance(3)
    platform.step()  # the test messages are settled (空号, delivered), the live one handed to the carrier
    (rule,) = trigger_rules.list_rules().rules
    reader = member("rev-2", Office.city, Role.city_reviewer)

    page = recipients.page(reader, "rule", rule.rule_id, NOW.date().isoformat(), None, now=NOW)
    # The rule's day lists and counts the live event's recipient alone: the test events reached nobody.
    assert [row.phone_masked for row in page.rows] == ["139****5678"]
    assert page.totals is not None and page.totals.all == 1
    assert page.totals.states["failed"] == 0 and page.totals.failure_categories == {}
    group = recipients.resolve(reader, "rule", rule.rule_id, NOW.date().isoformat(), now=NOW)
    assert recipients.count(group, []) == 1
    # The test key still reads its own messages, marked test.
    assert event_status("evt-seen-test", TEST_KEY, lambda_context)[1]["test"] is True


def test_the_12333_desk_sees_a_test_keys_message_to_a_number_marked_test(platform, lambda_context):
    from sms_platform.reports import delivery_reports

    send_event("evt-desk-test", "plain", TEST_KEY, lambda_context)
    send_event("evt-desk-live", "plain", LIVE_KEY, lambda_context)
    agent = member("agent-1", Office.hotline, Role.hotline_agent)

    found = delivery_reports.citizen_messages(agent, NUMBERS["plain"], now=NOW)
    assert sorted(message.test is True for message in found.messages) == [False, True]
