"""The API's front door on 127.0.0.1:3000, doing what API Gateway does for the deployed API.

For each request: choose the route the template declares (none: the MISSING_AUTHENTICATION_TOKEN
gateway response), check the API key where the route requires one and hold it to its usage
plan's throttle and quota (THROTTLED, QUOTA_EXCEEDED), call the staff authorizer
as API Gateway calls a TOKEN authorizer, then invoke the route's function with a REST proxy
event and turn its proxy result back into HTTP. API Gateway's own refusals are rendered from
the template's gateway responses, so they are the same ``{"error": ...}`` JSON as deployed.
``/portal/`` serves the staff portal's static files; ``/`` redirects there.

The pure parts (rendering a gateway response, evaluating an authorizer's policy, building the
event, reading the proxy result) are plain functions, tested without a server.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local import logs
from infra.template_model import Route, TemplateModel, _function_of_uri

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
INTEGRATION_TIMEOUT = 29  # seconds: API Gateway's default integration timeout
ACCOUNT_ID = "123456789012"
API_ID = "localapi"

# API Gateway's status for each response type, used where the template sets none.
DEFAULT_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
}

# API Gateway's own messages ($context.error.message) for each response type.
DEFAULT_MESSAGE = {
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "AUTHORIZER_CONFIGURATION_ERROR": "Authorizer configuration error",
    "AUTHORIZER_FAILURE": "Authorizer error",
    "DEFAULT_5XX": "Internal server error",
    "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
    "INVALID_API_KEY": "Forbidden",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "UNAUTHORIZED": "Unauthorized",
}

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "+json", "+xml")


# ------------------------------------------------------------------ pure parts
def gateway_response(responses: dict[str, dict[str, Any]], kind: str, message: str | None = None) -> tuple[int, str]:
    """Status and JSON body of API Gateway's own response of type ``kind``, as the template
    customises it. A type the template leaves alone takes DEFAULT_4XX's or DEFAULT_5XX's
    template and keeps its own status, as API Gateway does."""
    status = DEFAULT_STATUS.get(kind, 500)
    own = responses.get(kind) or {}
    family = responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") or {}
    status = own.get("status") or (family.get("status") if kind.startswith("DEFAULT_") else None) or status
    template = own.get("template") or family.get("template") or '{"message": $context.error.messageString}'
    text = message if message is not None else DEFAULT_MESSAGE.get(kind, "Error")
    body = template.replace("$context.error.messageString", json.dumps(text, ensure_ascii=False))
    body = body.replace("$context.error.message", text).replace("$context.error.responseType", kind)
    return int(status), body


def method_arn(region: str, stage: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}/{stage}/{method.upper()}{path}"


def _matches(patterns: Any, value: str) -> bool:
    items = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(fnmatch.fnmatchcase(value, item) for item in items)


def policy_allows(policy: Any, arn: str) -> bool:
    """Whether an authorizer's IAM policy lets ``execute-api:Invoke`` reach ``arn``: an explicit
    Deny wins, and without a matching Allow the answer is no."""
    if not isinstance(policy, dict):
        raise ValueError("policyDocument is not an object")
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list):
        raise ValueError("policyDocument has no Statement list")
    allowed = False
    for statement in statements:
        if not _matches(statement.get("Action"), "execute-api:Invoke") or not _matches(statement.get("Resource"), arn):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        allowed = allowed or effect == "allow"
    return allowed


def authorizer_context(output: Any) -> dict[str, Any]:
    """``requestContext.authorizer`` from a TOKEN authorizer's output: its context (values are
    strings, numbers or booleans, given to the integration as strings) and principalId."""
    if not isinstance(output, dict) or not isinstance(output.get("principalId"), str):
        raise ValueError("the authorizer's answer has no principalId")
    context = output.get("context") or {}
    if not isinstance(context, dict):
        raise ValueError("the authorizer's context is not an object")
    result: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            result[key] = str(value)
        else:
            raise ValueError(f"the authorizer's context value {key!r} is not a string, number or boolean")
    result["principalId"] = output["principalId"]
    return result


def is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not kind:
        return True
    return any(marker in kind if marker.startswith("+") else kind.startswith(marker) for marker in _TEXT_TYPES)


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # API Gateway keeps the last value in the single-valued map
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


@dataclass
class IncomingRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None


def proxy_event(
    request: IncomingRequest,
    route: Route,
    path_parameters: dict[str, str],
    *,
    stage: str,
    authorizer: dict[str, Any] | None = None,
    api_key: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST (v1) Lambda proxy event for ``request`` on ``route``."""
    now = now or datetime.now(UTC)
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(request.query)
    text = is_text(request.header("Content-Type"))
    body: str | None = None
    if request.body:
        try:
            body = request.body.decode("utf-8") if text else None
        except UnicodeDecodeError:
            text = False
        if body is None:
            body = base64.b64encode(request.body).decode("ascii")
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request.request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "127",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request.request_id,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent"),
                "apiKey": api_key[1] if api_key else None,
                "apiKeyId": api_key[0] if api_key else None,
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "user": None,
                "userArn": None,
            },
            "authorizer": authorizer,
            "domainName": "127.0.0.1",
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": bool(request.body) and not text,
    }


def proxy_result(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body from a Lambda proxy result; ValueError when it is malformed
    (API Gateway answers 502 then)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        raise ValueError("the function's answer is not a proxy result")
    status = int(result["statusCode"])
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    single = {key.lower() for key, _ in headers}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key.lower() not in single:
            headers.extend((str(key), str(value)) for value in values)
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise ValueError("the proxy result's body is not a string")
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return status, headers, data


# ------------------------------------------------------------------ authorizer configuration
@dataclass(frozen=True)
class AuthorizerSpec:
    function: str
    header: str
    validation: re.Pattern[str] | None
    ttl: int


def authorizer_specs(model: TemplateModel) -> dict[str, AuthorizerSpec]:
    """TOKEN authorizers by function logical id, read from the translated API definition."""
    specs: dict[str, AuthorizerSpec] = {}
    for api in model.of_type("AWS::ApiGateway::RestApi").values():
        body = api["Properties"].get("Body", {})
        schemes = body.get("components", {}).get("securitySchemes", {}) or body.get("securityDefinitions", {})
        for scheme in schemes.values():
            spec = scheme.get("x-amazon-apigateway-authorizer")
            if not spec:
                continue
            function = _function_of_uri(spec.get("authorizerUri"))
            if function is None:
                continue
            expression = spec.get("identityValidationExpression")
            specs[function] = AuthorizerSpec(
                function=function,
                header=scheme.get("name", "Authorization"),
                validation=re.compile(expression) if expression else None,
                ttl=int(spec.get("authorizerResultTtlInSeconds", 300)),
            )
    return specs


@dataclass(frozen=True)
class PlanLimits:
    """A usage plan's limits on each of its API keys, as the template sets them."""

    rate: float | None = None  # requests a second, steadily
    burst: int | None = None  # requests at once
    quota: int | None = None  # requests a period
    period: str | None = None  # DAY, WEEK or MONTH (UTC, as API Gateway counts them)

    @classmethod
    def of_plan(cls, plan: dict[str, Any]) -> PlanLimits:
        throttle, quota = plan.get("throttle") or {}, plan.get("quota") or {}
        return cls(
            rate=float(throttle["rateLimit"]) if "rateLimit" in throttle else None,
            burst=int(throttle["burstLimit"]) if "burstLimit" in throttle else None,
            quota=int(quota["limit"]) if "limit" in quota else None,
            period=quota.get("period"),
        )


def quota_period(at: datetime, period: str) -> str:
    """The quota period ``at`` falls in (UTC): its day, ISO week or month."""
    at = at.astimezone(UTC)
    if period == "DAY":
        return at.date().isoformat()
    if period == "WEEK":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at:%Y-%m}"


class UsageMeter:
    """Each API key held to its plan's limits, as API Gateway does: a token bucket (``rate``
    tokens a second, at most ``burst``) and a count of admitted requests in the quota period.
    A throttled request does not count against the quota. The clocks are inputs (tests)."""

    def __init__(self, monotonic: Any = time.monotonic, now: Any = lambda: datetime.now(UTC)) -> None:
        self._monotonic, self._now = monotonic, now
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)
        self._used: dict[tuple[str, str], int] = {}  # (key id, period) -> requests
        self._lock = threading.Lock()

    def admit(self, key_id: str, limits: PlanLimits) -> str | None:
        """None if the request may go on, else the gateway response type refusing it."""
        with self._lock:
            if limits.rate is not None and limits.burst is not None:
                now = self._monotonic()
                tokens, then = self._buckets.get(key_id, (float(limits.burst), now))
                tokens = min(float(limits.burst), tokens + (now - then) * limits.rate)
                if tokens < 1:
                    self._buckets[key_id] = (tokens, now)
                    return "THROTTLED"
                self._buckets[key_id] = (tokens - 1, now)
            if limits.quota is not None and limits.period:
                period = (key_id, quota_period(self._now(), limits.period))
                if self._used.get(period, 0) >= limits.quota:
                    return "QUOTA_EXCEEDED"
                self._used[period] = self._used.get(period, 0) + 1
            return None


# ------------------------------------------------------------------ the server
class Refusal(Exception):
    """API Gateway refuses the request itself with a gateway response."""

    def __init__(self, kind: str, message: str | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.message = message


class Gateway:
    """A WSGI application doing API Gateway's work for the template's routes."""

    def __init__(
        self,
        model: TemplateModel,
        functions: Any,
        api_keys: Any,
        *,
        region: str,
        stage: str,
        portal: Path,
        concurrency: int,
    ) -> None:
        self.model = model
        self.functions = functions
        self.api_keys = api_keys
        self.region = region
        self.stage = stage
        self.portal = portal
        self.concurrency = concurrency
        self.authorizers = authorizer_specs(model)
        self.usage = UsageMeter()
        self._pools: dict[str, Any] = {}
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def _pool(self, logical_id: str) -> Any:
        with self._lock:
            if logical_id not in self._pools:
                self._pools[logical_id] = self.functions.pool(logical_id, self.concurrency)
            return self._pools[logical_id]

    # ---------------------------------------------------------------- WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        from werkzeug.wrappers import Request, Response

        started = time.monotonic()
        request = Request(environ)
        route_path: str | None = None
        if request.path == "/" or request.path == "/portal":
            response = Response(status=302, headers={"Location": "/portal/"})
        elif request.path.startswith("/portal/"):
            response = self._static(request)
        else:
            incoming = IncomingRequest(
                method=request.method,
                path=request.path,
                headers=list(request.headers.items()),
                query=list(request.args.items(multi=True)),
                body=b"" if (request.content_length or 0) > MAX_BODY_BYTES else request.get_data(),
                source_ip=request.remote_addr or "127.0.0.1",
            )
            try:
                if (request.content_length or 0) > MAX_BODY_BYTES:
                    raise Refusal("REQUEST_TOO_LARGE")
                found = self.model.match_route(incoming.method, incoming.path)
                if found is None:
                    raise Refusal("MISSING_AUTHENTICATION_TOKEN")
                route, parameters = found
                route_path = route.path
                status, headers, body = self.handle(incoming, route, parameters)
            except Refusal as refusal:
                status, text = gateway_response(self.model.gateway_responses, refusal.kind, refusal.message)
                headers, body = [("Content-Type", "application/json")], text.encode("utf-8")
            headers.append(("x-amzn-RequestId", incoming.request_id))
            response = Response(body, status=status, headers=headers)
        # The path only, never the query string: the carrier's callback token travels there.
        logs.emit(
            "request",
            method=request.method,
            path=request.path,
            route=route_path,
            status=response.status_code,
            latency_ms=int((time.monotonic() - started) * 1000),
        )
        return response(environ, start_response)

    def _static(self, request: Any) -> Any:
        from werkzeug.exceptions import NotFound
        from werkzeug.utils import send_from_directory

        name = request.path[len("/portal/") :] or "index.html"
        try:
            return send_from_directory(self.portal, name, request.environ)
        except NotFound:
            from werkzeug.wrappers import Response

            status, body = gateway_response(self.model.gateway_responses, "MISSING_AUTHENTICATION_TOKEN")
            return Response(body, status=status, content_type="application/json")

    # ---------------------------------------------------------------- API Gateway's steps
    def handle(
        self, request: IncomingRequest, route: Route, parameters: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        api_key = self._check_api_key(request) if route.api_key_required else None
        authorizer = self._authorize(request, route) if route.authorizer else None
        event = proxy_event(request, route, parameters, stage=self.stage, authorizer=authorizer, api_key=api_key)
        from infra.local.lambdas import InvocationError

        timeout = min(self.model.functions[route.function].timeout, INTEGRATION_TIMEOUT)
        try:
            invocation = self._pool(route.function).invoke(event, timeout)
        except InvocationError as error:
            logs.emit("function_error", "ERROR", function=route.function, error=error.error_type, message=error.message)
            raise Refusal("INTEGRATION_TIMEOUT" if error.error_type == "TimeoutError" else "DEFAULT_5XX") from None
        try:
            status, headers, body = proxy_result(invocation.result)
        except (ValueError, TypeError) as error:
            logs.emit("malformed_proxy_result", "ERROR", function=route.function, message=str(error))
            raise Refusal("DEFAULT_5XX") from None
        return status, headers, body

    def _check_api_key(self, request: IncomingRequest) -> tuple[str, str]:
        value = request.header("X-Api-Key")
        key_id = self.api_keys.lookup(value) if value else None
        if key_id is None:
            raise Refusal("INVALID_API_KEY")
        refused = self.usage.admit(key_id, self.api_keys.limits(key_id))
        if refused:
            raise Refusal(refused)
        return key_id, value or ""

    def _authorize(self, request: IncomingRequest, route: Route) -> dict[str, Any]:
        from infra.local.lambdas import InvocationError

        name = route.authorizer or ""
        spec = self.authorizers.get(name) or AuthorizerSpec(name, "Authorization", None, 0)
        token = request.header(spec.header)
        # API Gateway refuses before calling the authorizer when the identity source is
        # missing or fails the validation expression.
        if not token or (spec.validation and not spec.validation.match(token)):
            raise Refusal("UNAUTHORIZED")
        arn = method_arn(self.region, self.stage, request.method, request.path)
        cached = self._cache.get((spec.function, token)) if spec.ttl else None
        if cached and cached[0] > time.monotonic():
            output = cached[1]
        else:
            event = {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
            try:
                output = self._pool(spec.function).invoke(event).result
            except InvocationError as error:
                if error.message == "Unauthorized":
                    raise Refusal("UNAUTHORIZED") from None
                logs.emit("authorizer_error", "ERROR", function=spec.function, error=error.error_type)
                raise Refusal("AUTHORIZER_FAILURE") from None
            if spec.ttl:
                self._cache[(spec.function, token)] = (time.monotonic() + spec.ttl, output)
        try:
            allowed = policy_allows((output or {}).get("policyDocument"), arn)
            context = authorizer_context(output)
        except (ValueError, AttributeError) as error:
            logs.emit("authorizer_error", "ERROR", function=spec.function, message=str(error))
            raise Refusal("AUTHORIZER_CONFIGURATION_ERROR") from None
        if not allowed:
            raise Refusal("ACCESS_DENIED")
        return context


class ApiKeys:
    """API keys as API Gateway checks them: the key exists in moto's API Gateway, is enabled
    and belongs to one of the platform's usage plans, whose limits it is held to. Answers are
    kept for a few seconds."""

    TTL = 5.0

    def __init__(self, client: Any, usage_plans: Iterable[str]) -> None:
        self.client = client
        self.usage_plans = list(usage_plans)
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._limits: dict[str, PlanLimits] = {}  # key id -> its plan's limits
        self._lock = threading.Lock()

    def lookup(self, value: str) -> str | None:
        with self._lock:
            cached = self._cache.get(value)
            if cached and cached[0] > time.monotonic():
                return cached[1]
        key_id = self._fetch(value)
        with self._lock:
            self._cache[value] = (time.monotonic() + self.TTL, key_id)
        return key_id

    def limits(self, key_id: str) -> PlanLimits:
        """The limits of the plan ``lookup`` found the key in."""
        with self._lock:
            return self._limits.get(key_id, PlanLimits())

    def _fetch(self, value: str) -> str | None:
        keys = self.client.get_api_keys(includeValues=True, limit=500)["items"]
        key = next((k for k in keys if k.get("value") == value and k.get("enabled")), None)
        if key is None:
            return None
        for plan in self.usage_plans:
            members = self.client.get_usage_plan_keys(usagePlanId=plan, limit=500)["items"]
            if any(member["id"] == key["id"] for member in members):
                limits = PlanLimits.of_plan(self.client.get_usage_plan(usagePlanId=plan))
                with self._lock:
                    self._limits[key["id"]] = limits
                return key["id"]
        return None
