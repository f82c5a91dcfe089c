"""The identity service's side of staff accounts: the Cognito user pool behind the records.

Each call here is one Cognito operation, with the refusals it can give turned into the
platform's own (in Chinese, for the staff member who caused them). Where the pool is not the
platform's own (``STAFF_USER_POOL_ID`` empty: the bureau's OIDC service signs staff in), there is
no user to manage and the password and TOTP operations are refused (``require_pool``).
"""

from __future__ import annotations

from typing import Any

from sms_platform import aws
from sms_platform.foundation.errors import BadRequest, Conflict, Forbidden, Unauthenticated, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.staff.account_models import Account

_NOT_FROM_SIGN_IN = "请使用登录时取得的访问令牌（access token）"
_WRONG_CODE = "动态口令不正确，请核对手机时间后重试"


class WrongCredentials(Exception):
    """The pool refused the password or the TOTP code: a failed sign-in, counted toward the lockout."""


def user_pool_id() -> str:
    return settings().staff_user_pool_id


def client_id() -> str:
    return settings().oidc_audience


def _idp() -> Any:
    return aws.client("cognito-idp")


def require_pool() -> str:
    pool = user_pool_id()
    if not pool:
        raise BadRequest("本平台的账号密码由单位统一身份认证服务管理，请在该服务中操作")
    return pool


# ---------------------------------------------------------------------------- users


def create_user(account: Account, password: str, *, permanent: bool) -> None:
    """The pool's user of ``account``, with ``password`` (temporary unless ``permanent``)."""
    pool = user_pool_id()
    try:
        _idp().admin_create_user(
            UserPoolId=pool,
            Username=account.username,
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "name", "Value": account.real_name},
                {"Name": "custom:staff_number", "Value": account.staff_number},
                {"Name": "custom:office", "Value": account.office.value},
            ],
        )
        if permanent:
            _idp().admin_set_user_password(
                UserPoolId=pool, Username=account.username, Password=password, Permanent=True
            )
    except Exception as error:
        kind = aws.error_code(error)
        if kind == "UsernameExistsException":
            raise Conflict("用户名已存在", field="username") from error
        if kind == "InvalidPasswordException":
            raise ValidationFailed("密码不符合密码策略", field="password") from error
        raise


def disable_user(username: str) -> None:
    """No sign-in from now on, and every open one signed out."""
    _idp().admin_disable_user(UserPoolId=user_pool_id(), Username=username)
    _idp().admin_user_global_sign_out(UserPoolId=user_pool_id(), Username=username)


def enable_user(username: str) -> None:
    _idp().admin_enable_user(UserPoolId=user_pool_id(), Username=username)


def set_password(username: str, password: str, *, permanent: bool) -> None:
    """Give the user ``password``; a temporary one must be changed at the next sign-in."""
    _idp().admin_set_user_password(UserPoolId=require_pool(), Username=username, Password=password, Permanent=permanent)


def sign_out_everywhere(username: str) -> None:
    _idp().admin_user_global_sign_out(UserPoolId=require_pool(), Username=username)


def remove_totp(username: str) -> None:
    _idp().admin_set_user_mfa_preference(
        UserPoolId=require_pool(),
        Username=username,
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )


# ---------------------------------------------------------------------------- signing in


def password_auth(username: str, password: str) -> dict[str, Any]:
    """Check the password: tokens, or the challenge to answer next; ``WrongCredentials`` if wrong."""
    try:
        return _idp().initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except Exception as error:
        if aws.error_code(error) in ("NotAuthorizedException", "UserNotFoundException"):
            raise WrongCredentials from error
        raise


# A session the identity service cannot read (InvalidParameterException) is as stale as an
# expired one: the caller signs in again.
_STALE_CHALLENGE = ("NotAuthorizedException", "ResourceNotFoundException", "ExpiredCodeException",
                    "InvalidParameterException")  # fmt: skip


def answer_challenge(challenge: str, session: str, responses: dict[str, str]) -> dict[str, Any]:
    """Answer a sign-in challenge: tokens or the next challenge; ``WrongCredentials`` for a
    wrong TOTP code."""
    try:
        return _idp().respond_to_auth_challenge(
            ClientId=client_id(), ChallengeName=challenge, Session=session, ChallengeResponses=responses
        )
    except Exception as error:
        kind = aws.error_code(error)
        if kind == "CodeMismatchException":
            raise WrongCredentials from error
        if kind == "InvalidPasswordException":
            raise ValidationFailed("新密码不符合密码策略", field="new_password") from error
        if kind in _STALE_CHALLENGE:
            raise Unauthenticated("登录步骤已过期，请重新登录") from error
        raise


def refresh_auth(refresh_token: str) -> dict[str, Any]:
    """New tokens for a refresh token the pool still honours."""
    try:
        return _idp().initiate_auth(
            ClientId=client_id(), AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    except Exception as error:
        if aws.error_code(error) in ("NotAuthorizedException", "ResourceNotFoundException"):
            raise Unauthenticated("登录已失效，请重新登录") from error
        raise


def sign_out(access_token: str) -> None:
    """Sign the token's user out of every session; a token the pool no longer knows is already out."""
    try:
        _idp().global_sign_out(AccessToken=access_token)
    except Exception as error:
        if aws.error_code(error) not in ("NotAuthorizedException", "ResourceNotFoundException"):
            raise


# ---------------------------------------------------------------------------- the user's own security


def change_password(access_token: str, current_password: str, new_password: str) -> None:
    try:
        _idp().change_password(
            PreviousPassword=current_password, ProposedPassword=new_password, AccessToken=access_token
        )
    except Exception as error:
        kind = aws.error_code(error)
        if kind == "NotAuthorizedException":
            raise Forbidden("原密码不正确", field="current_password") from error
        if kind == "InvalidPasswordException":
            raise ValidationFailed("新密码不符合密码策略", field="new_password") from error
        raise


def new_totp_secret(access_token: str) -> str:
    """A secret for the user's authenticator app, not yet required at sign-in."""
    try:
        return _idp().associate_software_token(AccessToken=access_token)["SecretCode"]
    except Exception as error:
        if aws.error_code(error) == "NotAuthorizedException":
            raise BadRequest(_NOT_FROM_SIGN_IN) from error
        raise


def require_totp(access_token: str, code: str) -> None:
    """Check the first code from the authenticator app, then require TOTP at every sign-in."""
    try:
        result = _idp().verify_software_token(AccessToken=access_token, UserCode=code, FriendlyDeviceName="staff")
    except Exception as error:
        kind = aws.error_code(error)
        if kind in ("CodeMismatchException", "EnableSoftwareTokenMFAException"):
            raise ValidationFailed(_WRONG_CODE, field="code") from error
        if kind == "NotAuthorizedException":
            raise BadRequest(_NOT_FROM_SIGN_IN) from error
        raise
    if result.get("Status") != "SUCCESS":
        raise ValidationFailed(_WRONG_CODE, field="code")
    _idp().set_user_mfa_preference(
        AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
