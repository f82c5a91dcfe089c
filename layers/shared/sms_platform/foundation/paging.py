"""Paging cursors: the place a page ends, handed to the caller as an opaque string and taken
back on the next request.

A cursor comes back from outside, so it is checked before it reaches DynamoDB: it must decode,
have the shape its query wrote, and stay inside the partition the query reads (a cursor made
for one district or office cannot start a query of another). Anything else is refused with 400
``无效的翻页标记``, never passed on for DynamoDB to refuse with a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from sms_platform.foundation.errors import BadRequest

MAX_CURSOR_LENGTH = 4096


def invalid() -> BadRequest:
    return BadRequest("无效的翻页标记", field="cursor")


def encode(value: Any) -> str:
    """``value`` (JSON-serialisable) as a URL-safe cursor without padding."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> Any:
    """What ``encode`` wrote, or 400 for a cursor that is not one."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid()
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid() from None


def _attribute_text(value: Any, low_level: bool) -> str | None:
    if low_level:
        value = value.get("S") if isinstance(value, dict) and set(value) == {"S"} else None
    return value if isinstance(value, str) else None


def checked_key(value: Any, *, names: set[str], fixed: Mapping[str, str], low_level: bool = False) -> dict[str, Any]:
    """``value`` as a DynamoDB start key: exactly the string attributes ``names``, those in
    ``fixed`` equal to the query's own values (its partition). ``low_level`` for keys of the
    client API (``{"S": ...}``), else of the table resource (plain strings)."""
    if not isinstance(value, dict) or set(value) != names:
        raise invalid()
    texts = {name: _attribute_text(value[name], low_level) for name in names}
    if any(text is None or len(text) > 1024 for text in texts.values()):
        raise invalid()
    if any(texts[name] != expected for name, expected in fixed.items()):
        raise invalid()
    return value


def start_key(
    cursor: str | None, *, names: set[str], fixed: Mapping[str, str], low_level: bool = False
) -> dict[str, Any] | None:
    """The start key a cursor carries (None without a cursor), checked by ``checked_key``."""
    if not cursor:
        return None
    return checked_key(decode(cursor), names=names, fixed=fixed, low_level=low_level)
