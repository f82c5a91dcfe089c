"""Paging cursors (``sms_platform.foundation.paging``): what ``encode`` writes comes back from ``decode``;
anything else a caller hands back, or a key of another shape or partition, is 400
``无效的翻页标记`` before a query sees it."""

from __future__ import annotations

import base64
import json

import pytest
from sms_platform.foundation import paging
from sms_platform.foundation.errors import BadRequest

PARTITION = "aud#wendeng#person#all#03"
NAMES = {"pk", "sk", "gsi1pk", "gsi1sk"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def assert_invalid(call, *args, **kwargs) -> None:
    with pytest.raises(BadRequest) as refused:
        call(*args, **kwargs)
    assert (refused.value.status, refused.value.code) == (400, "bad_request")
    assert refused.value.message == "无效的翻页标记"
    assert refused.value.field == "cursor"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"pk": "inbox#2024-05", "sk": "2024-05-06T10:00:00#r1"}, id="table key"),
        pytest.param({"shard": 3, "key": {"pk": {"S": "c#1"}, "gsi1pk": {"S": PARTITION}}}, id="low-level key"),
        pytest.param({"shard": 15, "key": None}, id="no key"),
        pytest.param({"d": "2024-05-10", "p": {"0": 12, "7": 3}}, id="audit position"),
        pytest.param({"name": "威海环翠区", "emoji": "\U0001f600"}, id="non-ASCII"),
        pytest.param(["a", 1, None, True], id="list"),
        pytest.param("text", id="string"),
        pytest.param({"pk": "x" * 2000}, id="long"),
    ],
)
def test_what_encode_writes_decode_reads_back(value):
    cursor = paging.encode(value)
    assert paging.decode(cursor) == value
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor  # safe in a query string


def test_decode_takes_a_cursor_with_its_padding_too():
    value = {"pk": "p", "sk": "s1"}
    assert paging.decode(base64.urlsafe_b64encode(json.dumps(value).encode()).decode()) == value


def test_a_cursor_of_the_maximum_length_is_read_and_one_longer_is_not():
    value = {"k": "a" * 3060}
    cursor = paging.encode(value)
    while len(cursor) < paging.MAX_CURSOR_LENGTH:  # pad the string until the cursor is exactly the maximum
        value["k"] += "a"
        cursor = paging.encode(value)
    assert len(cursor) == paging.MAX_CURSOR_LENGTH
    assert paging.decode(cursor) == value

    assert_invalid(paging.decode, cursor + "A")
    assert_invalid(paging.decode, paging.encode({"k": "a" * 5000}))


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!", id="not base64"),
        pytest.param("%%%%", id="punctuation"),
        pytest.param("a", id="one character"),
        pytest.param("====", id="padding only"),
        pytest.param(b64(b"hello"), id="base64 of text"),
        pytest.param(b64(b'{"pk": "p"'), id="base64 of broken JSON"),
        pytest.param(b64(b"\xff\xfe\xfd\xfc"), id="base64 of binary"),
        pytest.param(b64('{"pk": "p"}'.encode("utf-16-le")[:-1]), id="base64 of broken UTF-16"),
        pytest.param("A" * (paging.MAX_CURSOR_LENGTH + 1), id="too long"),
    ],
)
def test_garbage_is_not_a_cursor(cursor):
    assert_invalid(paging.decode, cursor)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="null"),
        pytest.param("pk", id="string"),
        pytest.param(7, id="number"),
        pytest.param(["pk", "sk", "gsi1pk", "gsi1sk"], id="list of the names"),
        pytest.param({}, id="empty object"),
        pytest.param({"pk": "c#1", "sk": "c#1", "gsi1pk": PARTITION}, id="a name missing"),
        pytest.param({"pk": "c#1", "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1", "x": "y"}, id="an extra name"),
        pytest.param({"PK": "c#1", "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a name in another case"),
        pytest.param(
            {"pk": "c#1", "sk": "c#1", "gsi1pk": "aud#rushan#person#all#03", "gsi1sk": "h#1"}, id="another district"
        ),
        pytest.param(
            {"pk": "c#1", "sk": "c#1", "gsi1pk": "aud#wendeng#person#all#04", "gsi1sk": "h#1"}, id="another shard"
        ),
        pytest.param(
            {"pk": "c#1", "sk": "c#1", "gsi1pk": PARTITION + " ", "gsi1sk": "h#1"}, id="partition with a space"
        ),
        pytest.param({"pk": 1, "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a number"),
        pytest.param({"pk": None, "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a null"),
        pytest.param({"pk": ["c#1"], "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a list"),
        pytest.param({"pk": True, "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a boolean"),
        pytest.param(
            {"pk": {"S": "c#1"}, "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="low-level in a table key"
        ),
        pytest.param({"pk": "c" * 1025, "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="a value over 1024"),
    ],
)
def test_a_table_key_must_have_the_querys_shape_and_partition(value):
    assert_invalid(paging.checked_key, value, names=NAMES, fixed={"gsi1pk": PARTITION})


def test_a_table_key_of_the_querys_shape_and_partition_is_the_start_key():
    key = {"pk": "c#1", "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h" * 1024}
    assert paging.checked_key(key, names=NAMES, fixed={"gsi1pk": PARTITION}) == key
    assert paging.start_key(paging.encode(key), names=NAMES, fixed={"gsi1pk": PARTITION}) == key


def low(pk="c#1", sk="c#1", gsi1pk=PARTITION, gsi1sk="h#1") -> dict:
    return {name: {"S": value} for name, value in {"pk": pk, "sk": sk, "gsi1pk": gsi1pk, "gsi1sk": gsi1sk}.items()}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"pk": "c#1", "sk": "c#1", "gsi1pk": PARTITION, "gsi1sk": "h#1"}, id="plain strings"),
        pytest.param(low(gsi1pk="aud#rushan#person#all#03"), id="another district"),
        pytest.param({**low(), "pk": {"N": "1"}}, id="a number attribute"),
        pytest.param({**low(), "pk": {"S": "c#1", "N": "1"}}, id="two types"),
        pytest.param({**low(), "pk": {"s": "c#1"}}, id="type in lower case"),
        pytest.param({**low(), "pk": {}}, id="no type"),
        pytest.param({**low(), "sk": {"S": 5}}, id="a number under S"),
        pytest.param({**low(), "sk": {"S": ["c#1"]}}, id="a list under S"),
        pytest.param({**low(), "sk": {"S": {"S": "c#1"}}}, id="an attribute under S"),
        pytest.param({**low(), "sk": {"S": None}}, id="null under S"),
        pytest.param({**low(), "gsi1pk": {"S": [PARTITION]}}, id="the partition in a list"),
        pytest.param(low(sk="c" * 1025), id="a value over 1024"),
    ],
)
def test_a_low_level_key_must_hold_strings_of_the_querys_partition(value):
    assert_invalid(paging.checked_key, value, names=NAMES, fixed={"gsi1pk": PARTITION}, low_level=True)


def test_a_low_level_key_of_the_querys_partition_is_the_start_key():
    key = low()
    assert paging.checked_key(key, names=NAMES, fixed={"gsi1pk": PARTITION}, low_level=True) == key


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor):
    assert paging.start_key(cursor, names=NAMES, fixed={"gsi1pk": PARTITION}) is None


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!", id="garbage"),
        pytest.param(paging.encode({"pk": "inbox#2024-04", "sk": "x"}), id="another month"),
        pytest.param(paging.encode({"pk": "inbox#2024-05"}), id="no sort key"),
        pytest.param(paging.encode([{"pk": "inbox#2024-05", "sk": "x"}]), id="in a list"),
    ],
)
def test_start_key_refuses_what_checked_key_refuses(cursor):
    assert_invalid(paging.start_key, cursor, names={"pk", "sk"}, fixed={"pk": "inbox#2024-05"})
