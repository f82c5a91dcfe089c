"""Invisible characters are refused wherever people's names, identifiers and free text enter.

A name with a right-to-left override (U+202E) or a zero-width space displays like another
name, so a reviewer or an agent may be shown one record and act on another; a NUL, BEL or ESC
breaks the CSV reports, terminals and logs the value later lands in. Nothing of the kind is
legitimate in what the platform stores, so it is refused at the door (422), never cleaned up
silently (a silent change would store something the sender did not send).

Refused in a single line (names, identifiers, reasons for a status, tags): every control
character (Unicode category Cc, tab and newline included), every format character (Cf: the
bidirectional embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks
U+200E, U+200F and U+061C, the zero-width characters U+200B-U+200D, U+FEFF, the soft hyphen),
lone surrogates (Cs, which JSON can carry but no store can encode), and the line and paragraph
separators U+2028 and U+2029. Free text meant to span lines (an SMS template's text, a remark,
a purpose) may also hold newlines (``\\n``, ``\\r``), nothing else of these.

Use ``Annotated[str, Visible("姓名")]`` in a pydantic model (the refusal is a field error with
a Chinese message naming the field, which ``sms_platform.foundation.http`` turns into the platform's 422),
or ``check_line`` / ``check_text`` where a body is checked by hand. Messages never repeat the
value. This module imports only the standard library at module level, so the hang-up webhook
can use it and still start fast.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sms_platform.foundation.errors import ValidationFailed

ERROR_TYPE = "invisible_characters"
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\n\r")


def has_invisible(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a character refused by the rule above (newlines allowed only when
    ``multiline``)."""
    if text.isprintable():
        # Every refused category (and a newline) is unprintable to Python, so a printable text,
        # what nearly every value is, is told at C speed without a look at each character.
        return False
    for char in text:
        if multiline and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return True
    return False


def message(label: str) -> str:
    return f"{label}含有不可见的控制字符"


def check_line(value: Any, label: str, *, field: str) -> Any:
    """``value`` unchanged, or ``ValidationFailed`` (422) naming ``field`` when it is a string
    with an invisible character (newlines included)."""
    if isinstance(value, str) and has_invisible(value):
        raise ValidationFailed(message(label), field=field)
    return value


def check_text(value: Any, label: str, *, field: str) -> Any:
    """As ``check_line``, for text that may span lines."""
    if isinstance(value, str) and has_invisible(value, multiline=True):
        raise ValidationFailed(message(label), field=field)
    return value


@dataclass(frozen=True)
class Visible:
    """pydantic field metadata: refuse invisible characters in this string field.

    ``label`` names the field in the message (``姓名含有不可见的控制字符``); ``multiline`` lets
    newlines through for free text. Applies to ``str`` and ``str | None`` fields and, inside a
    container type (``list[Annotated[str, Visible(...)]]``), to each item.
    """

    label: str
    multiline: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        # deferred: pydantic_core (~9 ms) stays out of the hang-up webhook's cold import, which loads this module
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: Any) -> Any:
        from pydantic_core import PydanticCustomError  # deferred: see __get_pydantic_core_schema__

        if isinstance(value, str) and has_invisible(value, multiline=self.multiline):
            raise PydanticCustomError(ERROR_TYPE, "{label}含有不可见的控制字符", {"label": self.label})
        return value
