"""Signing staff in and out through the identity service, so the portal needs no AWS SDK.

A sign-in checks the password with the pool, counting failures toward the lockout (the fifth in
a row locks the account for 30 minutes), and asks for a new password when the old one has
expired. The pool may answer with a challenge instead of tokens: a new password (first sign-in,
expired or reset password) or a TOTP code (an enrolled authenticator); ``answer_challenge``
answers it. Every sign-in starts a session record (``sessions``) at once, and is audited. Each
step takes the ``now`` of the request and answers with ``account_views.SignInOut``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, NoReturn

from sms_platform.audit import trail
from sms_platform.foundation.errors import Unauthenticated, ValidationFailed
from sms_platform.staff import account_store, identity, oidc, sessions
from sms_platform.staff.account_models import (
    LOCKOUT,
    MAX_FAILED_SIGNINS,
    Account,
    check_password,
    iso,
    refuse_sign_in,
)
from sms_platform.staff.account_views import SignInOut, SignOutOut
from sms_platform.staff.oidc import session_of, username_of

# The identity service's names of the two challenges a sign-in may meet.
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge's name, not a password
SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"  # noqa: S105 - a challenge's name, not a token


def _outcome(account: Account, answer: dict[str, Any], now: datetime) -> SignInOut:
    if "AuthenticationResult" in answer:
        return SignInOut.signed_in(account.username, answer["AuthenticationResult"], account.restriction(now))
    return SignInOut(
        status="challenge", username=account.username, challenge=answer["ChallengeName"], session=answer["Session"]
    )


def _claims(token: str) -> dict[str, Any]:
    """A token's claims, read without checking its signature: it came straight from the pool
    over TLS, and the authorizer verifies it on every request."""
    import jwt  # here, not at the top: the staff API's cold start need not load PyJWT

    return jwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------------------- failures and lockout


def _record_failure(account: Account, now: datetime) -> Account:
    """Count a failed sign-in; the fifth in a row locks the account for 30 minutes."""
    updated = account_store.add_failed_signin(account.username)
    if updated.failed_signins < MAX_FAILED_SIGNINS:
        return updated
    until = now + LOCKOUT
    locked = account_store.lock(account.username, until)
    after = {"locked_until": iso(until)}
    trail.record(None, "account.locked", f"account:{account.username}", None, after, account.office, at=now)
    return locked


def _record_success(account: Account) -> None:
    if account.failed_signins or account.locked_until:
        account_store.clear_failed_signins(account.username)


def _refuse_failure(account: Account, now: datetime) -> NoReturn:
    """A wrong password: counted, audited, and refused with how many tries are left."""
    updated = _record_failure(account, now)
    trail.record(None, "session.sign_in_failed", f"account:{account.username}", None, None, account.office, at=now)
    if updated.is_locked(now):
        refuse_sign_in(updated, False, now)
    left = MAX_FAILED_SIGNINS - updated.failed_signins
    raise Unauthenticated(f"用户名或密码错误，再失败{left}次账号将被锁定30分钟")


def _refuse_wrong_code(account: Account, now: datetime) -> NoReturn:
    """A wrong TOTP code: counted toward the lockout like a wrong password."""
    updated = _record_failure(account, now)
    if updated.is_locked(now):
        refuse_sign_in(updated, False, now)
    raise Unauthenticated("动态口令不正确")


# ---------------------------------------------------------------------------- signing in


def _sign_in_account(username: str, now: datetime) -> Account:
    account = account_store.get_account(username)
    if account is None:
        raise Unauthenticated("用户名或密码错误")
    refuse_sign_in(account, account_store.office_suspended(account.office), now)
    return account


def _signed_in(account: Account, answer: dict[str, Any], now: datetime) -> SignInOut:
    outcome = _outcome(account, answer, now)
    if outcome.status == "signed_in" and outcome.access_token:
        sessions.start_session(account.username, session_of(_claims(outcome.access_token)), now)
        trail.record(account.context(now), "session.sign_in", f"account:{account.username}", None, None, at=now)
    return outcome


def sign_in(username: str, password: str, *, now: datetime) -> SignInOut:
    """Check the password with the pool; count failures toward the lockout; ask for a new
    password when it has expired."""
    identity.require_pool()
    account = _sign_in_account(username, now)
    try:
        answer = identity.password_auth(account.username, password)
    except identity.WrongCredentials:
        _refuse_failure(account, now)
    _record_success(account)
    if answer.get("ChallengeName") != NEW_PASSWORD_REQUIRED and account.password_expired(now):
        # The password is right but too old: make the pool ask for a new one before any token.
        identity.set_password(account.username, password, permanent=False)
        answer = identity.password_auth(account.username, password)
    return _signed_in(account, answer, now)


def _challenge_responses(
    challenge: str, account: Account, new_password: str | None, code: str | None
) -> dict[str, str]:
    """What the pool needs to answer ``challenge``, checked before it is sent."""
    if challenge == NEW_PASSWORD_REQUIRED:
        if not new_password:
            raise ValidationFailed("请输入新密码", field="new_password")
        check_password(new_password, account.username)
        return {"USERNAME": account.username, "NEW_PASSWORD": new_password}
    if challenge == SOFTWARE_TOKEN_MFA:
        if not code:
            raise ValidationFailed("请输入动态口令", field="code")
        return {"USERNAME": account.username, "SOFTWARE_TOKEN_MFA_CODE": code}
    raise ValidationFailed("不支持的登录步骤", field="challenge")


def answer_challenge(
    username: str,
    challenge: str,
    session: str,
    *,
    new_password: str | None = None,
    code: str | None = None,
    now: datetime,
) -> SignInOut:
    """The next step of a sign-in: a new password or a TOTP code; a wrong code counts toward
    the lockout."""
    identity.require_pool()
    account = _sign_in_account(username, now)
    responses = _challenge_responses(challenge, account, new_password, code)
    try:
        answer = identity.answer_challenge(challenge, session, responses)
    except identity.WrongCredentials:
        _refuse_wrong_code(account, now)
    if challenge == NEW_PASSWORD_REQUIRED:
        changed = account_store.save(
            replace(account, password_changed_at=now, must_change_password=False),
            expected_version=account.version,
            at=now,
        )
        trail.record(changed.context(now), "account.password_changed", f"account:{account.username}", None, None,
                     at=now)  # fmt: skip
        account = changed
    _record_success(account)
    return _signed_in(account, answer, now)


def refresh(refresh_token: str, *, now: datetime) -> SignInOut:
    """New tokens for a signed-in user whose account may still work."""
    identity.require_pool()
    tokens = identity.refresh_auth(refresh_token)["AuthenticationResult"]
    account = _sign_in_account(username_of(_claims(tokens["AccessToken"])), now)
    return _outcome(account, {"AuthenticationResult": {"RefreshToken": refresh_token, **tokens}}, now)


def sign_out(access_token: str, *, now: datetime) -> SignOutOut:
    """End the sign-in ``access_token`` belongs to; a token that is not valid has nothing to end."""
    try:
        claims = oidc.verify(access_token)
    except (oidc.InvalidToken, KeyError):
        return SignOutOut(signed_out=True)
    username = username_of(claims)
    sessions.end_session(username, session_of(claims), at=now)
    if identity.user_pool_id():
        identity.sign_out(access_token)
    account = account_store.get_account(username)
    if account is not None:
        trail.record(account.context(now), "session.sign_out", f"account:{username}", None, None, at=now)
    return SignOutOut(signed_out=True)
