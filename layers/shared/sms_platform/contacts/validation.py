"""Number checks for the address book, on top of ``sms_platform.foundation.identifiers``.

Each check returns the normalised value or raises ``ValueError`` with a Chinese reason that does
not repeat the value, so pydantic reports it per field and a CSV report can show it per row.
"""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import identifiers
from sms_platform.foundation.errors import PlatformError

_BAD_ID = "公民身份号码无效"
_BAD_CODE = "统一社会信用代码无效"


def _checked(function: Any, value: str, reason: str) -> str:
    try:
        result = function(value)
    except PlatformError as error:
        # The identifiers module names the rule broken and never repeats the value.
        raise ValueError(error.message or reason) from None
    except (ValueError, TypeError):
        raise ValueError(reason) from None
    if result is False or result is None:
        raise ValueError(reason)
    return result if isinstance(result, str) else value


def mobile(value: str) -> str:
    return _checked(identifiers.normalize_mobile, value, "手机号码格式不正确")


def id_number(value: str) -> str:
    return _checked(identifiers.validate_id_number, value.strip().upper(), _BAD_ID)


def credit_code(value: str) -> str:
    return _checked(identifiers.validate_credit_code, value.strip().upper(), _BAD_CODE)


def mask_mobile(value: str) -> str:
    return identifiers.mask_mobile(value)


def mask_identifier(kind: str, value: str) -> str:
    if kind == "person":
        return identifiers.mask_id_number(value)
    return identifiers.mask_credit_code(value)


def mask_unchecked(value: str) -> str:
    """A refused value as a report may show it: never more than its first three and last two."""
    text = value.strip()
    if len(text) <= 5:
        return "*" * len(text)
    return f"{text[:3]}{'*' * (len(text) - 5)}{text[-2:]}"
