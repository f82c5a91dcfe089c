"""Mobile and landline numbers, resident ID numbers, unified social credit codes and masking.

Valid ID numbers and credit codes are made here by computing their check characters from the
standards' own definitions (weights as powers of 2 mod 11 and of 3 mod 31), independently of the
platform's tables, and checked against the standards' published examples.
"""

from datetime import UTC, date, datetime

import pytest
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.identifiers import (
    id_check_character,
    is_credit_code,
    is_id_number,
    is_landline,
    is_mobile,
    mask_credit_code,
    mask_id_number,
    mask_mobile,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
)


def gb11643(first17: str) -> str:
    """ISO 7064 MOD 11-2: the check digit a1 makes sum(a_i * 2^(i-1)) = 1 (mod 11), i from the right."""
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100(first17: str) -> str:
    """C18 = 31 - MOD(sum(C_i * W_i), 31), W_i = 3^(i-1) mod 31, 31 written as 0."""
    total = sum(CREDIT_CHARS.index(char) * pow(3, index, 31) for index, char in enumerate(first17))
    return first17 + CREDIT_CHARS[(31 - total % 31) % 31]


@pytest.fixture
def clock():
    fixed = FixedClock(datetime(2024, 6, 1, 4, 0, tzinfo=UTC))  # 12:00 in Beijing
    set_clock(fixed)
    yield fixed
    set_clock(None)


# --- mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812341234", "13812341234"),
        ("19912345678", "19912345678"),
        ("14700000000", "14700000000"),
        ("+8613812341234", "13812341234"),
        ("8613812341234", "13812341234"),
        ("008613812341234", "13812341234"),
        ("+86 138 1234 1234", "13812341234"),
        ("0086-138-1234-1234", "13812341234"),
        ("138-1234-1234", "13812341234"),
        (" 138 1234 1234 ", "13812341234"),
        ("138\u30001234\u30001234", "13812341234"),
        ("(+86)13812341234", "13812341234"),
    ],
)
def test_normalize_mobile_accepts_mainland_numbers(raw, expected):
    assert normalize_mobile(raw) == expected
    assert is_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "12812341234",  # second digit must be 3-9
        "10812341234",
        "1381234123",  # 10 digits
        "138123412345",  # 12 digits
        "23812341234",
        "138a2341234",
        "+85213812341234",  # Hong Kong prefix
        "+86",
        "086 13812341234",
        "0631-5201234",
        "",
        "   ",
        None,
        13812341234,  # a number, not text
    ],
)
def test_normalize_mobile_refuses_other_values_without_echoing_them(raw):
    with pytest.raises(ValidationFailed) as caught:
        normalize_mobile(raw, field="caller")
    assert caught.value.status == 422
    assert caught.value.field == "caller"
    assert "手机号码" in caught.value.message
    body = str(caught.value.to_body())
    assert "1234" not in body and "5201234" not in body
    assert not is_mobile(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812341234", "138****1234"),
        ("+86 139-0000-5678", "139****5678"),
        ("0631-5201234", "***"),
        ("", "***"),
    ],
)
def test_mask_mobile(raw, expected):
    assert mask_mobile(raw) == expected


# --- landlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0631-5201234",  # Weihai
        "06315201234",
        "(0631)5201234",
        "0631 520 1234",
        "010-62345678",  # Beijing: two-digit area code, eight-digit number
        "021 6234 5678",
        "0531-86123456",  # Jinan: eight-digit number after a three-digit area code
        "5201234",
        "62345678",
        "+86 631 5201234",
        "0086-10-62345678",
    ],
)
def test_is_landline_recognises_fixed_numbers(raw):
    assert is_landline(raw)
    assert not is_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "13812341234",
        "+8613812341234",
        "12333",  # service number
        "95566",
        "0631-0201234",  # a local number never starts with 0
        "0631-1201234",  # ... nor with 1
        "010-6234567",  # Beijing numbers have eight digits
        "520123",  # too short
        "123456789012",
        "abc",
        "",
        None,
    ],
)
def test_is_landline_refuses_others(raw):
    assert not is_landline(raw)


# --- resident ID numbers ------------------------------------------------------------------------


def test_published_gb11643_example_is_valid_and_reproduced():
    assert gb11643("11010519491231002") == "11010519491231002X"
    assert validate_id_number("11010519491231002X", today=date(2024, 1, 1)) == "11010519491231002X"


def test_id_check_character_agrees_with_the_standard_for_every_check_value():
    # Seventeen digits for each of the eleven check values (ASCII, and the same digits full-width)
    found = {}
    for seq in range(2000):
        first17 = f"37100219{500101 + seq:06d}{seq % 1000:03d}"
        found.setdefault(gb11643(first17)[-1], first17)
    assert len(found) == 11
    for check, first17 in found.items():
        assert id_check_character(first17) == check
        assert id_check_character(first17.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})) == check


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (gb11643("37100219900101123"), gb11643("37100219900101123")),  # Weihai Huancui district
        (gb11643("37108220000229004"), gb11643("37108220000229004")),  # a leap day
        (gb11643("37100219000101001"), gb11643("37100219000101001")),  # earliest accepted birth date
        (gb11643("82000020240601001"), gb11643("82000020240601001")),  # born today (Macao)
        ("11010519491231002x", "11010519491231002X"),  # lower-case x
        (" 110105 19491231 002X ", "11010519491231002X"),
    ],
)
def test_validate_id_number_accepts_valid_numbers(clock, raw, expected):
    assert validate_id_number(raw) == expected
    assert is_id_number(raw)


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_wrong_check(gb11643("37100219900101123")), "校验位"),
        ("110105194912310021", "校验位"),
        (gb11643("37100219490231123"), "出生日期"),  # 31 February
        (gb11643("37100220230229123"), "出生日期"),  # not a leap year
        (gb11643("37100219901301123"), "出生日期"),  # month 13
        (gb11643("37100219900100123"), "出生日期"),  # day 0
        (gb11643("37100218991231123"), "出生日期"),  # before 1900
        (gb11643("37100220240602123"), "出生日期"),  # tomorrow by the platform clock
        (gb11643("99100219900101123"), "地区码"),
        (gb11643("00100219900101123"), "地区码"),
        (gb11643("37100219900101123")[:17], "18 位"),  # 17 characters
        (gb11643("37100219900101123") + "1", "18 位"),  # 19 characters
        ("371002900101123", "18 位"),  # the old 15-digit form
        ("3710021990010112AX", "18 位"),
        ("X71002199001011234", "18 位"),
        ("", "18 位"),
        (None, "18 位"),
        (110105194912310020, "18 位"),
    ],
)
def test_validate_id_number_refuses_bad_numbers_without_echoing_them(clock, raw, message):
    with pytest.raises(ValidationFailed) as caught:
        validate_id_number(raw, field="subject.id")
    assert message in caught.value.message
    assert caught.value.field == "subject.id"
    if isinstance(raw, str) and len(raw) > 6:
        assert raw[6:14] not in str(caught.value.to_body())
    assert not is_id_number(raw)


def test_id_number_birth_date_follows_the_clock(clock):
    tomorrow = gb11643("37100220240602123")
    assert not is_id_number(tomorrow)
    clock.advance(days=1)
    assert validate_id_number(tomorrow) == tomorrow


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "110105***********X"),
        ("371002199001011234", "371002***********4"),
        ("12345", "***"),
        ("", "***"),
    ],
)
def test_mask_id_number_keeps_region_and_check_character(raw, expected):
    masked = mask_id_number(raw)
    assert masked == expected
    if len(raw) == 18:
        assert len(masked) == 18 and raw[6:17] not in masked


# --- unified social credit codes ----------------------------------------------------------------


def test_published_gb32100_example_is_valid_and_reproduced():
    assert gb32100("91350100M000100Y4") == "91350100M000100Y43"
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"


def _body_with_check(check: str) -> str:
    for last in CREDIT_CHARS:
        code = gb32100("91371000MA3C1234" + last)
        if code[-1] == check:
            return code
    raise AssertionError(f"no body with check {check}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (gb32100("91371000MA3C4Q7T0"), gb32100("91371000MA3C4Q7T0")),  # a Weihai company
        (gb32100("12371000004925167"), gb32100("12371000004925167")),  # a public institution
        (gb32100("52371002MJE123456"), gb32100("52371002MJE123456")),  # a social organisation
        (_body_with_check("0"), _body_with_check("0")),  # 31 - 0 is written 0
        (_body_with_check("Y"), _body_with_check("Y")),
        ("91350100m000100y43", "91350100M000100Y43"),  # lower case
        (" 91350100M000100Y43 ", "91350100M000100Y43"),
    ],
)
def test_validate_credit_code_accepts_valid_codes(raw, expected):
    assert validate_credit_code(raw) == expected
    assert is_credit_code(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4A", "校验位"),
        ("91350100M000100I43", "格式"),  # I is not in the character set
        ("91350100M000100O43", "格式"),
        ("91350100M000100Z43", "格式"),
        ("91350100M000100S43", "格式"),
        ("91350100M000100V43", "格式"),
        ("9135A100M000100Y43", "格式"),  # the region code is six digits
        ("91350100M000100Y4", "格式"),  # 17 characters
        ("91350100M000100Y433", "格式"),  # 19 characters
        ("91350100_M000100Y43", "格式"),
        ("", "格式"),
        (None, "格式"),
    ],
)
def test_validate_credit_code_refuses_bad_codes(raw, message):
    with pytest.raises(ValidationFailed) as caught:
        validate_credit_code(raw, field="subject.id")
    assert message in caught.value.message
    assert caught.value.field == "subject.id"
    assert not is_credit_code(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91350100M000100Y43", "913501********0Y43"),
        ("123", "***"),
    ],
)
def test_mask_credit_code(raw, expected):
    assert mask_credit_code(raw) == expected
