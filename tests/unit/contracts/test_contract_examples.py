"""The contract routes' description against CONTRACTS.md's examples, without AWS: each example
request fits its route's documented schema and passes the checks the route's handler makes, an
obviously wrong one fails both; each example answer fits the documented answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError
from sms_platform.contacts import channels, collection
from sms_platform.contracts import examples, openapi
from sms_platform.contracts.operations import OPERATIONS
from sms_platform.foundation.errors import PlatformError
from sms_platform.sending.messages import CarrierReceipt, CarrierReply
from sms_platform.sending.tencent_pushes import TencentReceipt, TencentReply
from sms_platform.sources import business_events, hotline, subscriptions

from tests.contract_schemas import answer_schema, errors, request_schema

DOCUMENT = openapi.contract_document()
BY_ID = {operation.operation_id: operation for operation in OPERATIONS}


def _contacts(body: Any) -> None:
    """The channel batch's own check of each record, for a key granted only the kiosk channel."""
    if not isinstance(body, dict) or not body.get("contacts"):
        raise PlatformError("contacts 应为非空列表")
    for record in body["contacts"]:
        _, problems = collection.validate(channels.with_default_source(record, ["kiosk"]))
        if problems:
            raise PlatformError(str(problems))


# The check each route's handler makes of a body, before anything reaches a table.
HANDLER_CHECKS: dict[str, Callable[[Any], Any]] = {
    "receive_hangup": lambda body: hotline.parse_hangup(json.dumps(body).encode()),
    "post_event": business_events.parse,
    "request_otp": lambda body: subscriptions.parse(subscriptions.OtpRequest, body),
    "create_subscription": lambda body: subscriptions.parse(subscriptions.OrderRequest, body),
    "lookup_subscriptions": lambda body: subscriptions.parse(subscriptions.LookupRequest, body),
    "notify_payment": lambda body: subscriptions.parse(subscriptions.PaymentNotice, body),
    "push_receipts": TypeAdapter(list[CarrierReceipt]).validate_python,
    "push_replies": TypeAdapter(list[CarrierReply]).validate_python,
    "push_tencent_receipts": TypeAdapter(list[TencentReceipt]).validate_python,
    "push_tencent_replies": TypeAdapter(list[TencentReply]).validate_python,
    "post_contacts": _contacts,
}

RIGHT = [
    ("receive_hangup", examples.HANGUP),
    ("receive_hangup", examples.HANGUP_WAITING),  # faq_ids may be left out
    ("post_event", examples.EVENT),
    ("post_event", {key: value for key, value in examples.EVENT.items() if key != "data"}),
    ("request_otp", examples.OTP),
    ("create_subscription", examples.ORDER),
    ("lookup_subscriptions", examples.LOOKUP),
    ("notify_payment", examples.PAYMENT),
    ("push_receipts", examples.RECEIPTS),
    ("push_replies", examples.REPLIES),
    ("push_tencent_receipts", examples.TENCENT_RECEIPTS),
    ("push_tencent_replies", examples.TENCENT_REPLIES),
    ("post_contacts", examples.CONTACTS),
]

WRONG = [
    ("receive_hangup", {**examples.HANGUP, "faq_ids": ["a", "b", "c", "d"]}),  # more than 3 entries
    ("receive_hangup", {key: value for key, value in examples.HANGUP.items() if key != "caller"}),
    ("post_event", {**examples.EVENT, "event_type": "Pension Paid"}),
    ("post_event", {**examples.EVENT, "subject": {"kind": "citizen", "id": examples.PERSON_ID}}),
    ("request_otp", {"phone": 13800000000}),  # a number, not a string
    ("create_subscription", {**examples.ORDER, "otp": "12345"}),
    ("lookup_subscriptions", {"subscriber": {"kind": "person"}}),
    ("notify_payment", {**examples.PAYMENT, "amount_fen": "300"}),  # money is an integer of fen
    ("push_receipts", [{"phone_number": examples.PHONE}]),  # no success
    ("push_receipts", examples.RECEIPTS[0]),  # not an array
    ("push_replies", [{"content": "TD"}]),  # no phone_number
    ("push_tencent_receipts", [{**examples.TENCENT_RECEIPTS[0], "report_status": "DELIVERED"}]),
    ("push_tencent_receipts", [{key: v for key, v in examples.TENCENT_RECEIPTS[0].items() if key != "sid"}]),
    ("push_tencent_replies", [{"text": "TD"}]),  # no mobile
    ("post_contacts", {"contacts": [{**examples.CONTACTS["contacts"][0], "kind": "citizen"}]}),
]


def _path_and_method(operation_id: str) -> tuple[str, str]:
    operation = BY_ID[operation_id]
    return operation.path, operation.method


def test_every_contract_route_with_a_body_has_examples_both_right_and_wrong():
    with_body = {operation.operation_id for operation in OPERATIONS if operation.request is not None}
    assert {name for name, _ in RIGHT} == with_body == {name for name, _ in WRONG} == set(HANDLER_CHECKS)


@pytest.mark.parametrize(("operation_id", "body"), RIGHT, ids=[name for name, _ in RIGHT])
def test_a_contract_example_fits_the_documented_schema_and_the_handlers_check(operation_id, body):
    path, method = _path_and_method(operation_id)

    assert errors(DOCUMENT, request_schema(DOCUMENT, path, method), body) == []
    HANDLER_CHECKS[operation_id](body)


@pytest.mark.parametrize(("operation_id", "body"), WRONG, ids=[name for name, _ in WRONG])
def test_an_obviously_wrong_body_fails_the_documented_schema_and_the_handlers_check(operation_id, body):
    path, method = _path_and_method(operation_id)

    assert errors(DOCUMENT, request_schema(DOCUMENT, path, method), body) != []
    with pytest.raises((PlatformError, ValidationError)):
        HANDLER_CHECKS[operation_id](body)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.operation_id for operation in OPERATIONS])
def test_each_documented_example_fits_its_own_schema(operation):
    described = DOCUMENT["paths"][operation.path][operation.method]
    status = operation.answer.status
    answer = described["responses"][str(status)]["content"]["application/json"]["example"]

    assert errors(DOCUMENT, answer_schema(DOCUMENT, operation.path, operation.method, status), answer) == []
    if operation.request is not None:
        example = described["requestBody"]["content"]["application/json"]["example"]
        assert errors(DOCUMENT, request_schema(DOCUMENT, operation.path, operation.method), example) == []
    refusal = described["responses"]["422"]["content"]["application/json"] if "422" in described["responses"] else {}
    if "example" in refusal:
        assert errors(DOCUMENT, refusal["schema"], refusal["example"]) == []


@pytest.mark.parametrize(
    ("path", "method", "schemes"),
    [
        ("/v1/hotline/hangups", "post", {"hotlineSignature", "hotlineTimestamp"}),
        ("/v1/events", "post", {"apiKey"}),
        ("/v1/contacts/batch", "post", {"apiKey"}),
        ("/v1/subscriptions/products", "get", {"apiKey"}),
        ("/v1/subscriptions/{subscription_id}", "delete", {"apiKey"}),
        ("/v1/payments/notify", "post", {"paymentSignature"}),
        ("/v1/carrier/receipts", "post", {"carrierToken"}),
        ("/v1/carrier/inbound", "post", {"carrierToken"}),
    ],
)
def test_each_contract_route_names_how_its_caller_proves_who_it_is(path, method, schemes):
    (required,) = DOCUMENT["paths"][path][method]["security"]
    assert set(required) == schemes
    declared = DOCUMENT["components"]["securitySchemes"]
    assert {(declared[name]["in"], declared[name]["name"]) for name in schemes} <= {
        ("header", "X-Api-Key"),
        ("header", "X-Hotline-Signature"),
        ("header", "X-Hotline-Timestamp"),
        ("header", "X-Payment-Signature"),
        ("query", "token"),
    }


def test_every_refusal_is_the_error_shape():
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            refusals = {status: answer for status, answer in operation["responses"].items() if status >= "400"}
            assert refusals, (method, path)
            for answer in refusals.values():
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
