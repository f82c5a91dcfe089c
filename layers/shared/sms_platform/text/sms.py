"""SMS length and parts, counted as the carrier counts and bills them.

The carrier shows the signature as 【signature】 before the text, and it counts. A message
whose every character is in the GSM 03.38 alphabet (basic table plus extension table) is sent
as GSM-7: 160 septets in one part, 153 per part beyond, each extension character (``^{}\\[~]|€``
and form feed) taking two septets. Any other character makes the whole message UCS-2: 70
UTF-16 units in one part, 67 per part beyond.

Counting choice: ``characters`` is the message's length in UTF-16 code units, the way the
carrier (and any Java or JavaScript counter) counts. It equals the number of code points for
every character in the Basic Multilingual Plane, Chinese included; a character outside it (an
emoji, a rare CJK extension B character) counts 2, because UCS-2 carries it as a surrogate pair.
The 500-character limit applies to ``characters``. ``units`` is what the parts are cut from:
UTF-16 units in UCS-2, septets in GSM-7. A part never splits a surrogate pair or an escape
sequence, so the part count is found by filling parts one character at a time.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from sms_platform.foundation.errors import ContentRejected

MAX_CHARACTERS = 500

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (units in a single-part message, units per part of a multi-part message)
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

Encoding = Literal["GSM-7", "UCS-2"]


class SmsLength(NamedTuple):
    """A message's measure (a named tuple: made for every row of a personalised list, at a
    quarter of a frozen dataclass's cost)."""

    characters: int  # UTF-16 units of signature plus text: what the 500 limit and "N 字" count
    encoding: Encoding
    parts: int  # billed messages; 0 for an empty message
    per_part: int  # units one part holds in this message (the single-part size when parts == 1)
    units: int  # septets in GSM-7, UTF-16 units in UCS-2


def full_text(text: str, signature: str | None) -> str:
    """The message as the phone shows it: ``【signature】text``."""
    if not signature:
        return text
    return f"【{signature.strip().removeprefix('【').removesuffix('】')}】{text}"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_sizes(message: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in message]
    return [2 if ord(char) > 0xFFFF else 1 for char in message]


def _count_parts(sizes: list[int], per_part: int) -> int:
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def measure(text: str, signature: str | None = None) -> SmsLength:
    """Length, encoding and parts of ``text`` sent under ``signature``.

    Raises ``ContentRejected`` when signature and text together exceed 500 characters.
    """
    message = full_text(text, signature)
    characters = utf16_length(message)
    if characters > MAX_CHARACTERS:
        raise ContentRejected(f"短信内容（含签名）最多 {MAX_CHARACTERS} 字，当前 {characters} 字", field="content")
    encoding: Encoding = "GSM-7" if is_gsm7(message) else "UCS-2"
    single, multi = _LIMITS[encoding]
    if encoding == "UCS-2" and characters == len(message):
        # Every character one UTF-16 unit (no surrogate pair to keep whole): the parts are a
        # plain division, without sizing each character (a personalised list measures every row).
        units = characters
        if units <= single:
            return SmsLength(characters, encoding, 1, single, units)
        return SmsLength(characters, encoding, -(-units // multi), multi, units)
    sizes = _unit_sizes(message, encoding)
    units = sum(sizes)
    if units == 0:
        return SmsLength(characters, encoding, 0, single, 0)
    if units <= single:
        return SmsLength(characters, encoding, 1, single, units)
    return SmsLength(characters, encoding, _count_parts(sizes, multi), multi, units)
