"""Staff accounts as the platform sees them, and the pure rules of graded protection (等保 2.0).

Strong passwords, expiry after 90 days (changed before anything else), lockout for 30 minutes
after 5 failed sign-ins, sign-out after 30 idle minutes, and TOTP for permission administrators
(who may do nothing but enrol until they have it). Nothing here reads or writes a table: the
records are ``account_store``'s, the identity service's users ``identity``'s.
"""

from __future__ import annotations

import re
import secrets as _secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.staff.context import OFFICE_NAMES, Office, Role, StaffContext

PASSWORD_MAX_AGE = timedelta(days=90)
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=30)
IDLE_TIMEOUT = timedelta(minutes=30)
# Last activity is written at most this often: enough precision for a 30-minute timeout.
ACTIVITY_WRITE_EVERY = timedelta(seconds=60)
MIN_PASSWORD_LENGTH = 12
PASSWORD_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"  # noqa: S105 - the policy's symbol set
TOTP_ISSUER = "威海社保短信平台"

ACTIVE = "active"
SUSPENDED = "suspended"

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}\Z")  # \Z: no newline after it


# ---------------------------------------------------------------------------- refusals


class AccountLocked(Forbidden):
    code = "account_locked"


class AccountSuspended(Forbidden):
    code = "account_suspended"


class OfficeSuspended(Forbidden):
    code = "office_suspended"


class AccessRefused(Exception):
    """The authorizer must deny this request (the account may not work now)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SessionEnded(Exception):
    """The sign-in this token belongs to has ended (signed out or idle too long): sign in again."""


# ---------------------------------------------------------------------------- times and names


def iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def beijing_text(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def normalize_username(username: str) -> str:
    """Account names are compared in lower case, as the user pool compares them."""
    return (username or "").strip().lower()


def check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValidationFailed("用户名须为3-64位小写字母、数字、点、下划线或连字符，以字母或数字开头", field="username")


# ---------------------------------------------------------------------------- passwords


def password_problems(password: str, username: str = "") -> list[str]:
    """Why ``password`` is too weak (empty when it is strong enough)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"至少{MIN_PASSWORD_LENGTH}位")
    if not re.search(r"[a-z]", password):
        problems.append("须含小写字母")
    if not re.search(r"[A-Z]", password):
        problems.append("须含大写字母")
    if not re.search(r"\d", password):
        problems.append("须含数字")
    if not any(ch in PASSWORD_SYMBOLS for ch in password):
        problems.append("须含符号")
    if username and normalize_username(username) in password.lower():
        problems.append("不能包含用户名")
    return problems


def check_password(password: str, username: str = "", *, field_name: str = "new_password") -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed("密码强度不足：" + "，".join(problems), field=field_name)


def temporary_password() -> str:
    """A random password that meets the pool's policy, to be changed at first sign-in."""
    alphabet = string.ascii_letters + string.digits + "!@#%&*+-=?"
    while True:
        candidate = "".join(_secrets.choice(alphabet) for _ in range(16))
        if not password_problems(candidate):
            return candidate


# ---------------------------------------------------------------------------- the account


@dataclass(frozen=True)
class Account:
    username: str
    real_name: str
    staff_number: str
    office: Office
    roles: frozenset[Role] = field(default_factory=frozenset)
    status: str = ACTIVE
    password_changed_at: datetime | None = None
    must_change_password: bool = False
    failed_signins: int = 0
    locked_until: datetime | None = None
    totp_enabled: bool = False
    suspended_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def account_id(self) -> str:
        return self.username

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def password_expired(self, now: datetime) -> bool:
        if self.password_changed_at is None:
            return True
        return now >= self.password_changed_at + PASSWORD_MAX_AGE

    def restriction(self, now: datetime) -> str:
        """What the account must do before anything else, if anything."""
        if self.must_change_password or self.password_expired(now):
            return "password_change"
        if Role.permission_admin in self.roles and not self.totp_enabled:
            return "totp_enrolment"
        return ""

    def context(self, now: datetime) -> StaffContext:
        return StaffContext(
            account_id=self.account_id,
            username=self.username,
            real_name=self.real_name,
            staff_number=self.staff_number,
            office=self.office,
            roles=self.roles,
            status=self.status,
            restriction=self.restriction(now),
        )


def snapshot(account: Account | None) -> dict[str, Any] | None:
    """What the audit trail keeps of an account before and after a change."""
    if account is None:
        return None
    return {
        "real_name": account.real_name,
        "staff_number": account.staff_number,
        "office": account.office.value,
        "roles": sorted(role.value for role in account.roles),
        "status": account.status,
        "totp_enabled": account.totp_enabled,
        "must_change_password": account.must_change_password,
    }


# ---------------------------------------------------------------------------- who may work


def access_refusal(account: Account | None, office_suspended: bool, now: datetime) -> str | None:
    """Why this account may not work right now (None when it may)."""
    if account is None:
        return "unknown_account"
    if account.status != ACTIVE:
        return "account_suspended"
    if office_suspended:
        return "office_suspended"
    if account.is_locked(now):
        return "account_locked"
    return None


def refuse_sign_in(account: Account, office_suspended: bool, now: datetime) -> None:
    """Raise the clear refusal a suspended or locked account gets when signing in."""
    reason = access_refusal(account, office_suspended, now)
    if reason == "account_suspended":
        raise AccountSuspended("账号已被暂停使用，请联系权限管理员")
    if reason == "office_suspended":
        raise OfficeSuspended(f"{OFFICE_NAMES[account.office]}的平台使用权限已被暂停，请联系权限管理员")
    if reason == "account_locked" and account.locked_until:
        raise AccountLocked(
            f"连续登录失败次数过多，账号已锁定至{beijing_text(account.locked_until)}（北京时间），请届时再试",
            details={"locked_until": iso(account.locked_until)},
        )


def session_idle(last_activity: datetime, now: datetime) -> bool:
    return now - last_activity >= IDLE_TIMEOUT
