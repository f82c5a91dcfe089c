"""Staff accounts with real tokens from moto's Cognito, and requests made the way API Gateway
makes them: route chosen from template.yaml, the TOKEN authorizer called first where the route
has one (401 when it raises ``Unauthorized``, 403 when its policy denies), then the route's
function with a REST proxy event carrying the authorizer's context.

Fixtures (registered in ``tests/conftest.py``):

- ``staff_clock``: a FixedClock at the real current time (moto stamps tokens with real time),
  to move forward for lockouts, idle timeouts and password expiry.
- ``staff``: a ``StaffDirectory`` on a fresh moto (``aws``). ``staff.account(Role.city_reviewer)``
  creates an account, signs it in through ``POST /v1/staff/session`` (a permission administrator
  also enrols TOTP first) and returns a ``StaffMember`` with its tokens;
  ``staff.call("GET", "/v1/staff/me", token=member.access_token)`` answers an ``ApiAnswer``.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import importlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sms_platform.staff.context import Office, Role

from infra import template_model
from tests.events import api_event

STAGE = "test"
REGION = "us-east-1"
PASSWORD = "Weihai-Staff-2024!"

# Where an account of each role works unless a test says otherwise.
HOME_OFFICE = {
    Role.permission_admin: Office.it,
    Role.city_reviewer: Office.city,
    Role.city_operator: Office.city,
    Role.district_operator: Office.huancui,
    Role.hotline_manager: Office.hotline,
    Role.hotline_agent: Office.hotline,
    Role.it_ops: Office.it,
    Role.auditor: Office.city,
    Role.phone_reveal: Office.city,
}


@dataclass
class ApiAnswer:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def error_code(self) -> str | None:
        body = self.json
        return body.get("error", {}).get("code") if isinstance(body, dict) else None


@dataclass
class StaffMember:
    username: str
    password: str
    office: Office
    roles: frozenset[Role]
    access_token: str = ""
    id_token: str = ""
    refresh_token: str = ""
    totp_secret: str = ""

    @property
    def token(self) -> str:
        return self.access_token


def totp_code(secret: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for ``secret`` (RFC 6238, SHA-1, 30 s)."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    now = time.time() if at is None else at
    if at is None and now % 30 > 28.5:  # do not straddle a step boundary
        time.sleep(30 - now % 30 + 0.1)
        now = time.time()
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(int(now)).decode()  # noqa: S303 - RFC 6238


def expired_token(valid_token: str, *, seconds_ago: int = 60) -> str:
    """``valid_token`` re-issued by the same issuer key (moto's) but expired ``seconds_ago``."""
    import jwt
    from jwt.algorithms import RSAAlgorithm
    from moto.utilities.utils import load_resource

    private = load_resource("cognitoidp/resources/jwks-private.json")
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 3600 - seconds_ago, auth_time=now - 3600 - seconds_ago, exp=now - seconds_ago)
    key = RSAAlgorithm.from_jwk(json.dumps(private))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


@functools.cache
def model() -> template_model.TemplateModel:
    return template_model.load()


@functools.cache
def _validation_expression() -> re.Pattern[str] | None:
    """The authorizer's identity validation expression, from the translated API definition."""
    for api in model().of_type("AWS::ApiGateway::RestApi").values():
        body = api["Properties"].get("Body", {})
        schemes = body.get("components", {}).get("securitySchemes", {}) or body.get("securityDefinitions", {})
        for scheme in schemes.values():
            expression = (scheme.get("x-amazon-apigateway-authorizer") or {}).get("identityValidationExpression")
            if expression:
                return re.compile(expression)
    return None


def gateway_answer(kind: str) -> ApiAnswer:
    """API Gateway's own response of type ``kind`` as the template customises it."""
    response = model().gateway_responses[kind]
    text = response["template"].replace("$context.error.messageString", json.dumps(kind))
    return ApiAnswer(int(response["status"]), text, {"Content-Type": "application/json"})


def _policy_allows(policy: dict[str, Any], arn: str) -> bool:
    allowed = False
    for statement in policy.get("Statement", []):
        resources = statement.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class StaffDirectory:
    def __init__(self, lambda_context: Any) -> None:
        self.lambda_context = lambda_context
        self._numbers = itertools.count(1)

    # ------------------------------------------------------------ requests
    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiAnswer:
        """One request through API Gateway as template.yaml configures it."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        found = model().match_route(method, path)
        if found is None:
            return gateway_answer("MISSING_AUTHENTICATION_TOKEN")
        route, parameters = found
        authorizer = None
        if route.authorizer:
            identity = headers.get("Authorization", "")
            validation = _validation_expression()
            if not identity or (validation and not validation.match(identity)):
                return gateway_answer("UNAUTHORIZED")
            arn = f"arn:aws:execute-api:{REGION}:123456789012:localapi/{STAGE}/{method.upper()}{path}"
            function = model().functions[route.authorizer]
            module = importlib.import_module(function.module)
            try:
                output = getattr(module, function.attribute)(
                    {"type": "TOKEN", "authorizationToken": identity, "methodArn": arn}, self.lambda_context
                )
            except Exception as error:
                if str(error) == "Unauthorized":
                    return gateway_answer("UNAUTHORIZED")
                raise
            if not _policy_allows(output["policyDocument"], arn):
                return gateway_answer("ACCESS_DENIED")
            authorizer = {key: str(value) for key, value in (output.get("context") or {}).items()}
            authorizer["principalId"] = output["principalId"]
        event = api_event(
            method,
            path,
            resource=route.path,
            body=body,
            headers=headers,
            query=query,
            path_parameters=parameters or None,
            authorizer=authorizer,
            stage=STAGE,
        )
        function = model().functions[route.function]
        result = getattr(importlib.import_module(function.module), function.attribute)(event, self.lambda_context)
        return ApiAnswer(int(result["statusCode"]), result.get("body") or "", result.get("headers") or {})

    # ------------------------------------------------------------ accounts
    def account(
        self, *roles: Role, office: Office | None = None, username: str | None = None, sign_in: bool = True
    ) -> StaffMember:
        """A new account holding ``roles`` (in the role's usual office), signed in; a
        permission administrator has enrolled TOTP, so it may work at once."""
        from sms_platform.foundation.clock import get_clock
        from sms_platform.staff import accounts

        number = next(self._numbers)
        roles_set = frozenset(Role(role) for role in roles)
        office = office or (HOME_OFFICE[sorted(roles_set)[0]] if roles_set else Office.city)
        username = username or f"staff{number:03d}"
        accounts.create_account(
            None,
            username=username,
            real_name=f"测试员{number}",
            staff_number=f"T{number:05d}",
            office=office,
            roles=roles_set,
            password=PASSWORD,
            permanent_password=True,
            now=get_clock().now(),
        )
        member = StaffMember(username, PASSWORD, office, roles_set)
        if sign_in:
            self.sign_in(member)
            if Role.permission_admin in roles_set:
                self.enrol_totp(member)
                self.sign_in(member)
        return member

    def sign_in(self, member: StaffMember) -> ApiAnswer:
        """Sign in through the staff API, answering a TOTP challenge if one comes."""
        answer = self.call("POST", "/v1/staff/session", body={"username": member.username, "password": member.password})
        if answer.status == 200 and answer.json["status"] == "challenge":
            if answer.json["challenge"] != "SOFTWARE_TOKEN_MFA":
                return answer
            answer = self.call(
                "POST",
                "/v1/staff/session/challenge",
                body={
                    "username": member.username,
                    "challenge": "SOFTWARE_TOKEN_MFA",
                    "session": answer.json["session"],
                    "code": totp_code(member.totp_secret),
                },
            )
        if answer.status == 200 and answer.json["status"] == "signed_in":
            member.access_token = answer.json["access_token"]
            member.id_token = answer.json["id_token"]
            member.refresh_token = answer.json["refresh_token"]
        return answer

    def enrol_totp(self, member: StaffMember) -> ApiAnswer:
        started = self.call("POST", "/v1/staff/me/totp", token=member.access_token)
        assert started.status == 200, started.text
        member.totp_secret = started.json["secret_code"]
        return self.call(
            "POST",
            "/v1/staff/me/totp/verification",
            token=member.access_token,
            body={"code": totp_code(member.totp_secret)},
        )


@pytest.fixture
def staff_clock():
    from sms_platform.foundation.clock import FixedClock, set_clock

    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    set_clock(clock)
    yield clock
    set_clock(None)


@pytest.fixture
def staff(aws, staff_clock, lambda_context) -> StaffDirectory:
    from sms_platform.staff import account_store, oidc

    account_store.forget_cached()
    oidc.reset()
    yield StaffDirectory(lambda_context)
    account_store.forget_cached()
