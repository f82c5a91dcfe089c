"""Bodies bounded before anything parses them (``sms_platform.foundation.request_bodies``): bracket depth
counted outside strings and without recursion, numbers and constants JSON cannot carry safely,
and the refusal each proxy event deserves (413, 415, 400, 422) in the contract's error shape."""

from __future__ import annotations

import base64
import json
import time

import pytest
from sms_platform.foundation import request_bodies
from sms_platform.foundation.errors import BadRequest, PlatformError, ValidationFailed
from sms_platform.foundation.request_bodies import KIB, MAX_DEPTH, MAX_NUMBER_CHARS, loads, nesting_exceeds, refusal

from tests.events import api_event


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize(
    ("text", "limit", "exceeds"),
    [
        pytest.param("", 1, False, id="empty"),
        pytest.param('{"a": 1}', 1, False, id="one level"),
        pytest.param('{"a": [1]}', 1, True, id="two levels over a limit of one"),
        pytest.param('{"a": {"b": 1}, "c": [2]}', 2, False, id="siblings do not add up"),
        pytest.param('["[[[[[[", "{{{{{{"]', 1, False, id="brackets inside strings"),
        pytest.param('["\\"[[[[", "x\\\\"]', 1, False, id="escaped quote keeps the string open"),
        pytest.param('["\\\\", [1]]', 1, True, id="escaped backslash closes the string"),
        pytest.param('"]]]]"[[', 1, True, id="closing brackets in a string do not lower the depth"),
        pytest.param(nested(MAX_DEPTH), MAX_DEPTH, False, id="exactly the limit"),
        pytest.param(nested(MAX_DEPTH + 1), MAX_DEPTH, True, id="one over the limit"),
        pytest.param("[" * 10_000, MAX_DEPTH, True, id="ten thousand open brackets"),
        pytest.param(nested(10_000), MAX_DEPTH, True, id="ten thousand deep"),
        pytest.param("{" * 40, 64, False, id="unbalanced but within a larger limit"),
    ],
)
def test_nesting_is_counted_outside_strings(text, limit, exceeds):
    assert nesting_exceeds(text, limit) is exceeds


def test_the_default_limit_is_thirty_two_levels():
    assert MAX_DEPTH == 32
    assert nesting_exceeds(nested(32)) is False
    assert nesting_exceeds(nested(33)) is True


def test_ten_thousand_levels_are_refused_fast_without_recursion():
    text = json.dumps({"data": "x"})[:-1] + ', "deep": ' + nested(10_000) + "}"
    with pytest.raises(RecursionError):  # what the standard parser does with it
        json.loads(text)

    started = time.perf_counter()
    assert nesting_exceeds(text) is True
    with pytest.raises(ValidationFailed) as refused:
        loads(text)
    elapsed = time.perf_counter() - started

    assert (refused.value.status, refused.value.code) == (422, "validation_failed")
    assert f"嵌套超过 {MAX_DEPTH} 层" in refused.value.message
    assert elapsed < 0.5, f"{elapsed:.3f} s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{"a": [1, 2.5, "三"], "b": null, "c": true}', {"a": [1, 2.5, "三"], "b": None, "c": True}, id="object"
        ),
        pytest.param(b'{"name": "\xe5\xbc\xa0\xe4\xb8\x89"}', {"name": "张三"}, id="UTF-8 bytes"),
        pytest.param("9" * MAX_NUMBER_CHARS, int("9" * MAX_NUMBER_CHARS), id="24-digit integer"),
        pytest.param("-12345678901234567890123", -12345678901234567890123, id="24-char negative integer"),
        pytest.param("3120.5", 3120.5, id="decimal"),
        pytest.param("1e300", 1e300, id="large but finite"),
        pytest.param('"NaN"', "NaN", id="NaN as a string is text"),
        pytest.param(nested(MAX_DEPTH), json.loads(nested(MAX_DEPTH)), id="32 deep"),
    ],
)
def test_loads_reads_ordinary_json(text, expected):
    assert loads(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "status", "fragment"),
    [
        pytest.param('{"a":', ValidationFailed, 422, "不是有效的 JSON", id="truncated"),
        pytest.param("{'a': 1}", ValidationFailed, 422, "不是有效的 JSON", id="single quotes"),
        pytest.param('{"a": 1} x', ValidationFailed, 422, "不是有效的 JSON", id="trailing text"),
        pytest.param("", ValidationFailed, 422, "不是有效的 JSON", id="empty text"),
        pytest.param("7" * 5000, ValidationFailed, 422, f"数字最多 {MAX_NUMBER_CHARS} 位", id="5000-digit integer"),
        pytest.param('{"n": ' + "7" * 5000 + "}", ValidationFailed, 422, "数字最多", id="5000 digits inside"),
        pytest.param("1" * (MAX_NUMBER_CHARS + 1), ValidationFailed, 422, "数字最多", id="25-digit integer"),
        pytest.param("1234567890.12345678901234", ValidationFailed, 422, "数字最多", id="25-char decimal"),
        pytest.param("1e999", ValidationFailed, 422, "不支持 NaN 和 Infinity", id="1e999 overflows"),
        pytest.param("-1e999", ValidationFailed, 422, "不支持 NaN 和 Infinity", id="-1e999 overflows"),
        pytest.param("NaN", ValidationFailed, 422, "不支持 NaN 和 Infinity", id="NaN"),
        pytest.param('{"amount": Infinity}', ValidationFailed, 422, "不支持 NaN 和 Infinity", id="Infinity"),
        pytest.param("[-Infinity]", ValidationFailed, 422, "不支持 NaN 和 Infinity", id="-Infinity"),
        pytest.param(nested(MAX_DEPTH + 1), ValidationFailed, 422, "嵌套超过 32 层", id="33 deep"),
        pytest.param(b'{"name": "\xff\xfe"}', BadRequest, 400, "UTF-8", id="invalid UTF-8 bytes"),
        pytest.param(b"\xed\xa0\x80", BadRequest, 400, "UTF-8", id="encoded lone surrogate"),
    ],
)
def test_loads_refuses_what_json_cannot_carry_safely(text, error, status, fragment):
    with pytest.raises(PlatformError) as refused:
        loads(text)
    assert type(refused.value) is error
    assert refused.value.status == status
    assert fragment in refused.value.message
    assert refused.value.field == "body"


# ---------------------------------------------------------------- whole proxy events


def event(resource: str = "/v1/events", *, text: str | None = None, content_type: str | None = "application/json"):
    built = api_event("POST", resource, raw_body=text)
    if content_type is None:
        del built["headers"]["Content-Type"]
    else:
        built["headers"]["Content-Type"] = content_type
    return built


JSON = '{"a": 1}'


def binary_event(data: bytes, resource: str = "/v1/events") -> dict:
    built = event(resource)
    built.update(body=base64.b64encode(data).decode(), isBase64Encoded=True)
    return built


def sized(size: int) -> str:
    """A JSON string of exactly ``size`` bytes."""
    return '"' + "a" * (size - 2) + '"'


LIMITS = [
    ("/v1/subscriptions/otp", 8),
    ("/v1/events", 64),
    ("/v1/hotline/hangups", 16),
    ("/v1/contacts/batch", 512),
    ("/v1/staff/{proxy+}", 256),
    ("/v1/carrier/receipts", 5 * 1024),
    ("/v1/staff/session", 64),  # a resource without a limit of its own takes the default
]


@pytest.mark.parametrize(("resource", "kib"), LIMITS)
def test_a_body_of_exactly_the_routes_limit_is_read(resource, kib):
    assert request_bodies.limit_of({"resource": resource}) == kib * KIB
    assert refusal(event(resource, text=sized(kib * KIB))) is None


@pytest.mark.parametrize(("resource", "kib"), LIMITS)
def test_a_body_one_byte_over_the_routes_limit_is_413_naming_the_limit(resource, kib):
    answer = refusal(event(resource, text=sized(kib * KIB + 1)))
    assert answer["statusCode"] == 413
    assert json.loads(answer["body"]) == {
        "error": {"code": "payload_too_large", "message": f"请求体过大：该接口最多接受 {kib} KB"}
    }


def test_the_limit_counts_bytes_not_characters():
    text = json.dumps({"name": "威" * 2800}, ensure_ascii=False)  # about 2,800 characters, 8,400 bytes
    assert len(text) < 8 * KIB < len(text.encode())
    assert refusal(event("/v1/subscriptions/otp", text=text))["statusCode"] == 413


@pytest.mark.parametrize(
    ("answer_event", "status", "code", "fragment"),
    [
        pytest.param(
            event(text=JSON, content_type="multipart/form-data"),
            415,
            "unsupported_media_type",
            "Content-Type: application/json",
            id="multipart without boundary",
        ),
        pytest.param(
            event(text=JSON, content_type="multipart/form-data; boundary=xyz"),
            415,
            "unsupported_media_type",
            "须为 JSON",
            id="multipart",
        ),
        pytest.param(
            event(text=JSON, content_type="text/plain"), 415, "unsupported_media_type", "须为 JSON", id="text/plain"
        ),
        pytest.param(
            event(text=JSON, content_type="application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
            "须为 JSON",
            id="form",
        ),
        pytest.param(
            event("/v1/subscriptions", text=sized(9 * KIB), content_type="text/plain"),
            413,
            "payload_too_large",
            "8 KB",
            id="size is checked before type",
        ),
        pytest.param(binary_event(b'{"a": "\xff"}'), 400, "bad_request", "UTF-8", id="base64 of invalid UTF-8"),
        pytest.param(binary_event(b"\xc3\x28"), 400, "bad_request", "UTF-8", id="base64 of a broken sequence"),
        pytest.param(
            {**event(), "body": "not base64!!", "isBase64Encoded": True},
            400,
            "bad_request",
            "编码无效",
            id="broken base64",
        ),
        pytest.param(
            {**event(), "body": "eyJhIjogMX0", "isBase64Encoded": True},
            400,
            "bad_request",
            "编码无效",
            id="base64 missing padding",
        ),
        pytest.param(event(text="[" * 500 + "]" * 500), 422, "validation_failed", "嵌套超过 32 层", id="500 deep"),
        pytest.param(
            event(text='{"n": ' + "1" * 5000 + "}"), 422, "validation_failed", "数字最多 24 位", id="5000 digits"
        ),
        pytest.param(event(text='{"n": NaN}'), 422, "validation_failed", "NaN", id="NaN"),
        pytest.param(event(text='{"n": 1e999}'), 422, "validation_failed", "Infinity", id="1e999"),
        pytest.param(event(text="{not json"), 422, "validation_failed", "不是有效的 JSON", id="invalid JSON"),
    ],
)
def test_a_refused_body_gets_its_status_in_the_error_shape(answer_event, status, code, fragment):
    answer = refusal(answer_event)

    assert answer["statusCode"] == status
    assert answer["headers"] == {"Content-Type": "application/json; charset=utf-8"}
    assert answer["isBase64Encoded"] is False
    body = json.loads(answer["body"])
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert body["error"]["code"] == code
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize(
    "readable",
    [
        pytest.param(event(text=None), id="no body"),
        pytest.param(event(text=""), id="empty body"),
        pytest.param(event(text="", content_type="text/plain"), id="empty body of another type"),
        pytest.param(binary_event(b""), id="empty base64 body"),
        pytest.param(event(text='{"a": 1}'), id="JSON"),
        pytest.param(event(text='{"a": 1}', content_type="application/json; charset=utf-8"), id="JSON with charset"),
        pytest.param(event(text='{"a": 1}', content_type="Application/JSON"), id="type in capitals"),
        pytest.param(event(text='{"a": 1}', content_type=None), id="no content type"),
        pytest.param(binary_event('{"name": "张三"}'.encode()), id="base64 of UTF-8 JSON"),
        pytest.param(event(text='{"a": ' + nested(MAX_DEPTH - 1) + "}"), id="32 deep"),
    ],
)
def test_a_readable_body_is_let_through(readable):
    assert refusal(readable) is None
    request_bodies.check(readable)  # raises nothing either


def test_the_content_type_header_is_found_whatever_its_case():
    lower = event(text='{"a": 1}', content_type=None)
    lower["headers"]["content-type"] = "text/plain"
    assert refusal(lower)["statusCode"] == 415


def test_check_raises_the_refusal_that_refusal_answers():
    with pytest.raises(PlatformError) as refused:
        request_bodies.check(event("/v1/subscriptions", text=sized(8 * KIB + 1)))
    assert (refused.value.status, refused.value.code) == (413, "payload_too_large")
