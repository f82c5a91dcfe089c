"""Mainland mobile and landline numbers, resident ID numbers and unified social credit codes.

Each validator returns the value in its one normal form or raises ``ValidationFailed``. No
message ever contains the value it refuses: a wrong phone or ID number in an error would land
in logs and screens in clear.

Masking (what staff and citizens see):

- mobile: the first 3 and last 4 digits kept, ``138****1234``;
- resident ID number: the first 6 characters (the region) and the check character kept, the
  11 in between (birth date and sequence) starred, so the length stays 18:
  ``371002***********X``;
- unified social credit code: the first 6 characters (authority, kind, start of the region) and
  the last 4 kept, the 8 in between starred: ``913501********0Y43``.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.text_rules import has_invisible

# Separators people type inside numbers: spaces (also full-width), dashes and brackets.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u3000()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_COUNTRY_PREFIX = re.compile(r"(?:\+86|0086|86)(?=1\d{10}$)")

# Area codes: 010 and 02x have two digits after the 0, all others three. Local numbers never
# start with 0 or 1 and have 7 or 8 digits (8 in the two-digit-area cities).
_LANDLINE_WITH_AREA = re.compile(r"0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7}")
_LANDLINE_INTERNATIONAL = re.compile(r"(?:10|2\d)[2-9]\d{7}|[3-9]\d{2}[2-9]\d{6,7}")
_LANDLINE_LOCAL = re.compile(r"[2-9]\d{6,7}")


def _compact(raw: object) -> str | None:
    """The value without separators; None when it is not a string or holds an invisible
    character (``text_rules``): a tab or a unit separator inside a number is not a separator
    anyone types, and a zero-width or direction character would make two values look alike."""
    if not isinstance(raw, str):
        return None
    if raw.isascii() and raw.isalnum():
        return raw  # neither a separator nor an invisible character: most values, told at C speed
    if has_invisible(raw):
        return None
    return _SEPARATORS.sub("", raw)


def normalize_mobile(raw: object, *, field: str = "mobile") -> str:
    """A mainland mobile number as 11 digits (``1[3-9]`` + 9 digits).

    Spaces, dashes and brackets are dropped and a ``+86``, ``86`` or ``0086`` prefix is removed.
    """
    compact = _compact(raw)
    if compact is not None:
        compact = _COUNTRY_PREFIX.sub("", compact, count=1)
        if _MOBILE.fullmatch(compact):
            return compact
    raise ValidationFailed("手机号码格式不正确，应为 11 位中国大陆手机号", field=field)


def is_mobile(raw: object) -> bool:
    try:
        normalize_mobile(raw)
    except ValidationFailed:
        return False
    return True


def is_landline(raw: object) -> bool:
    """Whether the number looks like a fixed-line number (``0631-5201234``, ``5201234``,
    ``+86 631 5201234``), as the hotline needs to tell a caller it cannot text back."""
    compact = _compact(raw)
    if not compact:
        return False
    if compact.startswith("+86") or compact.startswith("0086"):
        return bool(_LANDLINE_INTERNATIONAL.fullmatch(compact.removeprefix("+86").removeprefix("0086")))
    return bool(_LANDLINE_WITH_AREA.fullmatch(compact) or _LANDLINE_LOCAL.fullmatch(compact))


def mask_mobile(number: str) -> str:
    """``138****1234``; anything that is not a mobile number is fully starred."""
    if not is_mobile(number):
        return "***"
    digits = normalize_mobile(number)
    return f"{digits[:3]}****{digits[-4:]}"


# --- Resident ID numbers, GB 11643-1999 -------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_ZERO_WEIGHT = ord("0") * sum(_ID_WEIGHTS)
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11 (ISO 7064 MOD 11-2)
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
# Province-level codes of GB/T 2260 (Taiwan, Hong Kong and Macao included).
_PROVINCES = frozenset(
    str(code)
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)
_EARLIEST_BIRTH = date(1900, 1, 1)


def id_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        # The digits' ASCII codes weighted at C speed, less the weighted code of "0" (a
        # personalised list checks a number a row); other digits take the general way below.
        total = sum(map(mul, first17.encode(), _ID_WEIGHTS)) - _ID_ZERO_WEIGHT
    else:
        total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(raw: object, *, field: str = "id_number", today: date | None = None) -> str:
    """An 18-character resident ID number, upper-case ``X``; its region, birth date (a real
    date, not in the future) and check character are verified. ``today`` defaults to the
    platform clock's date in Beijing."""
    value = _compact(raw)
    value = value.upper() if value else ""
    if not _ID_SHAPE.fullmatch(value):
        raise ValidationFailed("身份证号码格式不正确，应为 18 位（末位可为 X）", field=field)
    if value[:2] not in _PROVINCES:
        raise ValidationFailed("身份证号码的地区码不正确", field=field)
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationFailed("身份证号码中的出生日期不正确", field=field) from None
    if today is None:
        today = get_clock().beijing().date()
    if not _EARLIEST_BIRTH <= birth <= today:
        raise ValidationFailed("身份证号码中的出生日期不正确", field=field)
    if id_check_character(value[:17]) != value[17]:
        raise ValidationFailed("身份证号码校验位不正确", field=field)
    return value


def is_id_number(raw: object) -> bool:
    try:
        validate_id_number(raw)
    except ValidationFailed:
        return False
    return True


def mask_id_number(value: str) -> str:
    """``371002***********X``: region and check character kept, length kept."""
    if not isinstance(value, str) or len(value) != 18:
        return "***"
    return f"{value[:6]}{'*' * 11}{value[-1]}"


# --- Unified social credit codes, GB 32100-2015 ----------------------------------------------

CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"[{CREDIT_CODE_CHARACTERS}]{{2}}\d{{6}}[{CREDIT_CODE_CHARACTERS}]{{10}}")


def credit_code_check_character(first17: str) -> str:
    """The GB 32100 check character: 31 minus the weighted sum mod 31 (31 itself becomes 0)."""
    total = sum(
        CREDIT_CODE_CHARACTERS.index(char) * weight for char, weight in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31]


def validate_credit_code(raw: object, *, field: str = "credit_code") -> str:
    """An 18-character unified social credit code, upper case: the 31-character set, a
    6-digit region code in places 3-8, and the check character are verified."""
    value = _compact(raw)
    value = value.upper() if value else ""
    if not _CREDIT_SHAPE.fullmatch(value):
        raise ValidationFailed(
            "统一社会信用代码格式不正确，应为 18 位数字或大写字母（不含 I、O、Z、S、V）", field=field
        )
    if credit_code_check_character(value[:17]) != value[17]:
        raise ValidationFailed("统一社会信用代码校验位不正确", field=field)
    return value


def is_credit_code(raw: object) -> bool:
    try:
        validate_credit_code(raw)
    except ValidationFailed:
        return False
    return True


def mask_credit_code(value: str) -> str:
    """``913501********0Y43``: first 6 and last 4 kept, length kept."""
    if not isinstance(value, str) or len(value) != 18:
        return "***"
    return f"{value[:6]}{'*' * 8}{value[-4:]}"
