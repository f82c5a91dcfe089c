"""Signing in and out through the platform, so the portal needs no AWS SDK.

``POST /v1/staff/session`` checks the password with the user pool (failures count toward the
lockout), ``POST /v1/staff/session/challenge`` answers the next step (a new password, a TOTP
code), ``POST /v1/staff/session/refresh`` renews tokens while the account may still work, and
``DELETE /v1/staff/session`` signs out. None of them needs a token: the template routes these
paths without the authorizer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.validation_messages import labels
from sms_platform.staff import signing_in
from sms_platform.staff.account_views import SignInOut, SignOutOut
from sms_platform.staff.rights import public

router = Router()


class SignInIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class ChallengeIn(BaseModel):
    model_config = ConfigDict(
        field_title_generator=labels(
            {
                "username": "用户名",
                "challenge": "登录步骤",
                "new_password": "新密码",
                "session": "登录会话",
                "code": "动态口令",
            }
        )
    )

    username: str = Field(min_length=1, max_length=64)
    challenge: Literal["NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"] = Field(description="上一步返回的登录步骤")
    # The identity service's sessions are 20 to 2048 characters (Cognito's own bounds).
    session: str = Field(min_length=20, max_length=2048, description="上一步返回的 session")
    new_password: str | None = Field(default=None, max_length=256, description="首次登录或密码过期时的新密码")
    code: str | None = Field(default=None, pattern=r"^\d{6}$", description="动态口令（6位数字）")


class RefreshIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"refresh_token": "刷新令牌"}))

    refresh_token: str = Field(min_length=1, max_length=8192)


@router.post("/session", summary="登录（用户名和密码）", tags=["登录"])
@public
def sign_in(body: Annotated[SignInIn, Body()]) -> SignInOut:
    return signing_in.sign_in(body.username, body.password, now=get_clock().now())


@router.post("/session/challenge", summary="登录的下一步：设置新密码或输入动态口令", tags=["登录"])
@public
def answer_challenge(body: Annotated[ChallengeIn, Body()]) -> SignInOut:
    return signing_in.answer_challenge(
        body.username,
        body.challenge,
        body.session,
        new_password=body.new_password,
        code=body.code,
        now=get_clock().now(),
    )


@router.post("/session/refresh", summary="续期令牌", tags=["登录"])
@public
def refresh(body: Annotated[RefreshIn, Body()]) -> SignInOut:
    return signing_in.refresh(body.refresh_token, now=get_clock().now())


@router.delete("/session", summary="退出登录", tags=["登录"])
@public
def sign_out() -> SignOutOut:
    return signing_in.sign_out(bearer_token(), now=get_clock().now())


def bearer_token() -> str:
    """The caller's bearer token from the Authorization header ("" when absent)."""
    header = router.current_event.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
