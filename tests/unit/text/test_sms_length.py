"""SMS length, encoding and parts as the carrier counts and bills them."""

import pytest
from sms_platform.foundation.errors import ContentRejected
from sms_platform.text.sms import GSM7_BASIC, GSM7_EXTENSION, SmsLength, full_text, measure

SIGNATURE = "威海人社"  # shown as 【威海人社】: 6 characters


@pytest.mark.parametrize(
    ("text", "signature", "expected"),
    [
        ("", None, SmsLength(0, "GSM-7", 0, 160, 0)),
        ("a", None, SmsLength(1, "GSM-7", 1, 160, 1)),
        ("a" * 160, None, SmsLength(160, "GSM-7", 1, 160, 160)),
        ("a" * 161, None, SmsLength(161, "GSM-7", 2, 153, 161)),
        ("a" * 306, None, SmsLength(306, "GSM-7", 2, 153, 306)),
        ("a" * 307, None, SmsLength(307, "GSM-7", 3, 153, 307)),
        # Extension characters take two septets each.
        ("{" * 80, None, SmsLength(80, "GSM-7", 1, 160, 160)),
        ("{" * 81, None, SmsLength(81, "GSM-7", 2, 153, 162)),
        # An escape pair is never split between parts: 152 + 2 does not fit in 153.
        ("a" * 152 + "{" + "a" * 152, None, SmsLength(305, "GSM-7", 3, 153, 306)),
        # Characters outside GSM-7 make the whole message UCS-2.
        ("您" * 70, None, SmsLength(70, "UCS-2", 1, 70, 70)),
        ("您" * 71, None, SmsLength(71, "UCS-2", 2, 67, 71)),
        ("您" * 134, None, SmsLength(134, "UCS-2", 2, 67, 134)),
        ("您" * 135, None, SmsLength(135, "UCS-2", 3, 67, 135)),
        ("您" * 201, None, SmsLength(201, "UCS-2", 3, 67, 201)),
        ("您" * 202, None, SmsLength(202, "UCS-2", 4, 67, 202)),
        ("您" * 494, SIGNATURE, SmsLength(500, "UCS-2", 8, 67, 500)),
        ("a" * 69 + "ç", None, SmsLength(70, "UCS-2", 1, 70, 70)),  # only capital Ç is GSM-7
        ("a" * 70 + "`", None, SmsLength(71, "UCS-2", 2, 67, 71)),
        ("a" * 70 + "á", None, SmsLength(71, "UCS-2", 2, 67, 71)),
        ("{" * 71 + "，", None, SmsLength(72, "UCS-2", 2, 67, 72)),  # in UCS-2 braces count one
        # The signature counts and, with its brackets, makes the message UCS-2.
        ("好" * 64, SIGNATURE, SmsLength(70, "UCS-2", 1, 70, 70)),
        ("好" * 65, SIGNATURE, SmsLength(71, "UCS-2", 2, 67, 71)),
        ("hello", SIGNATURE, SmsLength(11, "UCS-2", 1, 70, 11)),
        ("hello", "【威海人社】", SmsLength(11, "UCS-2", 1, 70, 11)),
        ("", SIGNATURE, SmsLength(6, "UCS-2", 1, 70, 6)),
        # Outside the Basic Multilingual Plane a character is a surrogate pair: it counts 2.
        ("😀", None, SmsLength(2, "UCS-2", 1, 70, 2)),
        ("𠀀", None, SmsLength(2, "UCS-2", 1, 70, 2)),  # CJK extension B
        ("a" * 68 + "😀", None, SmsLength(70, "UCS-2", 1, 70, 70)),
        ("a" * 69 + "😀", None, SmsLength(71, "UCS-2", 2, 67, 71)),
        # A surrogate pair is never split between parts: 66 + 2 does not fit in 67.
        ("a" * 66 + "😀" + "a" * 66, None, SmsLength(134, "UCS-2", 3, 67, 134)),
    ],
)
def test_measure(text, signature, expected):
    assert measure(text, signature) == expected


def test_every_basic_table_character_is_gsm7_counted_once():
    text = "".join(sorted(GSM7_BASIC))
    assert measure(text) == SmsLength(127, "GSM-7", 1, 160, 127)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_each_extension_character_counts_two(char):
    assert measure("a" * 158 + char) == SmsLength(159, "GSM-7", 1, 160, 160)
    assert measure("a" * 159 + char) == SmsLength(160, "GSM-7", 2, 153, 161)


# 3GPP TS 23.038 default alphabet in code order, rows of 16; 0x1B (escape) is not a character.
GSM_DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)


def test_gsm7_tables_are_exactly_the_standard_ones():
    assert len(GSM_DEFAULT_ALPHABET) == 128
    assert set(GSM_DEFAULT_ALPHABET) - {"\x1b"} == GSM7_BASIC
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert not set("`çá\t€") & GSM7_BASIC


@pytest.mark.parametrize(
    ("text", "signature", "parts"),
    [
        ("字" * 500, None, 8),
        ("字" * 494, SIGNATURE, 8),
        ("😀" * 250, None, 8),
        ("a" * 500, None, 4),
    ],
)
def test_up_to_500_characters_are_accepted(text, signature, parts):
    length = measure(text, signature)
    assert length.characters == 500 and length.parts == parts


@pytest.mark.parametrize(
    ("text", "signature", "count"),
    [
        ("字" * 501, None, 501),
        ("字" * 495, SIGNATURE, 501),
        ("😀" * 250 + "a", None, 501),
        ("a" * 600, None, 600),
    ],
)
def test_over_500_characters_is_refused_with_a_clear_message(text, signature, count):
    with pytest.raises(ContentRejected) as caught:
        measure(text, signature)
    error = caught.value
    assert error.status == 422
    assert error.to_body()["error"]["code"] == "content_rejected"
    assert error.message == f"短信内容（含签名）最多 500 字，当前 {count} 字"


@pytest.mark.parametrize(
    ("text", "signature", "expected"),
    [
        ("您好", "威海人社", "【威海人社】您好"),
        ("您好", " 【威海人社】 ", "【威海人社】您好"),
        ("您好", None, "您好"),
        ("您好", "", "您好"),
    ],
)
def test_full_text_puts_the_signature_first(text, signature, expected):
    assert full_text(text, signature) == expected
