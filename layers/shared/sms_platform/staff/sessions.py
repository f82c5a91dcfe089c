"""Sign-in sessions: the authorizer's decision on every request, the idle timeout and sign-out.

A session is one sign-in, named by its tokens' ``origin_jti`` (stable across refreshes). Its
record holds its last activity, written at most once a minute; 30 idle minutes, a sign-out, a
password reset or a TOTP reset end it, and a token of an ended session is refused although the
identity service still finds it valid.
"""

from __future__ import annotations

from datetime import datetime

from sms_platform.staff import account_store
from sms_platform.staff.account_models import (
    ACTIVITY_WRITE_EVERY,
    AccessRefused,
    SessionEnded,
    access_refusal,
    normalize_username,
    session_idle,
)
from sms_platform.staff.context import StaffContext


def check_access(username: str, session_id: str, *, now: datetime) -> StaffContext:
    """The authorizer's decision at ``now``: the staff context, or ``AccessRefused`` (deny) or
    ``SessionEnded`` (sign in again). Records the session's activity."""
    account, suspended = account_store.load_access(username)
    if access_refusal(account, suspended, now) or account is None or account.restriction(now):
        # A refusal or a restriction is never decided on a cached record: the write that lifts
        # it (one's own TOTP enrolment or new password) was made by another function, whose
        # process cannot forget this one's cache, and must count from the very next request.
        account, suspended = account_store.load_access(username, fresh=True)
    reason = access_refusal(account, suspended, now)
    if reason or account is None:
        raise AccessRefused(reason or "unknown_account")
    session = account_store.get_session(account.username, session_id)
    if session is not None:
        if session.ended:
            raise SessionEnded("signed out")
        last = session.last_activity or now
        if session_idle(last, now):
            account_store.end_session(account.username, session_id)
            raise SessionEnded("idle")
        if now - last < ACTIVITY_WRITE_EVERY:
            return account.context(now)
    account_store.put_session(account.username, session_id, now)
    return account.context(now)


def start_session(username: str, session_id: str, now: datetime) -> None:
    """Record a new sign-in at once, so that a reset or suspension can end it before first use."""
    account_store.put_session(username, session_id, now)


def end_session(username: str, session_id: str, *, at: datetime) -> None:
    """Sign-out ``at``: the session's tokens are refused from then on."""
    account_store.put_session(normalize_username(username), session_id, at, ended=True)


def end_sessions(username: str) -> None:
    """End every open sign-in of the account (a password or TOTP reset)."""
    account_store.end_open_sessions(username)
