"""Carriers' failure codes read as the reasons staff see."""

import pytest
from sms_platform.carrier import failure_reasons
from sms_platform.carrier.failure_reasons import FailureCategory


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        # delivery receipts from the networks' gateways
        ("DB:0101", "空号"),
        ("MI:0073", "空号"),
        ("CB:0053", "空号"),
        ("DB:0102", "停机"),
        ("UNDELIV", "停机"),
        ("MI:0019", "停机"),
        ("EXPIRED", "关机或不在服务区"),
        ("MI:0024", "关机或不在服务区"),
        ("MA:0001", "用户拒收/黑名单"),
        ("HD:0001", "用户拒收/黑名单"),
        ("REJECTD", "运营商拦截"),
        ("CJ:0007", "运营商拦截"),
        ("XA:0004", "运营商拦截"),
        ("MA:0005", "号码格式错误"),
        ("IB:0008", "发送频率超限"),
        # Alibaba Cloud SMS API codes
        ("isv.MOBILE_NUMBER_ILLEGAL", "号码格式错误"),
        ("isv.BUSINESS_LIMIT_CONTROL", "发送频率超限"),
        ("isv.DAY_LIMIT_CONTROL", "发送频率超限"),
        ("isv.SMS_TEMPLATE_ILLEGAL", "内容或模板问题"),
        ("isv.TEMPLATE_MISSING_PARAMETERS", "内容或模板问题"),
        ("isv.OUT_OF_SERVICE", "其他"),
        # Tencent Cloud SMS codes
        ("InvalidParameterValue.IncorrectPhoneNumber", "号码格式错误"),
        ("LimitExceeded.PhoneNumberDailyLimit", "发送频率超限"),
        ("LimitExceeded.SomethingNew", "发送频率超限"),
        ("FailedOperation.TemplateIncorrectOrUnapproved", "内容或模板问题"),
        ("FailedOperation.PhoneNumberInBlacklist", "用户拒收/黑名单"),
        # anything else
        ("MK:0001", "其他"),
        ("", "其他"),
        (None, "其他"),
        ("  DB:0101 ", "空号"),
        ("db:0101", "其他"),
    ],
)
def test_each_code_reads_as_its_reason(code, reason):
    assert failure_reasons.label(code) == reason


@pytest.mark.parametrize(
    ("code", "permanent"),
    [("DB:0101", True), ("UNDELIV", True), ("MI:0073", True), ("EXPIRED", False), ("MA:0001", False),
     ("isv.BUSINESS_LIMIT_CONTROL", False), (None, False)],
)  # fmt: skip
def test_only_a_number_that_is_gone_fails_permanently(code, permanent):
    assert failure_reasons.is_permanent(code) is permanent


def test_every_category_has_a_chinese_label_and_the_labels_differ():
    labels = [failure_reasons.LABELS[c] for c in FailureCategory]
    assert len(set(labels)) == len(FailureCategory)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in labels)
