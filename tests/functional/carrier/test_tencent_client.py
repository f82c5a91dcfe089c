"""The platform's Tencent client against the Tencent simulator: each action, each outcome class
under the simulator's faults (throttling, 5xx, a hang, a dropped connection, no server), and the
settlement of an unknown outcome by SessionContext without sending again."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sms_platform.carrier.base import CarrierTemplate, DeliveryStatus, FilingState, Outcome, TemplateKind
from sms_platform.carrier.tencent import TencentClient, tencent_client_from_environment
from sms_platform.foundation.clock import FixedClock, set_clock

from tests.tencent_fixtures import TEST_SDK_APP_ID, TEST_SECRET_ID, TEST_SECRET_KEY

PHONE, OTHER, THIRD = "13800138000", "13900139000", "13700137000"
NOTICE = CarrierTemplate("1001", ("name", "amount"))


@pytest.fixture
def clock():
    fixed = FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    set_clock(fixed)
    yield fixed
    set_clock(None)


@pytest.fixture
def simulator(tencent_simulator, clock):
    tencent_simulator.file_template("1001", "{1}您好，您的养老金{2}元已发放。")
    tencent_simulator.receipt_delay = 0.05
    return tencent_simulator


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_one_text_goes_as_one_send_sms_with_the_reference_and_each_numbers_serial(tencent_client, simulator):
    result = tencent_client.send([PHONE, OTHER], "威海人社", NOTICE, {"name": "张三", "amount": 1234.5}, "evt#1")
    assert (result.outcome, result.carrier, result.code) == (Outcome.OK, "tencent", "Ok")
    assert [(r.phone, r.outcome, r.fee) for r in result.recipients] == [(PHONE, Outcome.OK, 1), (OTHER, Outcome.OK, 1)]
    assert result.carrier_ids() == {m.phone: m.serial_no for m in simulator.sent}
    assert [(m.content, m.session_context) for m in simulator.sent] == [
        ("【威海人社】张三您好，您的养老金1234.5元已发放。", "evt#1")
    ] * 2


def test_different_values_go_as_one_request_each_and_every_number_once(tencent_client, simulator):
    values = [{"name": "张三", "amount": 10}, {"name": "李四", "amount": 20}, {"name": "张三", "amount": 10}]
    result = tencent_client.send([PHONE, OTHER, THIRD], "威海人社", NOTICE, values, "evt#2")
    assert result.ok and {r.outcome for r in result.recipients} == {Outcome.OK}
    assert sorted((m.phone, m.params[0]) for m in simulator.sent) == [(THIRD, "张三"), (PHONE, "张三"), (OTHER, "李四")]
    assert simulator.duplicates() == []


def test_a_number_refused_alone_leaves_the_others_sent(tencent_client, simulator):
    simulator.per_minute_limit = 1
    tencent_client.send([OTHER], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#3a")
    result = tencent_client.send([PHONE, OTHER], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#3b")
    assert result.ok
    assert [(r.phone, r.outcome, r.code) for r in result.recipients] == [
        (PHONE, Outcome.OK, "Ok"),
        (OTHER, Outcome.LIMITED, "LimitExceeded.DeliveryFrequencyLimit"),
    ]


@pytest.mark.parametrize(
    ("faults", "outcome", "code"),
    [
        ({"throttle_rate": 1.0}, Outcome.LIMITED, "RequestLimitExceeded"),
        ({"fail_rate": 1.0}, Outcome.RETRY, "InternalError"),
    ],
)
def test_throttling_and_server_errors_send_nothing(tencent_client, simulator, faults, outcome, code):
    simulator.set_faults(**faults)
    result = tencent_client.send([PHONE, OTHER], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#4")
    assert (result.outcome, result.code) == (outcome, code)
    assert {r.outcome for r in result.recipients} == {outcome}
    assert simulator.sent == []


def test_after_a_refused_request_the_numbers_not_sent_yet_are_left_to_retry(tencent_client, simulator):
    simulator.set_faults(fail_rate=1.0)
    values = [{"name": "张三", "amount": 1}, {"name": "李四", "amount": 2}]
    result = tencent_client.send([PHONE, OTHER], "威海人社", NOTICE, values, "evt#5")
    assert result.outcome is Outcome.RETRY
    assert [(r.phone, r.outcome) for r in result.recipients] == [(PHONE, Outcome.RETRY), (OTHER, Outcome.RETRY)]
    assert simulator.sent == []


def test_a_timeout_after_sending_is_unknown_and_settled_by_session_context_not_sent_again(simulator, clock):
    client = TencentClient(simulator.url, TEST_SECRET_ID, TEST_SECRET_KEY, TEST_SDK_APP_ID, timeout=(1.0, 0.3))
    simulator.set_faults(hang_rate=1.0, hang_seconds=5.0)
    sent_at = clock.now()
    result = client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#6")
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "ReadTimeout")
    simulator.set_faults()
    assert wait_for(lambda: simulator.sent[0].status != "waiting")
    clock.advance(seconds=30)
    lookup = client.find_sent(PHONE, "evt#6", sent_at)
    assert lookup.outcome is Outcome.OK
    assert (lookup.found.status, lookup.found.carrier_id) == (DeliveryStatus.DELIVERED, simulator.sent[0].serial_no)
    assert len(simulator.sent) == 1
    assert client.find_sent(PHONE, "evt#other", sent_at).found is None


def test_a_connection_dropped_after_sending_is_unknown(tencent_client, simulator):
    simulator.set_faults(drop_rate=1.0)
    result = tencent_client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#7")
    assert result.outcome is Outcome.UNKNOWN
    assert [m.session_context for m in simulator.sent] == ["evt#7"]


def test_a_carrier_that_is_not_there_is_retried():
    client = TencentClient("http://127.0.0.1:9/", TEST_SECRET_ID, TEST_SECRET_KEY, TEST_SDK_APP_ID, timeout=(0.5, 0.5))
    result = client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#8")
    assert (result.outcome, result.recipients[0].outcome) == (Outcome.RETRY, Outcome.RETRY)


def test_a_failed_delivery_is_settled_as_failed_with_its_status(tencent_client, simulator, clock):
    simulator.set_undelivered({PHONE: "DB:0101"})
    tencent_client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#9")
    assert wait_for(lambda: simulator.sent[0].status != "waiting")
    found = tencent_client.find_sent(PHONE, "evt#9", clock.now()).found
    assert (found.status, found.error_code) == (DeliveryStatus.FAILED, "DB:0101")


def test_a_template_is_filed_positionally_and_its_review_read(tencent_client, simulator, clock):
    simulator.review_delay = 60
    text = "${name}您好，${name}的待遇${amount}元。"
    filed = tencent_client.file_template(TemplateKind.NOTICE, "待遇发放", text, "通知")
    assert (filed.state, filed.placeholders) == (FilingState.UNDER_REVIEW, ("name", "name", "amount"))
    assert simulator.templates[filed.template_id].content == "{1}您好，{2}的待遇{3}元。"
    assert tencent_client.filing_status(filed.template_id).state is FilingState.UNDER_REVIEW
    clock.advance(seconds=61)
    assert tencent_client.filing_status(filed.template_id).state is FilingState.APPROVED
    template = CarrierTemplate(filed.template_id, filed.placeholders)
    assert tencent_client.send([PHONE], "威海人社", template, {"name": "王五", "amount": 9}, "evt#10").ok
    assert simulator.sent[-1].content == "【威海人社】王五您好，王五的待遇9元。"


def test_a_rejected_filing_carries_the_reviewers_reply(tencent_client, simulator, clock):
    simulator.review_delay = 0
    filed = tencent_client.file_template(TemplateKind.PUBLICITY, "推广", "点击领取违规补贴", "推广")
    status = tencent_client.filing_status(filed.template_id)
    assert (status.state, status.reason) == (FilingState.REJECTED, "模板内容含有违规词语")
    assert simulator.templates[filed.template_id].sms_type == 1


@pytest.mark.parametrize(("key", "code"), [("wrong", "AuthFailure.SignatureFailure")])
def test_wrong_credentials_are_rejected(simulator, key, code):
    client = TencentClient(simulator.url, TEST_SECRET_ID, key, TEST_SDK_APP_ID)
    result = client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#11")
    assert (result.outcome, result.code) == (Outcome.REJECTED, code)
    assert simulator.sent == []


def test_logs_never_show_phone_numbers_or_the_key(tencent_client, simulator, caplog):
    tencent_client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": 1}, "evt#12")
    logged = caplog.text + repr(tencent_client)
    assert PHONE not in logged and TEST_SECRET_KEY not in logged


def test_one_pooled_connection_serves_many_calls(tencent_client, simulator):
    for n in range(5):
        tencent_client.send([PHONE], "威海人社", NOTICE, {"name": "张三", "amount": n}, f"evt#p{n}")
    adapter = tencent_client.session.get_adapter(simulator.url)
    assert len(adapter.poolmanager.pools) == 1


def test_client_from_environment_uses_the_tencent_secret(aws, tencent_simulator):
    client = tencent_client_from_environment()
    assert (client.endpoint, client.secret_id, client.sdk_app_id, client.region) == (
        tencent_simulator.url, TEST_SECRET_ID, TEST_SDK_APP_ID, "ap-guangzhou",
    )  # fmt: skip
    assert TEST_SECRET_KEY not in repr(client)
