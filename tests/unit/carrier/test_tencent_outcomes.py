"""What each Tencent answer means for the caller, in outcome classes and in staff's categories."""

from __future__ import annotations

import pytest
from sms_platform.carrier import failure_reasons
from sms_platform.carrier.base import Outcome
from sms_platform.carrier.failure_reasons import FailureCategory
from sms_platform.carrier.tencent import classify, mainland, plus86, recipients_of, sent_record_of

C = FailureCategory


@pytest.mark.parametrize(
    ("status", "code", "outcome", "category"),
    [
        (200, "", Outcome.OK, None),
        (200, "Ok", Outcome.OK, None),
        # the caller's faults: never retried
        (200, "InvalidParameterValue.IncorrectPhoneNumber", Outcome.REJECTED, C.bad_number),
        (200, "FailedOperation.TemplateIncorrectOrUnapproved", Outcome.REJECTED, C.content),
        (200, "FailedOperation.SignatureIncorrectOrUnapproved", Outcome.REJECTED, C.content),
        (200, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", Outcome.REJECTED, C.content),
        (200, "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", Outcome.REJECTED, C.content),
        (200, "InvalidParameterValue.TemplateParameterLengthLimit", Outcome.REJECTED, C.content),
        (200, "FailedOperation.ContainSensitiveWord", Outcome.REJECTED, C.content),
        (200, "FailedOperation.PhoneNumberInBlacklist", Outcome.REJECTED, C.refused),
        (200, "FailedOperation.InsufficientBalanceInSmsPackage", Outcome.REJECTED, C.other),
        (200, "InvalidParameterValue.SdkAppIdNotExist", Outcome.REJECTED, C.other),
        (200, "AuthFailure.SignatureFailure", Outcome.REJECTED, C.other),
        (200, "AuthFailure.SignatureExpire", Outcome.REJECTED, C.other),
        (200, "AuthFailure.SecretIdNotFound", Outcome.REJECTED, C.other),
        (200, "MissingParameter", Outcome.REJECTED, C.other),
        (200, "UnauthorizedOperation.SmsSdkAppIdVerifyFail", Outcome.REJECTED, C.other),
        # frequency limits: retried after a long pause, a few times
        (200, "RequestLimitExceeded", Outcome.LIMITED, C.rate_limited),
        (200, "LimitExceeded.PhoneNumberDailyLimit", Outcome.LIMITED, C.rate_limited),
        (200, "LimitExceeded.PhoneNumberThirtySecondLimit", Outcome.LIMITED, C.rate_limited),
        (200, "LimitExceeded.DeliveryFrequencyLimit", Outcome.LIMITED, C.rate_limited),
        (200, "LimitExceeded.PhoneNumberCountLimit", Outcome.LIMITED, C.rate_limited),
        # server faults: retried with backoff
        (200, "InternalError", Outcome.RETRY, C.other),
        (200, "InternalError.Timeout", Outcome.RETRY, C.other),
        (200, "InternalError.SendAndRecvFail", Outcome.RETRY, C.other),
        (500, "InternalError", Outcome.RETRY, C.other),
        (502, "", Outcome.RETRY, None),
    ],
)
def test_codes_map_to_outcomes_and_categories(status, code, outcome, category):
    assert classify(status, code) is outcome
    if category is not None:
        assert failure_reasons.categorize(code) is category


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("InvalidParameterValue.IncorrectPhoneNumber", "号码格式错误"),
        ("LimitExceeded.PhoneNumberDailyLimit", "发送频率超限"),
        ("FailedOperation.TemplateIncorrectOrUnapproved", "内容或模板问题"),
        ("FailedOperation.PhoneNumberInBlacklist", "用户拒收/黑名单"),
        ("DB:0101", "空号"),  # receipts' errmsg carries the networks' status codes, as Alibaba's do
        ("UNDELIV", "停机"),
    ],
)
def test_tencent_codes_read_in_chinese(code, label):
    assert failure_reasons.label(code) == label


@pytest.mark.parametrize(
    ("given", "e164", "digits"),
    [
        ("13800138000", "+8613800138000", "13800138000"),
        ("+8613800138000", "+8613800138000", "13800138000"),
        ("8613800138000", "+8613800138000", "13800138000"),
        ("008613800138000", "+8613800138000", "13800138000"),
    ],
)
def test_numbers_go_in_plus86_form_and_come_back_as_eleven_digits(given, e164, digits):
    assert plus86(given) == e164
    assert mainland(given) == digits


def test_each_number_has_its_own_result_with_serial_and_fee():
    answer = {"SendStatusSet": [
        {"SerialNo": "2433:1", "PhoneNumber": "+8613800138000", "Fee": 2, "Code": "Ok", "Message": "send success"},
        {"SerialNo": "", "PhoneNumber": "+8613900139000", "Fee": 0, "Code": "LimitExceeded.PhoneNumberDailyLimit"},
        {"SerialNo": "", "PhoneNumber": "+8613700137000", "Fee": 0,
         "Code": "InvalidParameterValue.IncorrectPhoneNumber"},
    ]}  # fmt: skip
    found = recipients_of(answer)
    assert [(r.phone, r.outcome, r.carrier_id, r.fee) for r in found] == [
        ("13800138000", Outcome.OK, "2433:1", 2),
        ("13900139000", Outcome.LIMITED, None, 0),
        ("13700137000", Outcome.REJECTED, None, 0),
    ]


@pytest.mark.parametrize(
    ("entry", "status", "code"),
    [
        ({"ReportStatus": "SUCCESS", "Description": "用户短信送达成功"}, "delivered", None),
        ({"ReportStatus": "FAIL", "Description": "DB:0101"}, "failed", "DB:0101"),
        ({"ReportStatus": "", "Description": ""}, "waiting", None),
    ],
)
def test_pulled_statuses_settle_by_session_context(entry, status, code):
    statuses = [{"SessionContext": "evt#other", "ReportStatus": "SUCCESS", "SerialNo": "2433:9"},
                {**entry, "SessionContext": "evt#mine", "SerialNo": "2433:1"}]  # fmt: skip
    found = sent_record_of(statuses, "evt#mine")
    assert (found.status.value, found.error_code, found.carrier_id) == (status, code, "2433:1")
    assert sent_record_of(statuses, "evt#absent") is None
