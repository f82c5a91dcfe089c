"""API Gateway TOKEN authorizer of the staff routes.

Verifies the bearer JWT against the issuer's published keys (``sms_platform.staff.oidc``), then the
platform's own account record (``sms_platform.staff.sessions.check_access``) on every request: the
template sets the authorizer's cache to zero, so a suspension or a withdrawn role bites on the
very next request even while the token is still valid.

- No token, a bad or expired token, or a session that ended (signed out, idle 30 minutes):
  ``Unauthorized`` (401): sign in again.
- Unknown, suspended or locked account, or a suspended office: a Deny policy (403).
- Otherwise Allow, with the account in the policy's context for the staff API.
"""

from __future__ import annotations

from typing import Any

from sms_platform.foundation import settings
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.observability import logger, metrics, tracer
from sms_platform.staff import oidc, sessions
from sms_platform.staff.account_models import AccessRefused, SessionEnded

# At import, the cold start: a variable this function needs that is missing or malformed
# fails here, named, not on the first request that reaches it.
settings.require("CONTROL_TABLE", *settings.STAFF_SIGN_IN)


@logger().inject_lambda_context(clear_state=True)
@metrics().log_metrics(capture_cold_start_metric=True)
@tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    scheme, _, token = str(event.get("authorizationToken") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Exception("Unauthorized")  # API Gateway answers 401 to exactly this message
    try:
        claims = oidc.verify(token.strip())
        username = oidc.username_of(claims)
        staff = sessions.check_access(username, oidc.session_of(claims), now=get_clock().now())
    except (oidc.InvalidToken, SessionEnded):
        raise Exception("Unauthorized") from None
    except AccessRefused as refusal:
        return policy(username, "Deny", event["methodArn"], {"reason": refusal.reason})
    return policy(staff.account_id, "Allow", event["methodArn"], staff.to_authorizer_context())


def policy(principal: str, effect: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    """An IAM policy over the whole API stage: rights per route are the staff API's to check,
    so the same answer would hold for any route should a cache ever be turned on."""
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{arn}/{stage}/*"}],
        },
        "context": context,
    }
