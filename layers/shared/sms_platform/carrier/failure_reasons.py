"""Why a message did not arrive, in words staff understand.

Carriers answer a failure with a code: an API code when they refuse a request
(``isv.MOBILE_NUMBER_ILLEGAL``, Tencent's ``InvalidParameterValue.IncorrectPhoneNumber``) or
a delivery receipt's status when the network could not deliver (``UNDELIV``, ``DB:0101``,
``MI:0024`` ...). Receipt statuses come from the mobile networks' gateways through the
carrier and number in the hundreds, so they are read here by their family where one family
means one thing, and by exact code where it does not.

Every code falls into one of a few categories (``FailureCategory``) with a Chinese label; the
raw code is always kept beside it, since a category is a summary, not the evidence. Two
categories are permanent (the number itself is gone): they feed the number-health loop.
"""

from __future__ import annotations

from enum import StrEnum


class FailureCategory(StrEnum):
    empty_number = "empty_number"
    suspended = "suspended"
    unreachable = "unreachable"
    refused = "refused"
    intercepted = "intercepted"
    bad_number = "bad_number"
    rate_limited = "rate_limited"
    content = "content"
    other = "other"


LABELS: dict[FailureCategory, str] = {
    FailureCategory.empty_number: "空号",
    FailureCategory.suspended: "停机",
    FailureCategory.unreachable: "关机或不在服务区",
    FailureCategory.refused: "用户拒收/黑名单",
    FailureCategory.intercepted: "运营商拦截",
    FailureCategory.bad_number: "号码格式错误",
    FailureCategory.rate_limited: "发送频率超限",
    FailureCategory.content: "内容或模板问题",
    FailureCategory.other: "其他",
}

# The number no longer exists or no longer takes service: sending again will fail again.
PERMANENT = frozenset({FailureCategory.empty_number, FailureCategory.suspended})

_C = FailureCategory
_EXACT: dict[str, FailureCategory] = {
    # Alibaba Cloud SMS API codes (the request was refused for one number or for all).
    "isv.MOBILE_NUMBER_ILLEGAL": _C.bad_number,
    "isv.MOBILE_COUNT_OVER_LIMIT": _C.other,
    "isv.BUSINESS_LIMIT_CONTROL": _C.rate_limited,
    "isv.DAY_LIMIT_CONTROL": _C.rate_limited,
    "isv.SMS_TEMPLATE_ILLEGAL": _C.content,
    "isv.SMS_SIGNATURE_ILLEGAL": _C.content,
    "isv.TEMPLATE_MISSING_PARAMETERS": _C.content,
    "isv.INVALID_JSON_PARAM": _C.content,
    "isv.BLACK_KEY_CONTROL_LIMIT": _C.content,
    "isv.PARAM_LENGTH_LIMIT": _C.content,
    "isv.PARAM_NOT_SUPPORT_URL": _C.content,
    "isv.SMS_CONTENT_ILLEGAL": _C.content,
    "isv.SMS_SIGN_ILLEGAL": _C.content,
    "isv.SIGN_NAME_ILLEGAL": _C.content,
    "isv.TEMPLATE_PARAMS_ILLEGAL": _C.content,
    # Delivery receipt statuses shared by the three networks' gateways.
    "UNDELIV": _C.suspended,  # the subscriber's state forbids delivery: stopped or suspended
    "EXPIRED": _C.unreachable,  # switched off or out of coverage until the message expired
    "REJECTD": _C.intercepted,
    "REJECTED": _C.intercepted,
    "DB:0101": _C.empty_number,
    "DB:0102": _C.suspended,
    "CB:0001": _C.empty_number,
    "CB:0053": _C.empty_number,
    "MA:0001": _C.refused,  # network-wide block list
    "HD:0001": _C.refused,
    "MA:0005": _C.bad_number,
    "IB:0008": _C.rate_limited,
    "MI:0024": _C.unreachable,
    "MI:0042": _C.unreachable,
    "MI:0076": _C.unreachable,
    "MI:0082": _C.unreachable,
    "MI:0073": _C.empty_number,
    "MI:0210": _C.empty_number,
    "MI:0072": _C.suspended,
    "MI:0019": _C.suspended,  # the subscriber's account is in arrears
    "MI:0051": _C.suspended,
    "MI:0061": _C.rate_limited,
    "MI:0062": _C.rate_limited,
    "MI:0079": _C.rate_limited,
    # Tencent Cloud SMS per-number and request codes.
    "InvalidParameterValue.IncorrectPhoneNumber": _C.bad_number,
    "LimitExceeded.PhoneNumberDailyLimit": _C.rate_limited,
    "LimitExceeded.PhoneNumberThirtySecondLimit": _C.rate_limited,
    "LimitExceeded.PhoneNumberOneHourLimit": _C.rate_limited,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": _C.rate_limited,
    "LimitExceeded.DeliveryFrequencyLimit": _C.rate_limited,
    "RequestLimitExceeded": _C.rate_limited,
    "FailedOperation.TemplateIncorrectOrUnapproved": _C.content,
    "FailedOperation.SignatureIncorrectOrUnapproved": _C.content,
    "FailedOperation.ContainSensitiveWord": _C.content,
    "FailedOperation.PhoneNumberInBlacklist": _C.refused,
    "FailedOperation.PhoneNumberOnBlacklist": _C.refused,
    "InvalidParameterValue.TemplateParameterFormatError": _C.content,
    "InvalidParameterValue.TemplateParameterLengthLimit": _C.content,
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": _C.content,
    "InvalidParameterValue.ContentLengthLimit": _C.content,
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": _C.content,
    "FailedOperation.JsonParseFail": _C.content,
}

# Families of gateway codes that mean one thing whatever their number.
_PREFIXES: tuple[tuple[str, FailureCategory], ...] = (
    ("LimitExceeded.", _C.rate_limited),
    ("isv.", _C.other),
    ("CJ:", _C.intercepted),  # the gateway's keyword filter
    ("XA:", _C.intercepted),
)


def categorize(code: str | None) -> FailureCategory:
    """The category of a carrier's failure code; unknown or missing codes are ``other``."""
    code = (code or "").strip()
    if not code:
        return FailureCategory.other
    found = _EXACT.get(code)
    if found is not None:
        return found
    for prefix, category in _PREFIXES:
        if code.startswith(prefix):
            return category
    return FailureCategory.other


def label(code: str | None) -> str:
    """The Chinese reason staff read for a carrier's failure code."""
    return LABELS[categorize(code)]


def is_permanent(code: str | None) -> bool:
    """Whether the code says the number itself is gone (空号, 停机)."""
    return categorize(code) in PERMANENT
