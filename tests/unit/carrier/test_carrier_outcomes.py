"""What each carrier answer means for the caller, and the limits checked before anything is sent."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from sms_platform.carrier import CarrierClient, Outcome
from sms_platform.carrier.client import classify, classify_exception, template_param_json
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (200, "OK", Outcome.OK),
        (200, "isv.MOBILE_NUMBER_ILLEGAL", Outcome.REJECTED),
        (200, "isv.TEMPLATE_MISSING_PARAMETERS", Outcome.REJECTED),
        (200, "isv.SMS_TEMPLATE_ILLEGAL", Outcome.REJECTED),
        (200, "isv.SMS_SIGNATURE_ILLEGAL", Outcome.REJECTED),
        (200, "isv.PARAM_LENGTH_LIMIT", Outcome.REJECTED),
        (200, "isv.PARAM_NOT_SUPPORT_URL", Outcome.REJECTED),
        (200, "isv.AMOUNT_NOT_ENOUGH", Outcome.REJECTED),
        (200, "isv.BUSINESS_LIMIT_CONTROL", Outcome.LIMITED),
        (200, "isv.DAY_LIMIT_CONTROL", Outcome.LIMITED),
        (400, "SignatureDoesNotMatch", Outcome.REJECTED),
        (404, "InvalidAccessKeyId.NotFound", Outcome.REJECTED),
        (400, "InvalidTimeStamp.Expired", Outcome.REJECTED),
        (400, "Throttling.User", Outcome.RETRY),
        (400, "Throttling", Outcome.RETRY),
        (503, "ServiceUnavailable", Outcome.RETRY),
        (500, "InternalError", Outcome.RETRY),
        (502, "OK", Outcome.RETRY),
    ],
)
def test_answer_outcomes(status, code, outcome):
    assert classify(status, code) is outcome


def _refused() -> requests.exceptions.ConnectionError:
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", cause))


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (_refused(), Outcome.RETRY),
        (requests.exceptions.ConnectTimeout("connect timed out"), Outcome.RETRY),
        (requests.exceptions.SSLError("handshake failed"), Outcome.RETRY),
        (requests.exceptions.ReadTimeout("read timed out"), Outcome.UNKNOWN),
        (requests.exceptions.ConnectionError(ProtocolError("Connection aborted.")), Outcome.UNKNOWN),
        (requests.exceptions.ChunkedEncodingError("cut short"), Outcome.UNKNOWN),
    ],
)
def test_transport_failure_outcomes(exc, outcome):
    assert classify_exception(exc) is outcome


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (None, None),
        ({}, "{}"),
        ({"name": "张三", "amount": 12.5, "count": 3}, '{"name":"张三","amount":"12.5","count":"3"}'),
    ],
)
def test_template_param_values_are_json_strings_with_chinese_kept(values, text):
    assert template_param_json(values) == text


# Port 9 (discard) on loopback: if a check failed to stop the call, the test would see an outcome
# instead of the ValueError.
CLIENT = CarrierClient("http://127.0.0.1:9/", "k", "s", timeout=(0.5, 0.5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: CLIENT.send_sms(["13800138000"] * 1001, "威海人社", "SMS_1", None, "o"), "1000"),
        (lambda: CLIENT.send_sms([], "威海人社", "SMS_1", None, "o"), "no phone numbers"),
        (lambda: CLIENT.send_sms("13800138000", "威海人社", "SMS_1", None, "o"), "list"),
        (lambda: CLIENT.send_sms(["13800138000"], "威海人社", "SMS_1", None, "o" * 257), "256"),
        (lambda: CLIENT.send_batch_sms(["13800138000"] * 101, "威海人社", "SMS_1", None, "o"), "100"),
        (lambda: CLIENT.send_batch_sms(["13800138000"] * 2, ["威海人社"], "SMS_1", None, "o"), "same length"),
        (lambda: CLIENT.send_batch_sms(["13800138000"], "威海人社", "SMS_1", [{}, {}], "o"), "same length"),
        (lambda: CLIENT.add_sms_template(7, "n", "c", "r"), "template_type"),
        (lambda: CLIENT.query_send_details("13800138000", date(2025, 3, 1), 51), "page_size"),
    ],
)
def test_limits_are_checked_before_sending(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_client_repr_hides_the_secret():
    assert "key-secret-value" not in repr(CarrierClient("http://127.0.0.1:9/", "key-id", "key-secret-value"))
