"""Status callbacks (CONTRACTS §7) through the real handlers on moto: IT operations give a key a
callback URL (``python -m infra.keys set-callback``), each state change of the key's messages is
posted to it signed, a failing receiver is tried again with backoff and, after the last try, the
notice is left on the dead-letter queue."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from sms_platform.audit.search import AuditQuery, search
from sms_platform.contracts import shapes
from sms_platform.reports import caller_callbacks
from sms_platform.sending import dlq
from sms_platform.sources import caller_keys

from infra import keys
from tests.callback_receiver import CallbackReceiver
from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.caller_support import (  # noqa: F401 - the fixture is named as an argument
    LIVE_KEY,
    NOW,
    OPS,
    TEST_KEY,
    platform,
    send_event,
)
from tests.functional.dispatch_support import _moto_queue, _now_ms, push, receipts_event, sqs_event


@pytest.fixture
def receiver():
    with CallbackReceiver() as running:
        yield running


def run_callbacks(context) -> list[dict]:
    """Hand every ready notice to the callback worker once, as its event source mapping would;
    the worker's answers."""
    import status_callbacks
    from sms_platform import aws

    url, answers = _callback_url(), []
    while (event := sqs_event(url))["Records"]:
        answer = status_callbacks.handler(event, context)
        answers.append(answer)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                aws.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return answers


def _callback_url() -> str:
    import os

    return os.environ["CALLBACK_QUEUE_URL"]


def test_each_state_change_of_a_live_keys_message_is_posted_signed(platform, carrier_simulator, receiver,
                                                                   lambda_context):  # fmt: skip
    key, secret = caller_keys.set_callback(OPS, LIVE_KEY, receiver.url, now=NOW)
    send_event("evt-cb-1", "plain", LIVE_KEY, lambda_context)
    platform.run()
    platform.clock.advance(seconds=5)  # the handset's receipt comes a few seconds later
    (sent,) = carrier_simulator.sent
    receipt = {"phone_number": sent.phone, "send_time": "2024-06-03 10:00:00", "report_time": "2024-06-03 10:00:05",
               "success": True, "err_code": "DELIVRD", "err_msg": "", "sms_size": "1", "biz_id": sent.biz_id,
               "out_id": sent.out_id}  # fmt: skip
    push(receipts_event([receipt]), lambda_context)
    run_callbacks(lambda_context)

    # Sorted by updated_at as the contract tells a receiver to (one handling's moves share a time).
    moves = sorted(((r.body["message"]["updated_at"], r.body["message"]["state"]) for r in receiver.received),
                   key=lambda move: move[0])  # fmt: skip
    assert [state for _, state in moves] == ["sending", "sent", "delivered"], moves
    last = next(r for r in receiver.received if r.body["message"]["state"] == "delivered")
    assert last.signed_with(secret) and not last.signed_with("another-secret")
    assert last.path == "/sms/status?token=receiver-token"
    assert last.body == {
        "event_id": "evt-cb-1",
        "message": {"message_id": last.body["message"]["message_id"], "phone": "139****5678", "state": "delivered",
                    "reason": None, "updated_at": last.body["message"]["updated_at"]},
    }  # fmt: skip
    shapes.StatusCallback.model_validate(last.body)
    assert "13912345678" not in last.raw.decode()


def test_a_test_keys_messages_are_posted_sending_then_their_end_marked_test(platform, receiver, lambda_context):
    caller_keys.set_callback(OPS, TEST_KEY, receiver.url, now=NOW)
    send_event("evt-cb-empty", "empty", TEST_KEY, lambda_context)
    send_event("evt-cb-plain", "plain", TEST_KEY, lambda_context)
    platform.step()
    platform.advance(3)
    platform.step()
    run_callbacks(lambda_context)

    seen = sorted((r.body["event_id"], r.body["message"]["state"], r.body["message"]["reason"], r.body["test"])
                  for r in receiver.received)  # fmt: skip
    assert seen == [
        ("evt-cb-empty", "failed", "空号", True),
        ("evt-cb-empty", "sending", None, True),
        ("evt-cb-plain", "delivered", None, True),
        ("evt-cb-plain", "sending", None, True),
    ]


def test_a_failing_receiver_is_tried_again_with_backoff_then_the_notice_is_dead_lettered(platform, receiver,
                                                                                         lambda_context):  # fmt: skip
    caller_keys.set_callback(OPS, TEST_KEY, receiver.url, now=NOW)
    receiver.status = 503
    send_event("evt-cb-down", "empty", TEST_KEY, lambda_context)
    platform.step()  # sending, then failed (空号): two notices
    queue = _moto_queue(_callback_url())
    dead = _moto_queue(_callback_url().replace("CallbackQueue", "CallbackDeadLetterQueue"))
    assert len(queue._messages) == 2

    answers = run_callbacks(lambda_context)
    assert [len(a["batchItemFailures"]) for a in answers] == [2]
    waits = sorted(round((m.visible_at - _now_ms()) / 1000) for m in queue._messages)
    assert all(29 <= wait <= 31 for wait in waits), waits  # the first backoff: 30 s

    for _ in range(caller_callbacks.MAX_TRIES - 1):  # every later try comes due, and fails again
        for message in queue._messages:
            message.visible_at = 0
        run_callbacks(lambda_context)
    for message in queue._messages:
        message.visible_at = 0
    assert sqs_event(_callback_url())["Records"] == []  # the tenth failure was the last try
    assert len(dead._messages) == 2
    assert len(receiver.received) == 2 * caller_callbacks.MAX_TRIES

    receiver.status = 200  # a receiver that works again gets the later notices at once
    send_event("evt-cb-up", "plain", TEST_KEY, lambda_context)
    platform.step()
    run_callbacks(lambda_context)
    assert receiver.received[-1].body["message"]["state"] == "sending"

    # IT operations see the dead letters (no number in them) and send them back once it works.
    listed = dlq.peek("callbacks", 10)
    assert sorted(m["state"] for m in listed) == ["failed", "sending"] and "13800000001" not in json.dumps(listed)
    assert dlq.main(["redrive", "--lane", "callbacks"]) == 0
    run_callbacks(lambda_context)
    assert len(dead._messages) == 0
    tried = [r.body["message"]["state"] for r in receiver.received if r.body["event_id"] == "evt-cb-down"]
    assert tried.count("failed") == caller_callbacks.MAX_TRIES + 1  # ten failed tries, then the redriven one


def test_a_receiver_slower_than_the_timeout_is_a_failure_tried_again(platform, receiver, lambda_context, monkeypatch):
    # The contract's 5 s, shortened so that the test does not wait for it.
    monkeypatch.setattr(caller_callbacks, "TIMEOUT_SECONDS", 0.3)
    caller_keys.set_callback(OPS, TEST_KEY, receiver.url, now=NOW)
    receiver.delay = 1.0
    send_event("evt-cb-slow", "empty", TEST_KEY, lambda_context)
    platform.step()

    answers = run_callbacks(lambda_context)
    assert [len(answer["batchItemFailures"]) for answer in answers] == [2]
    assert len(_moto_queue(_callback_url())._messages) == 2  # kept for the next try


def test_backoff_spreads_the_tries_over_a_day():
    waits = [caller_callbacks.backoff_seconds(tries) for tries in range(1, caller_callbacks.MAX_TRIES)]
    assert waits == sorted(waits) and max(waits) <= 12 * 3600
    assert 20 * 3600 <= sum(waits) <= 24 * 3600


def _commands_on(aws, monkeypatch) -> None:
    outputs = {"BusinessSystemsUsagePlanId": aws.usage_plans["BusinessSystemsUsagePlan"],
               "ServiceChannelsUsagePlanId": aws.usage_plans["ServiceChannelsUsagePlan"]}  # fmt: skip
    monkeypatch.setattr(keys, "stack_outputs", lambda _cloudformation, _stack: outputs)
    monkeypatch.setattr(keys, "stack_resources", lambda _cloudformation, _stack: dict(aws.physical))


def test_it_operations_issue_a_test_key_and_set_a_callback_shown_once_and_audited(aws, monkeypatch, capsys):
    _commands_on(aws, monkeypatch)
    stack = ["--stack", "s"]
    assert keys.main(["issue", *stack, "--plan", "business", "--name", "pension-system"]) == 0
    live_id = re.search(r"\(id (\w+), live\)", capsys.readouterr().out).group(1)
    assert keys.main(["issue", *stack, "--plan", "business", "--name", "pension-system", "--kind", "test"]) == 2
    assert "--operator" in capsys.readouterr().err

    assert keys.main(["issue", *stack, "--plan", "business", "--name", "pension-system", "--kind", "test",
                      "--twin", live_id, "--operator", "zhang.wei"]) == 0  # fmt: skip
    test_id = re.search(r"\(id (\w+), test, twin of", capsys.readouterr().out).group(1)
    assert keys.main(["list", *stack]) == 0
    assert re.search(rf"business +{test_id} +test +enabled +pension-system", capsys.readouterr().out)
    recorded = caller_keys.get(test_id)
    assert (recorded.kind, recorded.twin, recorded.grant_holder) == ("test", live_id, live_id)

    url = "https://pension.example.gov.cn/sms/status?token=their-own-token"
    assert keys.main(["set-callback", *stack, "--key-id", test_id, "--url", url, "--operator", "zhang.wei"]) == 0
    printed = capsys.readouterr().out
    secret = re.search(r"Callback secret, shown once: (\S+)", printed).group(1)
    assert "their-own-token" not in printed
    assert caller_keys.get(test_id).callback_url == url and caller_keys.get(test_id).callback_secret() == secret

    real_now = datetime.now(UTC)  # the command runs on the operator's clock
    window = AuditQuery(
        start=real_now - timedelta(hours=1), end=real_now + timedelta(hours=1), operator="ops:zhang.wei"
    )
    audited = json.dumps(search(window).entries, ensure_ascii=False, default=str)
    assert "api_key.callback" in audited and "api_key.issue" in audited
    assert secret not in audited and "their-own-token" not in audited

    assert keys.main(["set-callback", *stack, "--key-id", test_id, "--url", "ftp://x", "--operator", "z"]) == 2
    assert "回调地址" in capsys.readouterr().err
    assert keys.main(["set-callback", *stack, "--key-id", test_id, "--clear", "--operator", "zhang.wei"]) == 0
    assert caller_keys.get(test_id).callback_url is None


def test_a_rotated_test_key_keeps_its_kind_twin_and_callback(aws, monkeypatch, capsys):
    _commands_on(aws, monkeypatch)
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    live = keys.issue_key(apigateway, aws.usage_plans["BusinessSystemsUsagePlan"], "pension-system")
    test = keys.issue_key(apigateway, aws.usage_plans["BusinessSystemsUsagePlan"], "pension-system", kind="test")
    caller_keys.register(OPS, test["id"], kind="test", name="pension-system", twin=live["id"], now=NOW)
    _, secret = caller_keys.set_callback(OPS, test["id"], "https://pension.example.gov.cn/cb", now=NOW)

    assert keys.main(["rotate", "--stack", "s", "--key-id", test["id"], "--operator", "zhang.wei"]) == 0
    new_id = re.search(r"\(id (\w+)\) replaces", capsys.readouterr().out).group(1)
    moved = caller_keys.get(new_id)
    assert (moved.kind, moved.twin, moved.callback_secret()) == ("test", live["id"], secret)
