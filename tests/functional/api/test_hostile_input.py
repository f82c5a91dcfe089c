"""Hostile and malformed input through the real handlers on moto: each kind is answered with the
contract's status in the error shape ``{"error": {"code", "message"}}``, never a server error,
and changes nothing (every table and queue as it was, no SMS).

- JSON nested hundreds or thousands deep, absurd numbers, oversized bodies, bytes that are not
  UTF-8 and bodies of another media type on the intake routes and the staff API;
- malformed sign-in challenge sessions;
- paging cursors that are garbage, of the wrong shape, or made for another partition;
- a carrier push of ten thousand receipts, answered at once and recorded in queued pieces,
  and a push with one over-long field.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sms_platform.contacts import channels, record_items
from sms_platform.foundation import crypto, paging, request_bodies
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.sending import message_store, outbox
from sms_platform.sending.carrier_pushes import PIECE_ITEMS
from sms_platform.sending.messages import message_id
from sms_platform.sources import trigger_rules
from sms_platform.staff.context import Office, Role

from tests.contacts_support import person
from tests.events import api_event
from tests.functional.dispatch_support import LaneRunner, receipt_for, receipts_event, record_queued_pushes
from tests.staff_calls import member

NOW = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
KEY = "key-hostile-tests"
PERSON = "11010519491231002X"
PHONE = "13700002222"


# ------------------------------------------------------------------ what the caller sees, what changed


def answer_of(response: dict[str, Any]) -> tuple[int, Any]:
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def assert_refused(status: int, body: Any, expected: int, code: str, *fragments: str) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["code"] == code, body
    for fragment in fragments:
        assert fragment in body["error"]["message"], body


def snapshot(*, ignore_sessions: bool = False) -> dict[str, Any]:
    """Every item of every table and every message on every queue (in flight or delayed too).

    ``ignore_sessions`` leaves out the staff sessions' last-activity records, which the
    authorizer touches on every signed-in request, refused or not."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends
    from sms_platform import aws

    dynamodb = aws.client("dynamodb")
    tables: dict[str, list[str]] = {}
    for name in dynamodb.list_tables()["TableNames"]:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                if ignore_sessions and item.get("sk", {}).get("S", "").startswith("session#"):
                    continue
                items.append(json.dumps(item, sort_keys=True, default=lambda raw: base64.b64encode(raw).decode()))
        tables[name] = sorted(items)
    queues = {
        name: sorted(message.body for message in queue._messages)
        for name, queue in sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues.items()
    }
    return {"tables": tables, "queues": queues}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_field(body: dict[str, Any], name: str, raw_value: str) -> str:
    """``body`` as JSON text with one more member whose value is the raw JSON ``raw_value``."""
    return json.dumps(body, ensure_ascii=False)[:-1] + f', "{name}": {raw_value}}}'


# ------------------------------------------------------------------ intake routes behind API keys


def event_body(event_id: str = "evt-hostile-1", data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "pension.paid",
        "occurred_at": "2024-06-01T09:00:00+08:00",
        "subject": {"kind": "person", "id": PERSON},
        "data": data or {"month": "2024年5月", "amount": 3120.5},
    }


BODIES: dict[str, dict[str, Any]] = {
    "/v1/events": event_body(),
    "/v1/subscriptions": {
        "product_id": "prod-1",
        "subscriber": {"kind": "person", "id": PERSON, "name": "张三"},
        "phone": PHONE,
        "otp": "123456",
        "channel_order_id": "app-order-1",
    },
    "/v1/subscriptions/otp": {"phone": PHONE},
    "/v1/subscriptions/lookup": {"subscriber": {"kind": "person", "id": PERSON}},
    "/v1/contacts/batch": {"contacts": [{**person(1), "phones": [{"number": "13900000001"}]}]},
}


def post_intake(route: str, text: str, lambda_context, *, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import channels as subscribe_channels
    import contacts_intake
    import events_intake

    handler = {"/v1/events": events_intake, "/v1/contacts/batch": contacts_intake}.get(route, subscribe_channels)
    event = api_event("POST", route, raw_body=text, headers=headers, api_key_id=KEY, api_key="secret-value")
    assert event["resource"] == route  # the body limit is looked up by the resource
    return answer_of(handler.handler(event, lambda_context))


@pytest.fixture
def intake(aws):
    crypto.reset()
    set_clock(FixedClock(NOW))
    trigger_rules.grant(member("ops-1", Office.it, Role.it_ops), KEY, "pension.paid", now=NOW)
    channels.grant(member("ops-1", Office.it, Role.it_ops), KEY, "kiosk", now=NOW)
    yield aws
    set_clock(None)
    crypto.reset()


@pytest.mark.parametrize(
    ("route", "depth", "status", "fragment"),
    [
        ("/v1/events", 500, 422, "嵌套超过 32 层"),
        ("/v1/events", 10_000, 422, "嵌套超过 32 层"),
        ("/v1/contacts/batch", 500, 422, "嵌套超过 32 层"),
        ("/v1/contacts/batch", 10_000, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions", 500, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions", 3_500, 422, "嵌套超过 32 层"),  # the deepest that fits in 8 KB
        ("/v1/subscriptions", 10_000, 413, "最多接受 8 KB"),  # 20 KB of brackets: too large before too deep
        ("/v1/subscriptions/otp", 500, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions/otp", 3_500, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions/otp", 10_000, 413, "最多接受 8 KB"),
        ("/v1/subscriptions/lookup", 500, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions/lookup", 3_500, 422, "嵌套超过 32 层"),
        ("/v1/subscriptions/lookup", 10_000, 413, "最多接受 8 KB"),
    ],
)
def test_json_nested_deep_is_refused_and_changes_nothing(intake, lambda_context, route, depth, status, fragment):
    before = snapshot()

    answer = post_intake(route, with_field(BODIES[route], "deep", nested(depth)), lambda_context)

    code = "validation_failed" if status == 422 else "payload_too_large"
    assert_refused(*answer, status, code, fragment)
    assert snapshot() == before


def test_the_observable_changes_for_a_body_that_is_read(intake, lambda_context):
    """What the refusals leave unchanged does change when a body is read: an event nested exactly
    32 levels deep is taken and remembered, a contact batch is stored."""
    event_text = with_field(BODIES["/v1/events"], "deep", nested(31))
    assert request_bodies.nesting_exceeds(event_text, 31) and not request_bodies.nesting_exceeds(event_text)
    before = snapshot()["tables"]

    event_answer = post_intake("/v1/events", event_text, lambda_context)
    batch_answer = post_intake("/v1/contacts/batch", json.dumps(BODIES["/v1/contacts/batch"]), lambda_context)

    assert event_answer == (202, {"event_id": "evt-hostile-1", "matched_rules": 0, "messages": 0})
    assert batch_answer[0] == 200 and batch_answer[1]["created"] == 1, batch_answer
    after = snapshot()["tables"]
    for table in ("IDEMPOTENCY_TABLE", "CONTACTS_TABLE"):
        assert len(after[os.environ[table]]) > len(before[os.environ[table]])


def test_an_event_whose_data_weighs_500_kb_is_413_and_changes_nothing(intake, lambda_context):
    text = json.dumps(event_body(data={"month": "2024年5月", "amount": 1, "note": "x" * 500 * 1024}))
    before = snapshot()

    answer = post_intake("/v1/events", text, lambda_context)

    assert_refused(*answer, 413, "payload_too_large", "请求体过大", "最多接受 64 KB")
    assert snapshot() == before


def test_an_event_whose_data_nests_500_deep_is_422_and_changes_nothing(intake, lambda_context):
    text = json.dumps(event_body())
    text = text.replace('"amount": 3120.5}', '"amount": 3120.5, "history": ' + nested(500) + "}")
    assert text.count("[") == 500
    before = snapshot()

    answer = post_intake("/v1/events", text, lambda_context)

    assert_refused(*answer, 422, "validation_failed", "嵌套超过 32 层")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "raw_value", "status", "code", "fragment"),
    [
        ("/v1/events", "7" * 5000, 422, "validation_failed", "数字最多 24 位"),
        ("/v1/contacts/batch", "1e999", 422, "validation_failed", "不支持 NaN 和 Infinity"),
        ("/v1/subscriptions/otp", "NaN", 422, "validation_failed", "不支持 NaN 和 Infinity"),
        ("/v1/subscriptions/lookup", "-Infinity", 422, "validation_failed", "不支持 NaN 和 Infinity"),
    ],
)
def test_numbers_json_cannot_carry_safely_are_refused_and_change_nothing(
    intake, lambda_context, route, raw_value, status, code, fragment
):
    before = snapshot()
    answer = post_intake(route, with_field(BODIES[route], "extra", raw_value), lambda_context)
    assert_refused(*answer, status, code, fragment)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "content_type"),
    [
        *((route, "multipart/form-data") for route in BODIES),
        ("/v1/events", "text/plain"),
        ("/v1/subscriptions/otp", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_of_another_media_type_is_415_and_changes_nothing(intake, lambda_context, route, content_type):
    before = snapshot()
    text = json.dumps(BODIES[route], ensure_ascii=False)
    answer = post_intake(route, text, lambda_context, headers={"Content-Type": content_type})
    assert_refused(*answer, 415, "unsupported_media_type", "须为 JSON", "Content-Type: application/json")
    assert snapshot() == before


def signed_hangup(text: str) -> dict[str, Any]:
    """A hang-up webhook request signed as the 12333 system signs it (see test_hotline_hangups)."""
    import hashlib
    import hmac

    from tests.conftest import TEST_SECRETS

    secret = json.loads(TEST_SECRETS["WebhookSecret"])["hotline_webhook_secret"]
    timestamp = str(int(NOW.timestamp()))
    digest = hmac.new(secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": digest}
    return api_event("POST", "/v1/hotline/hangups", raw_body=text, headers=headers)


@pytest.mark.parametrize(
    ("raw_value", "status", "code", "fragment"),
    [
        pytest.param(nested(500), 422, "validation_failed", "嵌套超过 32 层", id="500 deep"),
        pytest.param("1" * 30, 422, "validation_failed", "数字最多 24 位", id="30-digit number"),
        pytest.param(json.dumps(["x" * 16 * 1024]), 413, "payload_too_large", "最多接受 16 KB", id="17 KB"),
    ],
)
def test_a_signed_hang_up_with_a_hostile_body_is_refused_and_queues_nothing(
    intake, lambda_context, raw_value, status, code, fragment
):
    import hangups

    body = {
        "call_id": "call-0001",
        "caller": "13800001111",
        "agent_id": "A1024",
        "ended_at": "2024-06-01T09:59:40+08:00",
    }
    before = snapshot()

    answer = answer_of(hangups.handler(signed_hangup(with_field(body, "faq_ids", raw_value)), lambda_context))

    assert_refused(*answer, status, code, fragment)
    assert snapshot() == before


# ------------------------------------------------------------------ the staff API


def staff_call_raw(
    staff,
    method: str,
    path: str,
    data: bytes,
    *,
    token: str | None = None,
    binary: bool = False,
    headers: dict[str, str] | None = None,
):
    """``staff.call`` (route, authorizer, function as template.yaml has them) with ``data`` as the
    body's exact bytes; ``binary`` sends them base64-encoded as API Gateway sends a binary body."""
    import tests.staff_fixtures as fixtures

    def raw_event(*args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs["body"] = None
        event = api_event(*args, raw_body=None if binary else data.decode("utf-8"), **kwargs)
        if binary:
            event.update(body=base64.b64encode(data).decode(), isBase64Encoded=True)
        return event

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fixtures, "api_event", raw_event)
        return staff.call(method, path, token=token, headers=headers)


def test_a_sign_in_body_that_is_not_utf8_is_400_and_counts_no_failure(staff):
    from sms_platform.staff import account_store

    member = staff.account(Role.city_operator, sign_in=False)
    data = b'{"username": "' + member.username.encode() + b'", "password": "Weihai-\xff\xfe-2024!"}'
    before = snapshot()

    answer = staff_call_raw(staff, "POST", "/v1/staff/session", data, binary=True)

    assert_refused(answer.status, answer.json, 400, "bad_request", "UTF-8")
    assert snapshot() == before
    assert account_store.get_account(member.username).failed_signins == 0
    # The same wrong password readable as UTF-8 is checked, and counts.
    readable = staff_call_raw(staff, "POST", "/v1/staff/session", data.decode("latin-1").encode(), binary=True)
    assert readable.status == 401 and readable.error_code == "unauthenticated", readable.text
    assert account_store.get_account(member.username).failed_signins == 1


def test_a_staff_body_of_multipart_type_without_boundary_is_415_and_stores_nothing(staff):
    operator = staff.account(Role.city_operator)
    batch = {"contacts": [person(1)]}
    before = snapshot(ignore_sessions=True)

    refused = staff.call(
        "POST",
        "/v1/staff/contacts/batch",
        token=operator.token,
        body=batch,
        headers={"Content-Type": "multipart/form-data"},
    )

    assert_refused(refused.status, refused.json, 415, "unsupported_media_type", "须为 JSON")
    assert snapshot(ignore_sessions=True) == before
    taken = staff.call("POST", "/v1/staff/contacts/batch", token=operator.token, body=batch)
    assert taken.status == 200 and taken.json["results"][0]["status"] == "created"  # the same body as JSON


def test_a_five_thousand_digit_integer_in_a_staff_body_is_422_and_stores_nothing(staff):
    operator = staff.account(Role.city_operator)
    text = with_field({"contacts": [person(1)]}, "version", "9" * 5000)
    before = snapshot(ignore_sessions=True)

    answer = staff_call_raw(staff, "POST", "/v1/staff/contacts/batch", text.encode(), token=operator.token)

    assert_refused(answer.status, answer.json, 422, "validation_failed", "数字最多 24 位")
    assert snapshot(ignore_sessions=True) == before


def test_a_staff_body_nested_10000_deep_is_422_and_stores_nothing(staff):
    operator = staff.account(Role.city_operator)
    text = with_field({"contacts": [person(1)]}, "deep", nested(10_000))
    before = snapshot(ignore_sessions=True)

    answer = staff_call_raw(staff, "POST", "/v1/staff/contacts/batch", text.encode(), token=operator.token)

    assert_refused(answer.status, answer.json, 422, "validation_failed", "嵌套超过 32 层")
    assert snapshot(ignore_sessions=True) == before


def test_a_challenge_session_of_three_characters_is_422_in_the_error_shape(staff):
    member = staff.account(Role.city_operator, sign_in=False)
    before = snapshot()

    answer = staff.call(
        "POST",
        "/v1/staff/session/challenge",
        body={"username": member.username, "challenge": "SOFTWARE_TOKEN_MFA", "session": "abc", "code": "123456"},
    )

    assert_refused(answer.status, answer.json, 422, "validation_failed", "session")
    assert answer.json["error"]["field"].endswith("session")
    assert snapshot() == before


def test_a_challenge_session_the_identity_service_cannot_read_is_401(staff):
    from sms_platform.staff import account_store

    member = staff.account(Role.city_operator, sign_in=False)

    answer = staff.call(
        "POST",
        "/v1/staff/session/challenge",
        body={"username": member.username, "challenge": "SOFTWARE_TOKEN_MFA", "session": "x" * 40, "code": "123456"},
    )

    assert_refused(answer.status, answer.json, 401, "unauthenticated", "登录步骤已过期")
    assert account_store.get_account(member.username).failed_signins == 0


# ------------------------------------------------------------------ paging cursors


def book_of(staff, people: int):
    """A city operator and ``people`` people in Wendeng, stored through the staff API."""
    operator = staff.account(Role.city_operator)
    body = {"contacts": [person(n) for n in range(1, people + 1)]}
    stored = staff.call("POST", "/v1/staff/contacts/batch", token=operator.token, body=body)
    assert stored.status == 200 and stored.json["created"] == people, stored.text
    return staff, operator


@pytest.fixture
def small_book(staff):
    crypto.reset()
    yield book_of(staff, 3)
    crypto.reset()


@pytest.fixture
def district_book(staff):
    crypto.reset()
    yield book_of(staff, 65)
    crypto.reset()


def list_contacts(staff, operator, cursor: str | None = None, *, district: str = "wendeng", kind: str = "person"):
    query = {"kind": kind, "district": district, "limit": "50"}
    if cursor is not None:
        query["cursor"] = cursor
    return staff.call("GET", "/v1/staff/contacts", token=operator.token, query=query)


def low_key(partition: str, *, sk: Any = "rec") -> dict[str, Any]:
    return {"pk": {"S": "c#1"}, "sk": {"S": sk}, "gsi3pk": {"S": partition}, "gsi3sk": {"S": "王\x1fperson-1"}}


WENDENG = record_items.name_partition("wendeng", "person")
RUSHAN = record_items.name_partition("rushan", "person")

MALFORMED_CURSORS = [
    pytest.param("not-a-cursor!", id="not base64"),
    pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(), id="base64 of binary"),
    pytest.param(paging.encode([0, None]), id="a list"),
    pytest.param(paging.encode("c#1"), id="a string"),
    pytest.param(paging.encode({"pk": {"S": "c#1"}}), id="a key of the wrong shape"),
    pytest.param(paging.encode({k: v["S"] for k, v in low_key(WENDENG).items()}), id="a table-form key"),
    pytest.param(paging.encode(low_key(RUSHAN)), id="a key of another district"),
    pytest.param(paging.encode(low_key(record_items.name_partition("wendeng", "unit"))), id="a key of another kind"),
    pytest.param(paging.encode(low_key(WENDENG, sk=5)), id="a number in the key"),
    pytest.param(paging.encode(low_key(WENDENG, sk=["rec"])), id="a list in the key"),
]


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_a_malformed_contacts_cursor_is_400_and_changes_nothing(small_book, cursor):
    staff, operator = small_book
    assert len(list_contacts(staff, operator).json["contacts"]) == 3
    before = snapshot(ignore_sessions=True)

    answer = list_contacts(staff, operator, cursor)

    assert_refused(answer.status, answer.json, 400, "bad_request", "无效的翻页标记")
    assert answer.json["error"]["field"] == "cursor"
    assert snapshot(ignore_sessions=True) == before


def test_a_real_cursor_pages_on_and_is_refused_for_another_district_or_kind(district_book):
    staff, operator = district_book

    first = list_contacts(staff, operator)
    assert first.status == 200, first.text
    assert len(first.json["contacts"]) == 50 and first.json["cursor"]
    second = list_contacts(staff, operator, first.json["cursor"])
    assert second.status == 200, second.text
    assert len(second.json["contacts"]) == 15 and second.json["cursor"] is None
    refs = [c["ref"] for c in first.json["contacts"] + second.json["contacts"]]
    assert len(set(refs)) == 65

    position = paging.decode(first.json["cursor"])
    elsewhere = {**position, "gsi3pk": {"S": position["gsi3pk"]["S"].replace("wendeng", "rushan")}}
    for answer in (
        list_contacts(staff, operator, first.json["cursor"], district="rushan"),  # made for Wendeng
        list_contacts(staff, operator, first.json["cursor"], kind="unit"),  # made for people
        list_contacts(staff, operator, paging.encode(elsewhere)),  # rewritten to reach into Rushan
    ):
        assert_refused(answer.status, answer.json, 400, "bad_request", "无效的翻页标记")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!", id="garbage"),
        pytest.param(paging.encode({"pk": "inbox#2024-04", "sk": "x"}), id="another month"),
        pytest.param(paging.encode({"pk": "inbox#2024-05", "sk": 5}), id="a number"),
        pytest.param(paging.encode({"pk": "inbox#2024-05"}), id="no sort key"),
    ],
)
def test_a_malformed_replies_cursor_is_400(staff, cursor):
    reader = staff.account(Role.city_reviewer)
    answer = staff.call("GET", "/v1/staff/replies", token=reader.token, query={"month": "2024-05", "cursor": cursor})
    assert_refused(answer.status, answer.json, 400, "bad_request", "无效的翻页标记")


AUDIT_WINDOW = {"start": "2024-05-10T08:00:00+08:00", "end": "2024-05-10T18:00:00+08:00"}


@pytest.mark.parametrize(
    ("query", "cursor"),
    [
        pytest.param({"office": "city"}, "not-a-cursor!", id="office: garbage"),
        pytest.param(
            {"office": "city"},
            paging.encode({"pk": "a", "sk": "b", "gsi2pk": "office#it", "gsi2sk": "c"}),
            id="office: another office",
        ),
        pytest.param(
            {"operator": "acct-1"},
            paging.encode({"pk": "a", "sk": "b", "gsi1pk": "operator#acct-2", "gsi1sk": "c"}),
            id="operator: another operator",
        ),
        pytest.param({"operator": "acct-1"}, paging.encode(["a"]), id="operator: a list"),
        pytest.param({}, paging.encode({"d": "2023-01-01", "p": {}}), id="chains: a day outside the range"),
        pytest.param(
            {}, paging.encode({"d": "2024-05-10", "p": {"0": "x"}}), id="chains: a position that is no number"
        ),
        pytest.param({}, paging.encode({"d": "2024-05-10", "p": "x"}), id="chains: positions that are no object"),
        pytest.param(
            {}, paging.encode({"d": "2024-05-10", "p": {"0": float("inf")}}), id="chains: an infinite position"
        ),
        pytest.param({}, paging.encode({"p": {}}), id="chains: no day"),
    ],
)
def test_a_malformed_audit_cursor_is_400(staff, query, cursor):
    auditor = staff.account(Role.auditor)
    answer = staff.call(
        "GET", "/v1/staff/audit/entries", token=auditor.token, query={**AUDIT_WINDOW, **query, "cursor": cursor}
    )
    assert_refused(answer.status, answer.json, 400, "bad_request", "无效的翻页标记")


# ------------------------------------------------------------------ carrier pushes

MORNING = datetime(2024, 5, 6, 10, 0, tzinfo=BEIJING)
KNOWN = 300
PUSHED = 10_000


@pytest.fixture
def lanes(aws, carrier_simulator, lambda_context):
    crypto.reset()
    clock = FixedClock(MORNING)
    set_clock(clock)
    yield LaneRunner(aws, clock, lambda_context)
    set_clock(None)
    crypto.reset()


def push_queue_depth() -> int:
    from sms_platform import aws

    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=os.environ["PUSH_QUEUE_URL"], AttributeNames=["All"])[
        "Attributes"
    ]
    names = (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    return sum(int(attributes[name]) for name in names)


def sent_broadcast(lanes, carrier_simulator, count: int) -> list[Any]:
    """``count`` real messages queued, sent through the lanes and accepted by the carrier."""
    numbers = [f"1380000{i:04d}" for i in range(count)]
    outbox.enqueue(
        "targeted",
        "notice-hostile",
        "city",
        "威海社保",
        template_code="SMS_100001",
        template_id="tpl-1",
        template_version=1,
        parts=1,
        recipients=[(p, None) for p in numbers],
    )
    lanes.run()
    sent = [m for m in carrier_simulator.sent if m.out_id == "notice-hostile"]
    assert sorted(m.phone for m in sent) == numbers
    return sent


def states(sent: list[Any]) -> set[str]:
    return {message_store.get(message_id("notice-hostile", crypto.keyed_hash(m.phone)))["state"] for m in sent}


def padding(count: int) -> list[dict[str, Any]]:
    """Receipts the platform did not send: most name another system's OutId, the rest a source
    id of the platform's shape that has no message."""
    items = []
    for n in range(count):
        out_id = f"other-system/{n:05d}" if n % 100 else f"notice-never-sent-{n:05d}"
        items.append(
            {
                "phone_number": f"139{n:08d}",
                "send_time": "2024-05-06 10:00:00",
                "report_time": "2024-05-06 10:00:05",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "1",
                "biz_id": f"9{n:05d}^0",
                "out_id": out_id,
            }
        )
    return items


def test_a_push_of_ten_thousand_receipts_is_answered_at_once_and_recorded_in_pieces(lanes, carrier_simulator):
    import carrier_callbacks

    sent = sent_broadcast(lanes, carrier_simulator, KNOWN)
    assert states(sent) == {"sent"}
    items = [receipt_for(m) for m in sent] + padding(PUSHED - KNOWN)
    event = receipts_event(items)
    assert len(event["body"].encode()) > 2 * 1024 * 1024  # a push of megabytes, within the route's 5 MB

    started = time.perf_counter()
    response = carrier_callbacks.handler(event, lanes.context)
    elapsed = time.perf_counter() - started
    print(f"carrier push of {PUSHED} receipts answered in {elapsed:.2f} s")

    assert answer_of(response) == (200, {"code": 0, "msg": "成功"})
    assert push_queue_depth() == math.ceil(PUSHED / PIECE_ITEMS) == 50
    pieces = [json.loads(body) for body in snapshot()["queues"][os.environ["PUSH_QUEUE_URL"].rsplit("/", 1)[-1]]]
    assert {piece["kind"] for piece in pieces} == {"receipts"}
    assert sum(len(piece["items"]) for piece in pieces) == PUSHED
    assert max(len(piece["items"]) for piece in pieces) <= PIECE_ITEMS
    assert states(sent) == {"sent"}  # queued, none applied yet
    assert elapsed < 5.0

    assert record_queued_pushes(lanes.context) == 50
    assert push_queue_depth() == 0
    assert states(sent) == {"delivered"}
    unknown = padding(PUSHED - KNOWN)[0]
    assert message_store.get(message_id("notice-never-sent-00000", crypto.keyed_hash(unknown["phone_number"]))) is None
    assert len(carrier_simulator.sent) == KNOWN  # a receipt sends nothing


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("err_msg", "失败" * 200, "err_msg"),
        ("out_id", "x" * 257, "out_id"),
        ("phone_number", "1" * 33, "phone_number"),
        ("sms_size", 10**6, "sms_size"),
    ],
)
def test_a_push_with_one_over_long_field_is_422_and_queues_nothing(lanes, carrier_simulator, field, value, fragment):
    import carrier_callbacks

    sent = sent_broadcast(lanes, carrier_simulator, 5)
    items = [receipt_for(m) for m in sent] + padding(195)
    items[123] = {**items[123], field: value}
    before = snapshot()

    answer = answer_of(carrier_callbacks.handler(receipts_event(items), lanes.context))

    assert_refused(*answer, 422, "validation_failed", "123", fragment)
    assert push_queue_depth() == 0
    assert snapshot() == before
    assert states(sent) == {"sent"}
