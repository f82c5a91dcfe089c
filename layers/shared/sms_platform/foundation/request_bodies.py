"""Request bodies bounded before anything parses them.

Every API function answers ``refusal(event) or app.resolve(event, context)``: a body that is
too large, not UTF-8, not JSON, nested too deep or carrying absurd numbers is refused here with
the contract's ``{"error": ...}`` shape and a 4xx, so no handler, model or library below ever
sees it (Python's JSON parser recurses once per nesting level and gives up with a
``RecursionError`` near a thousand; DynamoDB refuses numbers of more than 38 digits and items
over 400 KB). Nothing is changed by a refused request.

The limits per route are in ``BODY_LIMITS`` (the README lists them); every other route takes
``DEFAULT_LIMIT``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from sms_platform.foundation.errors import (
    BadRequest,
    PayloadTooLarge,
    PlatformError,
    UnsupportedMediaType,
    ValidationFailed,
)

KIB = 1024
DEFAULT_LIMIT = 64 * KIB
# What each route's body may weigh, by its API Gateway resource. The contract bodies are small;
# a contact batch holds up to 500 records; a carrier push may hold thousands of receipts and
# is taken whole (the Lambda payload limit is 6 MB), then recorded in pieces from a queue.
BODY_LIMITS: dict[str, int] = {
    "/v1/hotline/hangups": 16 * KIB,
    "/v1/events": 64 * KIB,
    "/v1/subscriptions": 8 * KIB,
    "/v1/subscriptions/otp": 8 * KIB,
    "/v1/subscriptions/lookup": 8 * KIB,
    "/v1/subscriptions/{subscription_id}/renewals": 8 * KIB,
    "/v1/payments/notify": 8 * KIB,
    "/v1/contacts/batch": 512 * KIB,
    "/v1/carrier/receipts": 5 * KIB * KIB,
    "/v1/carrier/inbound": 5 * KIB * KIB,
    "/v1/carrier/tencent/receipts": 5 * KIB * KIB,
    "/v1/carrier/tencent/inbound": 5 * KIB * KIB,
    "/v1/staff/{proxy+}": 256 * KIB,
}
MAX_DEPTH = 32  # the deepest body the platform reads is four levels; 32 leaves room for any client
MAX_NUMBER_CHARS = 24  # DynamoDB keeps 38 significant digits; money and counts need far fewer

_JSON_TYPES = ("application/json",)
# A JSON string (with its escapes) or one bracket: strings are skipped whole, brackets counted.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def limit_of(event: dict[str, Any]) -> int:
    return BODY_LIMITS.get(event.get("resource") or "", DEFAULT_LIMIT)


def raw_body(event: dict[str, Any]) -> bytes:
    """The body's bytes as the caller sent them; 400 when API Gateway's base64 is broken."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("请求体编码无效") from None


def _content_type(event: dict[str, Any]) -> str:
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "content-type":
            return (value or "").split(";", 1)[0].strip().lower()
    return ""


def nesting_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than ``limit``, counted without recursion."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_CHARS:
        raise ValueError("number too long")
    return int(digits)


def _bounded_float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_NUMBER_CHARS or not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """JSON as the platform reads it: bounded depth, bounded numbers, no NaN or Infinity.

    Raises ``ValidationFailed`` (422) for anything else, in the caller's language.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("请求体须为 UTF-8 编码的 JSON", field="body") from None
    if nesting_exceeds(text):
        raise ValidationFailed(f"请求体的 JSON 嵌套超过 {MAX_DEPTH} 层", field="body")
    try:
        return json.loads(
            text, parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant
        )
    except ValueError:
        raise ValidationFailed(
            f"请求体不是有效的 JSON（数字最多 {MAX_NUMBER_CHARS} 位，不支持 NaN 和 Infinity）", field="body"
        ) from None


def check(event: dict[str, Any]) -> None:
    """Raise the refusal ``event``'s body deserves, if any: 413, 415, 400 or 422."""
    data = raw_body(event)
    if not data:
        return
    limit = limit_of(event)
    if len(data) > limit:
        raise PayloadTooLarge(f"请求体过大：该接口最多接受 {limit // KIB} KB")
    kind = _content_type(event)
    if kind and kind not in _JSON_TYPES:
        raise UnsupportedMediaType("请求体须为 JSON（Content-Type: application/json）")
    loads(data)


def refusal(event: dict[str, Any]) -> dict[str, Any] | None:
    """The proxy response refusing ``event``, or None when its body may be read."""
    try:
        check(event)
    except PlatformError as refused:
        return {
            "statusCode": refused.status,
            "headers": {"Content-Type": "application/json; charset=utf-8"},
            "body": json.dumps(refused.to_body(), ensure_ascii=False),
            "isBase64Encoded": False,
        }
    return None
