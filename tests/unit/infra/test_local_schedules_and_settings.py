"""The local platform's schedules, its queue bookkeeping and its configuration, without AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from infra.local import pollers, schedules, settings

THURSDAY_8_UTC = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)  # 16:00 in Beijing


@pytest.mark.parametrize(
    ("expression", "zone", "expected"),
    [
        ("cron(30 16 * * ? *)", "UTC", datetime(2026, 1, 1, 16, 30, tzinfo=UTC)),
        ("cron(0 8 * * ? *)", "UTC", datetime(2026, 1, 2, 8, 0, tzinfo=UTC)),  # strictly after
        ("cron(0 9 * * ? *)", "Asia/Shanghai", datetime(2026, 1, 2, 1, 0, tzinfo=UTC)),
        ("cron(0 9 ? * 2-6 *)", "UTC", datetime(2026, 1, 1, 9, 0, tzinfo=UTC)),  # Mon-Fri: today, Thursday
        ("cron(0 9 ? * 7 *)", "UTC", datetime(2026, 1, 3, 9, 0, tzinfo=UTC)),  # 7 is Saturday in AWS
        ("cron(0 9 ? * 1 *)", "UTC", datetime(2026, 1, 4, 9, 0, tzinfo=UTC)),  # 1 is Sunday in AWS
        ("cron(0 9 ? * SUN *)", "UTC", datetime(2026, 1, 4, 9, 0, tzinfo=UTC)),
        ("cron(0 9 ? * 2#2 *)", "UTC", datetime(2026, 1, 12, 9, 0, tzinfo=UTC)),  # second Monday
        ("cron(0 18 L * ? *)", "UTC", datetime(2026, 1, 31, 18, 0, tzinfo=UTC)),
        ("cron(0/15 * * * ? *)", "UTC", datetime(2026, 1, 1, 8, 15, tzinfo=UTC)),
        ("cron(0 0 1 1 ? 2027)", "UTC", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("rate(5 minutes)", "UTC", datetime(2026, 1, 1, 8, 5, tzinfo=UTC)),
        ("rate(1 hour)", "UTC", datetime(2026, 1, 1, 9, 0, tzinfo=UTC)),
        ("rate(1 day)", "UTC", datetime(2026, 1, 2, 8, 0, tzinfo=UTC)),
        ("at(2026-01-01T17:00:00)", "Asia/Shanghai", datetime(2026, 1, 1, 9, 0, tzinfo=UTC)),
        ("at(2026-01-01T15:00:00)", "Asia/Shanghai", None),  # already past
    ],
)
def test_the_next_firing_of_a_schedule(expression, zone, expected):
    assert schedules.next_fire(expression, THURSDAY_8_UTC, started=THURSDAY_8_UTC, zone=zone) == expected


def test_a_rate_counts_from_when_the_schedule_started():
    started = datetime(2026, 1, 1, 8, 0, 30, tzinfo=UTC)
    after = datetime(2026, 1, 1, 8, 12, tzinfo=UTC)

    assert schedules.next_fire("rate(5 minutes)", after, started=started) == datetime(2026, 1, 1, 8, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression", ["cron(0 9 * * *)", "cron(0 9 * * 1 *)", "cron(0 9 ? * ? *)", "rate(five minutes)", "every day"]
)
def test_an_expression_eventbridge_would_refuse_is_refused(expression):
    with pytest.raises(ValueError):
        schedules.next_fire(expression, THURSDAY_8_UTC, started=THURSDAY_8_UTC)


def test_a_scheduler_input_gets_its_context_attributes():
    at = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    template = '{"job": "daily", "due": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}'

    payload = schedules.scheduler_input(template, "arn:sched", at)

    assert payload == {"job": "daily", "due": "2026-01-01T01:00:00Z", "by": "arn:sched"}
    assert schedules.scheduler_input(None, "arn:sched", at) == {}


def test_a_scheduled_rule_event_names_its_rule_and_time():
    event = schedules.schedule_event("arn:aws:events:us-east-1:123456789012:rule/Nightly", THURSDAY_8_UTC, "us-east-1")

    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/Nightly"]
    assert event["time"] == "2026-01-01T08:00:00Z"


RECORDS = [{"messageId": "m1"}, {"messageId": "m2"}, {"messageId": "m3"}]


@pytest.mark.parametrize(
    ("result", "report", "deleted"),
    [
        (None, True, {"m1", "m2", "m3"}),
        ({"batchItemFailures": []}, True, {"m1", "m2", "m3"}),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, True, {"m1", "m3"}),
        ({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}, True, {"m2"}),
        # Lambda fails the whole batch when the answer names an unknown or empty id.
        ({"batchItemFailures": [{"itemIdentifier": "nope"}]}, True, set()),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, True, set()),
        ({"batchItemFailures": "m2"}, True, set()),
        ("not an object", True, set()),
        # Without ReportBatchItemFailures a successful invocation settles the whole batch.
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, False, {"m1", "m2", "m3"}),
    ],
)
def test_which_messages_a_batch_answer_settles(result, report, deleted):
    assert pollers.settled_ids(RECORDS, result, report) == deleted


def test_an_sqs_record_has_the_lambda_event_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": '{"batch": 1}',
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "s", "Policy": "x"},
        "MessageAttributes": {"lane": {"DataType": "String", "StringValue": "high"}},
    }

    record = pollers.sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")

    assert record["messageId"] == "m1" and record["receiptHandle"] == "rh" and record["body"] == '{"batch": 1}'
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "s"}
    assert record["messageAttributes"]["lane"]["stringValue"] == "high"
    assert record["messageAttributes"]["lane"]["dataType"] == "String"
    assert (record["eventSource"], record["eventSourceARN"]) == ("aws:sqs", "arn:aws:sqs:us-east-1:123456789012:q")


def test_defaults_fill_what_the_environment_leaves_out_and_only_defaults_are_printable():
    loaded = settings.load({"CARRIER_CALLBACK_TOKEN": "real-token", "API_PORT": "3100", "MOTO_PORT": "4600"})

    assert (loaded.api_port, loaded.carrier_port, loaded.moto_port) == (3100, 3900, 4600)
    assert "CARRIER_CALLBACK_TOKEN" not in loaded.printable_defaults()
    assert loaded.printable_defaults()["HOTLINE_WEBHOOK_SECRET"] == settings.DEFAULTS["HOTLINE_WEBHOOK_SECRET"]
    webhook = json.loads(loaded.secrets()["WebhookSecret"])
    assert webhook["carrier_callback_token"] == "real-token"
    assert set(webhook) == {"hotline_webhook_secret", "payment_webhook_secret", "carrier_callback_token"}
    assert set(json.loads(loaded.secrets()["CarrierSecret"])) == {"access_key_id", "access_key_secret"}
    assert loaded.receipt_url() == "http://127.0.0.1:3100/v1/carrier/receipts?token=real-token"


@pytest.mark.parametrize(
    "name", ["API_PORT", "CARRIER_PORT", "MOTO_PORT", "LOCAL_LANE_CONCURRENCY", "LOCAL_BULK_CONCURRENCY"]
)
@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_port_or_count_stops_the_start_with_a_clear_message(name, value):
    with pytest.raises(SystemExit, match=name):
        settings.load({name: value, "MOTO_PORT": "4600", **{name: value}})


class RecordingFunctions:
    """Stands in for the platform's function pools: records what each schedule delivered."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, dict]] = []

    def pool(self, logical_id: str, size: int):
        functions = self

        class _Pool:
            def invoke(self, event, timeout=None):
                from infra.local.lambdas import Invocation

                functions.delivered.append((logical_id, event))
                return Invocation(None, 1)

        return _Pool()


def test_a_schedule_fires_when_the_platform_clock_reaches_it_and_not_before():
    import time

    from sms_platform.foundation.clock import FixedClock

    from infra.template_model import Schedule, TemplateModel

    clock = FixedClock(datetime(2026, 3, 2, 0, 59, 58, tzinfo=UTC))
    model = TemplateModel(
        resources={"Nightly": {"Type": "AWS::Events::Rule", "Properties": {}}},
        parameters={},
        globals_env={},
        schedules=[Schedule("Nightly", "ArchiveFunction", "cron(0 1 * * ? *)", None)],
    )
    functions = RecordingFunctions()
    scheduler = schedules.Scheduler(model, functions, clock, "us-east-1", "test")
    scheduler.start()
    try:
        time.sleep(0.8)
        before = list(functions.delivered)
        clock.advance(seconds=3)
        deadline = time.monotonic() + 5
        while not functions.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
        scheduler.join(5)

    assert before == []
    ((function, event),) = functions.delivered
    assert function == "ArchiveFunction"
    assert event["detail-type"] == "Scheduled Event"
    assert event["time"] == "2026-03-02T01:00:00Z"
    assert scheduler.planned[0].next_at == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


def _wait_for_deliveries(functions: RecordingFunctions, count: int, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while len(functions.delivered) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_filing_poller_asks_the_carrier_every_two_seconds_locally_while_aws_keeps_five_minutes():
    from sms_platform.foundation.clock import FixedClock

    from infra import template_model
    from infra.template_model import TemplateModel

    (poll,) = [s for s in template_model.load().schedules if s.function == "TemplateFilingFunction"]
    assert poll.expression == "rate(5 minutes)"  # what AWS runs
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC))
    model = TemplateModel(
        resources={poll.logical_id: {"Type": "AWS::Events::Rule", "Properties": {}}},
        parameters={},
        globals_env={},
        schedules=[poll],
    )
    functions = RecordingFunctions()
    scheduler = schedules.Scheduler(model, functions, clock, "us-east-1", "test")
    scheduler.start()
    try:
        for round_ in (1, 2, 3):
            clock.advance(seconds=2)
            _wait_for_deliveries(functions, round_)
    finally:
        scheduler.stop()
        scheduler.join(5)

    assert [function for function, _ in functions.delivered] == ["TemplateFilingFunction"] * 3
    assert [event["time"] for _, event in functions.delivered] == [
        "2026-03-02T10:00:02Z",
        "2026-03-02T10:00:04Z",
        "2026-03-02T10:00:06Z",
    ]


def test_an_approved_send_is_released_every_five_seconds_locally_while_aws_keeps_a_minute():
    from sms_platform.foundation.clock import FixedClock

    from infra import template_model
    from infra.template_model import TemplateModel

    (release,) = [s for s in template_model.load().schedules if s.function == "ReleaseFunction"]
    assert release.expression == "rate(1 minute)"  # what AWS runs
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC))
    model = TemplateModel(
        resources={release.logical_id: {"Type": "AWS::Events::Rule", "Properties": {}}},
        parameters={},
        globals_env={},
        schedules=[release],
    )
    functions = RecordingFunctions()
    scheduler = schedules.Scheduler(model, functions, clock, "us-east-1", "test")
    scheduler.start()
    try:
        for round_ in (1, 2):
            clock.advance(seconds=5)
            _wait_for_deliveries(functions, round_)
    finally:
        scheduler.stop()
        scheduler.join(5)

    assert [event["time"] for _, event in functions.delivered] == ["2026-03-02T10:00:05Z", "2026-03-02T10:00:10Z"]


@pytest.mark.parametrize(
    ("result", "nothing"),
    [({"moved": {}}, True), ({"sent": 0}, True), ({"moved": {"active": 1}}, False), (None, False), ([], False)],
)
def test_a_scheduled_run_that_did_nothing_is_told_apart(result, nothing):
    assert schedules.did_nothing(result) is nothing
