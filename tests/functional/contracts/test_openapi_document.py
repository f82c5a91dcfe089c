"""The one OpenAPI document as the staff API serves it (``GET /v1/openapi.json``): every route of
``template.yaml`` is in it, and what the contract routes' real handlers answer to the contract's
examples is declared there, in the documented schema."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import pytest
from sms_platform.contacts import channels
from sms_platform.contracts import examples
from sms_platform.foundation.clock import FixedClock, set_clock
from sms_platform.sources import trigger_rules
from sms_platform.staff.context import Office, Role

from infra import template_model
from tests.contract_schemas import errors
from tests.events import api_event
from tests.staff_calls import member

NOW = datetime.fromisoformat("2024-06-03T09:31:00+08:00")
KEY_ID = "key-pension-system"
# Pages for people, not operations: the portal's files, and the document's own page and files.
PAGES = {"/portal", "/portal/{proxy+}", "/v1/docs", "/v1/docs/{file}", "/v1/openapi.json"}
STAFF_PROXY = "/v1/staff/{proxy+}"  # each staff route behind it is held to the document on its own


@pytest.fixture
def document(aws, lambda_context):
    import staff_api

    answer = staff_api.handler(api_event("GET", "/v1/openapi.json"), lambda_context)
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])


@pytest.fixture
def outside(aws):
    set_clock(FixedClock(NOW))
    ops = member("ops-1", Office.it, Role.it_ops)
    trigger_rules.grant(ops, KEY_ID, "pension.paid", now=NOW)
    channels.grant(ops, KEY_ID, "kiosk", now=NOW)
    yield
    set_clock(None)


def test_every_route_of_the_template_is_in_the_document(document):
    from app import OPENAPI_PATH, route_rights

    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    routes = template_model.load().routes
    missing = {(route.method, route.path) for route in routes if route.path not in PAGES | {STAFF_PROXY}} - documented
    staff = {(route.method, route.path) for route in route_rights() if route.path != OPENAPI_PATH}

    assert missing == set()
    assert staff - documented == set()
    assert any(route.path == STAFF_PROXY for route in routes)


def test_the_document_describes_staff_and_contract_routes_with_their_own_security(document):
    schemes = document["components"]["securitySchemes"]
    assert {"bearer", "apiKey", "hotlineSignature", "hotlineTimestamp", "paymentSignature", "carrierToken"} <= set(
        schemes
    )
    assert document["security"] == [{"bearer": []}]  # staff routes by default
    assert document["paths"]["/v1/events"]["post"]["security"] == [{"apiKey": []}]
    assert document["paths"]["/v1/staff/session"]["post"]["responses"]["200"]
    hangup = document["paths"]["/v1/hotline/hangups"]["post"]
    assert hangup["requestBody"]["content"]["application/json"]["example"] == examples.HANGUP


def _hangup(body):
    raw = json.dumps(body, ensure_ascii=False)
    timestamp = str(int(NOW.timestamp()))
    signature = hmac.new(b"test-hotline-secret", f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}
    return "hangups", api_event("POST", "/v1/hotline/hangups", raw_body=raw, headers=headers)


def _payment(body):
    raw = json.dumps(body, ensure_ascii=False)
    signature = hmac.new(b"test-payment-secret", raw.encode(), hashlib.sha256).hexdigest()
    headers = {"X-Payment-Signature": signature}
    return "channels", api_event("POST", "/v1/payments/notify", raw_body=raw, headers=headers)


def _keyed(module, method, path, body=None):
    return module, api_event(method, path, body=body, api_key_id=KEY_ID, api_key="value")


CALLS = {
    "a hang-up waiting for its agent": (lambda: _hangup(examples.HANGUP_WAITING), 202),
    "a hang-up naming an unknown entry": (lambda: _hangup(examples.HANGUP), 422),
    "an unsigned hang-up": (
        lambda: ("hangups", api_event("POST", "/v1/hotline/hangups", body=examples.HANGUP_WAITING)),
        401,
    ),
    "a business event": (lambda: _keyed("events_intake", "POST", "/v1/events", examples.EVENT), 202),
    "an event of a type not granted": (
        lambda: _keyed("events_intake", "POST", "/v1/events", {**examples.EVENT, "event_type": "medical.paid"}),
        403,
    ),
    "a contact batch": (lambda: _keyed("contacts_intake", "POST", "/v1/contacts/batch", examples.CONTACTS), 200),
    "the products on sale": (lambda: _keyed("channels", "GET", "/v1/subscriptions/products"), 200),
    "a code before its template is chosen": (
        lambda: _keyed("channels", "POST", "/v1/subscriptions/otp", examples.OTP),
        409,
    ),
    "a lookup": (lambda: _keyed("channels", "POST", "/v1/subscriptions/lookup", examples.LOOKUP), 200),
    "a payment for an unknown order": (lambda: _payment(examples.PAYMENT), 404),
    "carrier receipts": (
        lambda: (
            "carrier_callbacks",
            api_event("POST", "/v1/carrier/receipts", body=examples.RECEIPTS, query={"token": "test-callback-token"}),
        ),
        200,
    ),
    "replies with a wrong token": (
        lambda: ("carrier_callbacks", api_event("POST", "/v1/carrier/inbound", body=examples.REPLIES)),
        401,
    ),
}


@pytest.mark.parametrize("case", CALLS)
def test_what_a_contract_route_answers_is_declared_in_the_document(case, document, outside, lambda_context):
    import importlib

    build, expected = CALLS[case]
    module, event = build()
    answer = importlib.import_module(module).handler(event, lambda_context)
    route = template_model.load().match_route(event["httpMethod"], event["path"])
    assert route is not None
    operation = document["paths"][route[0].path][event["httpMethod"].lower()]

    assert answer["statusCode"] == expected, answer["body"]
    declared = operation["responses"].get(str(expected))
    assert declared is not None, f"{expected} is not declared for {event['httpMethod']} {route[0].path}"
    body = json.loads(answer["body"])
    assert errors(document, declared["content"]["application/json"]["schema"], body) == []


def test_a_route_naming_its_subject_in_the_query_declares_its_not_found(document):
    preview = document["paths"]["/v1/staff/follow-ups/preview"]["get"]["responses"]
    assert {"200", "404", "422"} <= set(preview)
    assert preview["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert preview["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/FollowUpPreview"}
