"""The carrier client against the carrier simulator: every action and every outcome."""

from __future__ import annotations

import socket
import time
from datetime import UTC, date, datetime

import pytest
from sms_platform.carrier import CarrierClient, Outcome, carrier_client_from_environment
from sms_platform.foundation.clock import FixedClock, set_clock

from tests.carrier_fixtures import TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET

PHONE = "13800138000"
OTHER = "13900139000"
# 23:30 UTC is already the next day in Beijing: QuerySendDetails takes the China date.
NOW = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
CHINA_DAY = date(2025, 3, 2)


@pytest.fixture(autouse=True)
def clock():
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_send_sms_reaches_every_number_with_the_values_as_strings(carrier_client, carrier_simulator):
    carrier_simulator.file_template("SMS_100", "${name}您好，您的养老金${amount}元已发放。")

    result = carrier_client.send_sms([PHONE, OTHER], "威海人社", "SMS_100", {"name": "张三", "amount": 1234.5}, "m-1")

    assert result.outcome is Outcome.OK and result.code == "OK"
    assert result.biz_id and result.request_id
    assert [(m.phone, m.out_id, m.biz_id) for m in carrier_simulator.sent] == [
        (PHONE, "m-1", result.biz_id),
        (OTHER, "m-1", result.biz_id),
    ]
    assert carrier_simulator.sent[0].content == "【威海人社】张三您好，您的养老金1234.5元已发放。"


def test_send_batch_sms_gives_each_number_its_own_values(carrier_client, carrier_simulator):
    carrier_simulator.file_template("SMS_200", "${name}，请于本月底前缴费。")

    result = carrier_client.send_batch_sms(
        [PHONE, OTHER], ["威海人社", "环翠社保"], "SMS_200", [{"name": "张三"}, {"name": "李四"}], "batch-7"
    )

    assert result.outcome is Outcome.OK
    assert [m.content for m in carrier_simulator.sent] == [
        "【威海人社】张三，请于本月底前缴费。",
        "【环翠社保】李四，请于本月底前缴费。",
    ]
    assert {m.out_id for m in carrier_simulator.sent} == {"batch-7"}


def test_filed_template_is_reviewed_then_approved_or_rejected(carrier_client, carrier_simulator, clock):
    good = carrier_client.add_sms_template(1, "缴费提醒", "${name}，请按时缴费。", "社保缴费提醒")
    bad = carrier_client.add_sms_template(2, "推广", "点击领取违规补贴", "推广")
    assert good.outcome is Outcome.OK and good.data["TemplateCode"].startswith("SMS_")
    assert good.data["TemplateCode"][4:].isdigit()

    under_review = carrier_client.query_sms_template(good.data["TemplateCode"])
    assert under_review.data["TemplateStatus"] == 0
    # A template under review cannot be used yet.
    early = carrier_client.send_sms([PHONE], "威海人社", good.data["TemplateCode"], {"name": "张三"}, "early")
    assert (early.outcome, early.code) == (Outcome.REJECTED, "isv.SMS_TEMPLATE_ILLEGAL")

    clock.advance(seconds=carrier_simulator.review_delay + 1)
    approved = carrier_client.query_sms_template(good.data["TemplateCode"])
    rejected = carrier_client.query_sms_template(bad.data["TemplateCode"])
    assert (approved.data["TemplateStatus"], approved.data["Reason"]) == (1, "")
    assert rejected.data["TemplateStatus"] == 2 and rejected.data["Reason"]
    assert carrier_client.send_sms([PHONE], "威海人社", good.data["TemplateCode"], {"name": "张三"}, "ok").ok


def test_query_of_an_unknown_template_is_rejected(carrier_client):
    result = carrier_client.query_sms_template("SMS_404")
    assert (result.outcome, result.code) == (Outcome.REJECTED, "isv.SMS_TEMPLATE_ILLEGAL")


def test_query_send_details_pages_and_filters_by_biz_id(carrier_client, carrier_simulator):
    first = carrier_client.send_sms([PHONE], "威海人社", "SMS_1", {"n": "1"}, "a")
    carrier_client.send_sms([PHONE], "威海人社", "SMS_2", {"n": "2"}, "b")
    carrier_client.send_sms([PHONE], "威海人社", "SMS_3", {"n": "3"}, "c")

    page2 = carrier_client.query_send_details(PHONE, CHINA_DAY, page_size=2, current_page=2)
    assert page2.data["TotalCount"] == 3
    assert [d["OutId"] for d in page2.data["SmsSendDetailDTOs"]["SmsSendDetailDTO"]] == ["c"]

    by_biz = carrier_client.query_send_details(PHONE, CHINA_DAY, biz_id=first.biz_id)
    assert [d["OutId"] for d in by_biz.data["SmsSendDetailDTOs"]["SmsSendDetailDTO"]] == ["a"]
    # The UTC date holds nothing: the carrier counts days in China time.
    assert carrier_client.query_send_details(PHONE, date(2025, 3, 1)).data["TotalCount"] == 0


def test_send_status_moves_from_waiting_to_delivered(carrier_client, carrier_simulator):
    carrier_simulator.receipt_delay = 0.2
    carrier_client.send_sms([PHONE], "威海人社", "SMS_1", None, "w-1")

    def status():
        details = carrier_client.query_send_details(PHONE, CHINA_DAY).data["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
        return details[0]["SendStatus"], details[0]["ErrCode"]

    assert status() == (1, "")
    assert wait_for(lambda: status() == (3, "DELIVERED"))


@pytest.mark.parametrize(
    ("phones", "template", "values", "code"),
    [
        (["1380013800"], "SMS_100", {"name": "张三", "amount": "1"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        ([PHONE, "12345678901"], "SMS_100", {"name": "张三", "amount": "1"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        ([PHONE], "SMS_100", {"name": "张三"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ([PHONE], "SMS_100", {"name": "见 https://x.cn/a", "amount": "1"}, "isv.PARAM_NOT_SUPPORT_URL"),
        ([PHONE], "SMS_100", {"name": "张" * 36, "amount": "1"}, "isv.PARAM_LENGTH_LIMIT"),
        ([PHONE], "SMS_UNDER_REVIEW", {}, "isv.SMS_TEMPLATE_ILLEGAL"),
    ],
)
def test_caller_faults_are_rejected_and_send_nothing(carrier_client, carrier_simulator, phones, template, values, code):
    carrier_simulator.file_template("SMS_100", "${name}您好，金额${amount}元。")
    carrier_simulator.file_template("SMS_UNDER_REVIEW", "您好。", status=0)

    result = carrier_client.send_sms(phones, "威海人社", template, values, "x-1")

    assert (result.outcome, result.code) == (Outcome.REJECTED, code)
    assert carrier_simulator.sent == []


@pytest.mark.parametrize("sign_name", ["威", "【威海人社】", "威海市人力资源和社会保障局社保中心"])
def test_bad_sign_name_is_rejected(carrier_client, carrier_simulator, sign_name):
    result = carrier_client.send_sms([PHONE], sign_name, "SMS_1", None, "x")
    assert (result.outcome, result.code) == (Outcome.REJECTED, "isv.SMS_SIGNATURE_ILLEGAL")
    assert carrier_simulator.sent == []


def test_same_number_and_template_too_often_in_a_minute_is_limited(carrier_client, carrier_simulator, clock):
    for i in range(carrier_simulator.per_minute_limit):
        assert carrier_client.send_sms([PHONE], "威海人社", "SMS_1", {"i": str(i)}, f"o{i}").ok

    limited = carrier_client.send_sms([PHONE], "威海人社", "SMS_1", {"i": "x"}, "ox")
    other_template = carrier_client.send_sms([PHONE], "威海人社", "SMS_2", None, "oy")
    clock.advance(minutes=1, seconds=1)
    later = carrier_client.send_sms([PHONE], "威海人社", "SMS_1", {"i": "y"}, "oz")

    assert (limited.outcome, limited.code) == (Outcome.LIMITED, "isv.BUSINESS_LIMIT_CONTROL")
    assert other_template.ok and later.ok
    assert len(carrier_simulator.sent) == carrier_simulator.per_minute_limit + 2


def test_too_many_messages_to_one_number_in_a_day_is_limited(carrier_client, carrier_simulator, clock):
    carrier_simulator.per_day_limit = 3
    for i in range(3):
        assert carrier_client.send_sms([PHONE], "威海人社", f"SMS_{i}", None, f"d{i}").ok
    result = carrier_client.send_sms([PHONE], "威海人社", "SMS_9", None, "d9")
    assert (result.outcome, result.code) == (Outcome.LIMITED, "isv.DAY_LIMIT_CONTROL")


@pytest.mark.parametrize(
    ("faults", "code"),
    [({"fail_rate": 1.0}, "InternalError"), ({"throttle_rate": 1.0}, "Throttling.User")],
)
def test_server_errors_and_throttling_are_retried_and_send_nothing(carrier_client, carrier_simulator, faults, code):
    carrier_simulator.set_faults(**faults)
    result = carrier_client.send_sms([PHONE], "威海人社", "SMS_1", None, "r-1")
    assert (result.outcome, result.code) == (Outcome.RETRY, code)
    assert carrier_simulator.sent == []


def test_timeout_after_sending_is_unknown_and_settled_by_out_id(carrier_simulator):
    client = CarrierClient(carrier_simulator.url, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, timeout=(1.0, 0.3))
    carrier_simulator.set_faults(hang_rate=1.0, hang_seconds=5.0)

    result = client.send_sms([PHONE], "威海人社", "SMS_1", None, "msg-42")

    assert result.outcome is Outcome.UNKNOWN
    # The message did go out: the caller must ask, not send again.
    carrier_simulator.set_faults()
    details = client.query_send_details(PHONE, CHINA_DAY).data["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
    assert [d["OutId"] for d in details] == ["msg-42"]
    assert len(carrier_simulator.sent) == 1


def test_connection_dropped_after_sending_is_unknown(carrier_client, carrier_simulator):
    carrier_simulator.set_faults(drop_rate=1.0)
    result = carrier_client.send_sms([PHONE], "威海人社", "SMS_1", None, "drop-1")
    assert result.outcome is Outcome.UNKNOWN
    assert [m.out_id for m in carrier_simulator.sent] == ["drop-1"]


def test_connection_refused_is_retried():
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CarrierClient(f"http://127.0.0.1:{port}/", "k", "s", timeout=(1.0, 1.0))
    result = client.send_sms([PHONE], "威海人社", "SMS_1", None, "c-1")
    assert result.outcome is Outcome.RETRY


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        (TEST_ACCESS_KEY_ID, "wrong-secret", "SignatureDoesNotMatch"),
        ("unknown-key", TEST_ACCESS_KEY_SECRET, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_wrong_credentials_are_rejected(carrier_simulator, key_id, secret, code):
    result = CarrierClient(carrier_simulator.url, key_id, secret).send_sms([PHONE], "威海人社", "SMS_1", None, "k")
    assert (result.outcome, result.code) == (Outcome.REJECTED, code)
    assert carrier_simulator.sent == []


def test_one_pooled_connection_serves_many_calls(carrier_client, carrier_simulator):
    for i in range(5):
        assert carrier_client.send_sms([f"1380013{i:04d}"], "威海人社", "SMS_1", None, f"p{i}").ok
    adapter = carrier_client.session.get_adapter(carrier_simulator.url)
    pools = list(adapter.poolmanager.pools._container.values())
    assert len(pools) == 1 and pools[0].num_connections == 1


def test_logs_never_show_phone_numbers(carrier_client, carrier_simulator, caplog):
    from sms_platform.foundation.observability import logger

    carrier_client.send_sms([PHONE], "威海人社", "SMS_1", None, "log-1")
    carrier_client.send_sms(["1380013800"], "威海人社", "SMS_1", None, "log-2")
    carrier_client.query_send_details(PHONE, CHINA_DAY)

    written = "\n".join(logger().registered_handler.format(record) for record in caplog.records)
    assert '"out_id":"log-1"' in written and '"carrier_code":"isv.MOBILE_NUMBER_ILLEGAL"' in written
    # Not even the raw records carry a number: the redacting formatter is only a safety net.
    assert all(PHONE not in str(vars(record)) and "1380013800" not in str(vars(record)) for record in caplog.records)


def test_client_from_environment_uses_the_carrier_secret(aws, carrier_simulator):
    client = carrier_client_from_environment()
    assert client is carrier_client_from_environment()  # one client, one pool, per process
    assert client.endpoint == carrier_simulator.url
    assert client.send_sms([PHONE], "威海人社", "SMS_1", None, "env-1").ok
