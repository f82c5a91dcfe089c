"""The local platform's API front door: API Gateway's decisions, checked without a server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from werkzeug.test import Client

from infra import template_model
from infra.local import gateway
from infra.local.lambdas import Invocation, InvocationError

MODEL = template_model.load()
BEIJING_ZONE = timezone(timedelta(hours=8))
ARN = "arn:aws:execute-api:us-east-1:123456789012:localapi/local/GET/v1/staff/me"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("MISSING_AUTHENTICATION_TOKEN", 404, "not_found"),
        ("UNAUTHORIZED", 401, "unauthenticated"),
        ("ACCESS_DENIED", 403, "forbidden"),
        ("INVALID_API_KEY", 403, "invalid_api_key"),
        ("REQUEST_TOO_LARGE", 413, "payload_too_large"),
        ("DEFAULT_5XX", 500, "internal_error"),
        # Not customised by the template: the family's body, API Gateway's own status.
        ("AUTHORIZER_FAILURE", 500, "internal_error"),
        ("INTEGRATION_TIMEOUT", 504, "internal_error"),
        ("BAD_REQUEST_BODY", 400, "bad_request"),
    ],
)
def test_gateway_responses_are_the_templates_json_errors(kind, status, code):
    got_status, body = gateway.gateway_response(MODEL.gateway_responses, kind)

    assert got_status == status
    assert json.loads(body)["error"]["code"] == code


def test_the_gateway_message_is_quoted_into_the_template():
    _, body = gateway.gateway_response(MODEL.gateway_responses, "BAD_REQUEST_BODY", 'Invalid "body"')

    assert json.loads(body)["error"]["message"] == 'Invalid "body"'


def _policy(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        (_policy("Allow", ARN), True),
        (_policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:localapi/local/*"), True),
        (_policy("Allow", ["arn:aws:execute-api:*:*:localapi/*/GET/*"]), True),
        (_policy("Allow", "*", action="*"), True),
        (_policy("Deny", ARN), False),
        (_policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:localapi/local/POST/*"), False),
        (_policy("Allow", ARN, action="execute-api:ManageConnections"), False),
        (
            {"Statement": [_policy("Allow", "*")["Statement"][0], _policy("Deny", ARN)["Statement"][0]]},
            False,
        ),
        ({"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN}}, True),
        ({"Statement": []}, False),
    ],
)
def test_an_authorizer_policy_allows_only_what_it_allows_and_deny_wins(policy, allowed):
    assert gateway.policy_allows(policy, ARN) is allowed


@pytest.mark.parametrize("policy", [None, "Allow", {"Version": "2012-10-17"}])
def test_a_malformed_policy_is_a_configuration_error(policy):
    with pytest.raises(ValueError):
        gateway.policy_allows(policy, ARN)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            {"principalId": "u1", "context": {"office": "city", "level": 2, "admin": True}},
            {"office": "city", "level": "2", "admin": "true", "principalId": "u1"},
        ),
        ({"principalId": "u1"}, {"principalId": "u1"}),
    ],
)
def test_the_authorizer_context_reaches_the_function_as_strings(output, expected):
    assert gateway.authorizer_context(output) == expected


@pytest.mark.parametrize(
    "output", [{"context": {}}, {"principalId": "u1", "context": {"roles": ["a"]}}, {"principalId": "u1", "context": 3}]
)
def test_an_authorizer_answer_api_gateway_would_reject_is_refused(output):
    with pytest.raises(ValueError):
        gateway.authorizer_context(output)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        (None, True),
        ("application/json; charset=utf-8", True),
        ("text/csv", True),
        ("application/x-www-form-urlencoded", True),
        ("application/vnd.api+json", True),
        ("application/octet-stream", False),
        ("image/png", False),
    ],
)
def test_which_bodies_travel_as_text(content_type, text):
    assert gateway.is_text(content_type) is text


def _request(**changes: Any) -> gateway.IncomingRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "path": "/v1/subscriptions/sub-1/renewals",
        "headers": [("Content-Type", "application/json"), ("X-Tag", "a"), ("X-Tag", "b")],
        "query": [("page", "1"), ("page", "2")],
        "body": '{"a": "张"}'.encode(),
    }
    values.update(changes)
    return gateway.IncomingRequest(**values)


def test_the_proxy_event_has_api_gateways_shape():
    route, parameters = MODEL.match_route("POST", "/v1/subscriptions/sub-1/renewals")

    event = gateway.proxy_event(_request(), route, parameters, stage="local", api_key=("key-id", "key-value"))

    assert event["resource"] == "/v1/subscriptions/{subscription_id}/renewals"
    assert event["pathParameters"] == {"subscription_id": "sub-1"}
    assert event["headers"]["X-Tag"] == "b" and event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["queryStringParameters"] == {"page": "2"}
    assert event["multiValueQueryStringParameters"] == {"page": ["1", "2"]}
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": "张"}', False)
    context = event["requestContext"]
    assert context["path"] == "/local/v1/subscriptions/sub-1/renewals"
    assert (context["identity"]["apiKeyId"], context["identity"]["apiKey"]) == ("key-id", "key-value")


def test_a_binary_body_travels_base64_encoded():
    route, parameters = MODEL.match_route("POST", "/v1/events")
    data = bytes(range(256))

    event = gateway.proxy_event(
        _request(path="/v1/events", body=data, headers=[("Content-Type", "application/octet-stream")]),
        route,
        parameters,
        stage="local",
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ({"statusCode": 201, "body": "{}", "headers": {"A": "1"}}, 201, [("A", "1")], b"{}"),
        (
            {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}},
            200,
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
            b"",
        ),
        (
            {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True},
            200,
            [],
            b"\x00\x01",
        ),
    ],
)
def test_a_proxy_result_becomes_http(result, status, headers, body):
    assert gateway.proxy_result(result) == (status, headers, body)


@pytest.mark.parametrize("result", [None, "ok", {"body": "{}"}, {"statusCode": 200, "body": {"a": 1}}])
def test_a_malformed_proxy_result_is_refused(result):
    with pytest.raises((ValueError, TypeError)):
        gateway.proxy_result(result)


# ---------------------------------------------------------------- the WSGI application
class FakePool:
    """A function that answers from a script: what the test wants the handler to do."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.events: list[Any] = []

    def invoke(self, event: Any, timeout: float | None = None) -> Invocation:
        self.events.append(event)
        answer = self.answer(event) if callable(self.answer) else self.answer
        if isinstance(answer, InvocationError):
            raise answer
        return Invocation(answer, 1)


class FakeFunctions:
    def __init__(self, pools: dict[str, FakePool]) -> None:
        self.pools = pools

    def pool(self, logical_id: str, size: int) -> FakePool:
        return self.pools[logical_id]


class FakeKeys:
    def __init__(self, limits: gateway.PlanLimits | None = None) -> None:
        self.plan = limits or gateway.PlanLimits()

    def lookup(self, value: str) -> str | None:
        return "key-1" if value == "good-key" else None

    def limits(self, key_id: str) -> gateway.PlanLimits:
        return self.plan


def _allow(event: dict[str, Any]) -> dict[str, Any]:
    token = event["authorizationToken"]
    if token == "Bearer expired":
        return InvocationError("Exception", "Unauthorized")
    effect = "Deny" if token == "Bearer suspended" else "Allow"
    return {
        "principalId": "admin",
        "policyDocument": _policy(effect, event["methodArn"]),
        "context": {"office": "city"},
    }


OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


def _client(
    api_answer: Any, tmp_path=None, limits: gateway.PlanLimits | None = None
) -> tuple[Client, dict[str, FakePool]]:
    pools = {
        "StaffApiFunction": FakePool(api_answer),
        "StaffAuthorizerFunction": FakePool(_allow),
        "SubscribeFunction": FakePool(OK),
    }
    app = gateway.Gateway(
        MODEL,
        FakeFunctions(pools),
        FakeKeys(limits),
        region="us-east-1",
        stage="local",
        portal=tmp_path or template_model.ROOT / "portal",
        concurrency=1,
    )
    return Client(app), pools


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/v1/nothing-here", {}, 404, "not_found"),
        ("PUT", "/v1/openapi.json", {}, 404, "not_found"),
        ("GET", "/v1/staff/me", {}, 401, "unauthenticated"),
        ("GET", "/v1/staff/me", {"Authorization": "Basic abc"}, 401, "unauthenticated"),
        ("GET", "/v1/staff/me", {"Authorization": "Bearer expired"}, 401, "unauthenticated"),
        ("GET", "/v1/staff/me", {"Authorization": "Bearer suspended"}, 403, "forbidden"),
        ("GET", "/v1/subscriptions/products", {}, 403, "invalid_api_key"),
        ("GET", "/v1/subscriptions/products", {"X-Api-Key": "bad-key"}, 403, "invalid_api_key"),
    ],
)
def test_api_gateways_own_refusals_never_reach_the_function(method, path, headers, status, code):
    client, pools = _client(OK)

    answer = client.open(path, method=method, headers=headers)

    assert answer.status_code == status
    assert answer.json["error"]["code"] == code
    assert pools["StaffApiFunction"].events == [] and pools["SubscribeFunction"].events == []


def test_an_allowed_staff_request_reaches_the_api_with_the_authorizers_context():
    client, pools = _client(OK)

    answer = client.get("/v1/staff/accounts?page=2", headers={"Authorization": "Bearer good"})

    assert answer.status_code == 200 and answer.json == {"ok": True}
    (event,) = pools["StaffApiFunction"].events
    assert event["requestContext"]["authorizer"] == {"office": "city", "principalId": "admin"}
    assert event["pathParameters"] == {"proxy": "accounts"}
    assert event["queryStringParameters"] == {"page": "2"}
    (check,) = pools["StaffAuthorizerFunction"].events
    assert check == {
        "type": "TOKEN",
        "authorizationToken": "Bearer good",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:localapi/local/GET/v1/staff/accounts",
    }


def test_a_known_api_key_passes_and_its_id_reaches_the_function():
    client, pools = _client(OK)

    answer = client.get("/v1/subscriptions/products", headers={"X-Api-Key": "good-key"})

    assert answer.status_code == 200
    assert pools["SubscribeFunction"].events[0]["requestContext"]["identity"]["apiKeyId"] == "key-1"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (InvocationError("KeyError", "boom"), 500),
        (InvocationError("TimeoutError", "Task timed out after 29.00 seconds"), 504),
        ({"no": "statusCode"}, 500),
    ],
)
def test_a_failing_function_gets_the_json_5xx(answer, status):
    client, _ = _client(answer)

    response = client.get("/v1/openapi.json")

    assert response.status_code == status
    assert response.json["error"]["code"] == "internal_error"


def test_the_root_redirects_to_the_portal_and_the_portal_is_served(tmp_path):
    (tmp_path / "index.html").write_text("<h1>门户</h1>", encoding="utf-8")
    client, _ = _client(OK, tmp_path)

    root = client.get("/")
    index = client.get("/portal/")
    missing = client.get("/portal/../../etc/passwd")

    assert (root.status_code, root.headers["Location"]) == (302, "/portal/")
    assert index.status_code == 200 and "门户" in index.get_data(as_text=True)
    assert missing.status_code == 404


class Clocks:
    """The meter's two clocks, moved by the test."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.at = datetime(2025, 3, 3, 23, 59, 50, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.at += timedelta(seconds=seconds)


def admitted(meter: gateway.UsageMeter, limits: gateway.PlanLimits, count: int, key: str = "k1") -> list[str | None]:
    return [meter.admit(key, limits) for _ in range(count)]


def test_a_key_may_burst_then_goes_at_its_rate_and_other_keys_have_their_own_bucket():
    clocks = Clocks()
    meter = gateway.UsageMeter(lambda: clocks.seconds, lambda: clocks.at)
    limits = gateway.PlanLimits(rate=2, burst=3)

    assert admitted(meter, limits, 4) == [None, None, None, "THROTTLED"]
    assert meter.admit("k2", limits) is None  # another key's own bucket
    clocks.advance(0.5)  # one token back
    assert admitted(meter, limits, 2) == [None, "THROTTLED"]
    clocks.advance(60)  # refilled, never beyond the burst
    assert admitted(meter, limits, 4) == [None, None, None, "THROTTLED"]


def test_a_quota_counts_admitted_requests_in_its_utc_period_only():
    clocks = Clocks()  # 23:59:50 UTC
    meter = gateway.UsageMeter(lambda: clocks.seconds, lambda: clocks.at)
    limits = gateway.PlanLimits(rate=1, burst=1, quota=2, period="DAY")

    assert admitted(meter, limits, 2) == [None, "THROTTLED"]  # a throttled request uses no quota
    clocks.advance(1)
    assert meter.admit("k1", limits) is None  # the day's second
    clocks.advance(1)
    assert meter.admit("k1", limits) == "QUOTA_EXCEEDED"
    clocks.advance(10)  # the next UTC day: a new quota
    assert meter.admit("k1", limits) is None


@pytest.mark.parametrize(
    ("period", "at", "expected"),
    [
        ("DAY", datetime(2025, 3, 3, 16, 30, tzinfo=UTC), "2025-03-03"),
        ("DAY", datetime(2025, 3, 4, 0, 30, tzinfo=BEIJING_ZONE), "2025-03-03"),  # UTC, not Beijing
        ("WEEK", datetime(2025, 1, 1, tzinfo=UTC), "2025-W01"),
        ("WEEK", datetime(2024, 12, 30, tzinfo=UTC), "2025-W01"),
        ("MONTH", datetime(2025, 3, 31, 23, tzinfo=UTC), "2025-03"),
    ],
)
def test_quota_periods_are_utc_days_iso_weeks_and_months(period, at, expected):
    assert gateway.quota_period(at, period) == expected


def test_no_limits_admit_everything():
    meter = gateway.UsageMeter()
    assert set(admitted(meter, gateway.PlanLimits(), 500)) == {None}


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (gateway.PlanLimits(rate=0.001, burst=2), "rate_limited"),
        (gateway.PlanLimits(quota=2, period="DAY"), "quota_exceeded"),
    ],
)
def test_a_key_over_its_plan_gets_429_from_the_gateway_and_the_function_is_not_called(limits, code):
    client, pools = _client(OK, limits=limits)

    answers = [client.get("/v1/subscriptions/products", headers={"X-Api-Key": "good-key"}) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json["error"]["code"] == code
    assert len(pools["SubscribeFunction"].events) == 2
