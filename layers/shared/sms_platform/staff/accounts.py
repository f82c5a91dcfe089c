"""Staff accounts: the platform's own records, the Cognito users behind them, and sign-in.

Records live in ``CONTROL_TABLE``:

- ``account#<username>`` / ``account``: real name, staff number, office, roles, status,
  password age, failed sign-ins and lockout, whether TOTP is enrolled. ``gsi1`` lists accounts
  by office (``accounts`` / ``<office>#<username>``).
- ``staff_number#<number>`` / ``staff_number``: keeps staff numbers unique.
- ``office#<office>`` / ``suspension``: a suspended office (R18); absent when it may work.
- ``account#<username>`` / ``session#<id>``: one sign-in's last activity, for the idle timeout
  and sign-out; the id is the token's ``origin_jti`` (stable across refreshes).

The account name is the key (lower case, as the user pool compares names), so the authorizer
reads one account and one office record per request; both are cached for a few seconds at most
so that a suspension or a withdrawn role bites at once.

Graded protection (等保 2.0): strong passwords, expiry after 90 days (changed before anything
else), lockout for 30 minutes after 5 failed sign-ins, sign-out after 30 idle minutes, and TOTP
for permission administrators (who may do nothing but enrol until they have it).
"""

from __future__ import annotations

import os
import re
import secrets as _secrets
import string
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sms_platform import aws
from sms_platform.foundation import text_rules
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from sms_platform.staff.context import OFFICE_NAMES, ROLE_NAMES, Office, Role, StaffContext, check_roles

PASSWORD_MAX_AGE = timedelta(days=90)
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=30)
IDLE_TIMEOUT = timedelta(minutes=30)
CACHE_SECONDS = 5.0
# Last activity is written at most this often: enough precision for a 30-minute timeout.
ACTIVITY_WRITE_EVERY = timedelta(seconds=60)
SESSION_RECORD_DAYS = 2
MIN_PASSWORD_LENGTH = 12
PASSWORD_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"  # noqa: S105 - the policy's symbol set
TOTP_ISSUER = "威海社保短信平台"

ACTIVE = "active"
SUSPENDED = "suspended"

_TABLE = "CONTROL_TABLE"
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


# ---------------------------------------------------------------------------- pure rules


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def beijing_text(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


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

    def public(self, now: datetime, *, office_suspended: bool = False) -> dict[str, Any]:
        """The account as staff may see it (no secrets held here anyway)."""
        return {
            "account_id": self.account_id,
            "username": self.username,
            "real_name": self.real_name,
            "staff_number": self.staff_number,
            "office": self.office.value,
            "office_name": OFFICE_NAMES[self.office],
            "roles": sorted(role.value for role in self.roles),
            "role_names": [ROLE_NAMES[role] for role in sorted(self.roles)],
            "status": self.status,
            "suspended_reason": self.suspended_reason,
            "office_suspended": office_suspended,
            "locked_until": _iso(self.locked_until) if self.is_locked(now) and self.locked_until else None,
            "password_expires_at": _iso(self.password_changed_at + PASSWORD_MAX_AGE)
            if self.password_changed_at
            else None,
            "totp_enabled": self.totp_enabled,
            "restriction": self.restriction(now),
            "created_at": _iso(self.created_at) if self.created_at else None,
        }


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
            details={"locked_until": _iso(account.locked_until)},
        )


def session_idle(last_activity: datetime, now: datetime) -> bool:
    return now - last_activity >= IDLE_TIMEOUT


# ---------------------------------------------------------------------------- records


def _table() -> Any:
    return aws.table(_TABLE)


def _account_key(username: str) -> dict[str, str]:
    return {"pk": f"account#{username}", "sk": "account"}


def _office_key(office: Office) -> dict[str, str]:
    return {"pk": f"office#{Office(office).value}", "sk": "suspension"}


def _from_item(item: dict[str, Any]) -> Account:
    return Account(
        username=item["username"],
        real_name=item["real_name"],
        staff_number=item["staff_number"],
        office=Office(item["office"]),
        roles=frozenset(Role(role) for role in item.get("roles", [])),
        status=item.get("status", ACTIVE),
        password_changed_at=_parse(item.get("password_changed_at")),
        must_change_password=bool(item.get("must_change_password", False)),
        failed_signins=int(item.get("failed_signins", 0)),
        locked_until=_parse(item.get("locked_until")),
        totp_enabled=bool(item.get("totp_enabled", False)),
        suspended_reason=item.get("suspended_reason", ""),
        created_at=_parse(item.get("created_at")),
        updated_at=_parse(item.get("updated_at")),
        version=int(item.get("version", 0)),
    )


def _to_item(account: Account) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_account_key(account.username),
        "gsi1pk": "accounts",
        "gsi1sk": f"{account.office.value}#{account.username}",
        "username": account.username,
        "real_name": account.real_name,
        "staff_number": account.staff_number,
        "office": account.office.value,
        "roles": sorted(role.value for role in account.roles),
        "status": account.status,
        "must_change_password": account.must_change_password,
        "failed_signins": account.failed_signins,
        "totp_enabled": account.totp_enabled,
        "suspended_reason": account.suspended_reason,
        "version": account.version,
    }
    for name in ("password_changed_at", "locked_until", "created_at", "updated_at"):
        value = getattr(account, name)
        if value is not None:
            item[name] = _iso(value)
    return item


# A few seconds of cache for the authorizer; any write in this process forgets it at once.
_cache: dict[str, tuple[float, Any, Account | None, bool]] = {}
_cache_lock = threading.Lock()


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def load_access(username: str) -> tuple[Account | None, bool]:
    """The account and whether its office is suspended, read together (cached ≤ 5 s)."""
    username = normalize_username(username)
    table = _table()
    with _cache_lock:
        hit = _cache.get(username)
        # The table object is part of the key: a new moto (tests) or a new table means a miss.
        if hit and hit[1] is table and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[2], hit[3]
    account = get_account(username)
    suspended = account is not None and office_suspended(account.office)
    with _cache_lock:
        _cache[username] = (time.monotonic(), table, account, suspended)
    return account, suspended


def get_account(username: str) -> Account | None:
    item = _table().get_item(Key=_account_key(normalize_username(username)), ConsistentRead=True).get("Item")
    return _from_item(item) if item else None


def require_account(username: str) -> Account:
    account = get_account(username)
    if account is None:
        raise NotFound("没有这个账号")
    return account


def list_accounts(office: Office | None = None) -> list[Account]:
    from boto3.dynamodb.conditions import Key

    condition = Key("gsi1pk").eq("accounts")
    if office is not None:
        condition = condition & Key("gsi1sk").begins_with(f"{Office(office).value}#")
    found: list[Account] = []
    kwargs: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": condition}
    while True:
        page = _table().query(**kwargs)
        found.extend(_from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def office_suspended(office: Office) -> bool:
    return "Item" in _table().get_item(Key=_office_key(office), ConsistentRead=True)


def suspended_offices() -> dict[Office, dict[str, Any]]:
    """Every suspended office with its reason and time (for sends and dispatch to stop theirs)."""
    found = {}
    for office in Office:
        item = _table().get_item(Key=_office_key(office)).get("Item")
        if item:
            found[office] = {"reason": item.get("reason", ""), "suspended_at": item.get("suspended_at")}
    return found


def _save(account: Account, *, expected_version: int) -> Account:
    """Write ``account`` if nobody changed it since it was read at ``expected_version``."""
    from botocore.exceptions import ClientError

    saved = replace(account, version=expected_version + 1, updated_at=get_clock().now())
    try:
        _table().put_item(
            Item=_to_item(saved),
            ConditionExpression="attribute_exists(pk) AND version = :v",
            ExpressionAttributeValues={":v": expected_version},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict("账号刚被他人修改，请刷新后重试") from error
        raise
    finally:
        forget_cached()
    return saved


# ---------------------------------------------------------------------------- audit hook


def audit_action(
    actor: StaffContext | None,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    office: str | None = None,
) -> None:
    """Write one staff action to the audit trail."""
    from sms_platform.audit import trail

    trail.record(actor, action, target, before, after, office)


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


# ---------------------------------------------------------------------------- Cognito


def user_pool_id() -> str:
    return os.environ.get("STAFF_USER_POOL_ID", "")


def client_id() -> str:
    return os.environ.get("OIDC_AUDIENCE", "")


def _idp() -> Any:
    return aws.client("cognito-idp")


def _require_pool() -> str:
    pool = user_pool_id()
    if not pool:
        raise BadRequest("本平台的账号密码由单位统一身份认证服务管理，请在该服务中操作")
    return pool


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


# ---------------------------------------------------------------------------- administration


@dataclass(frozen=True)
class NewAccount:
    account: Account
    temporary_password: str | None


def create_account(
    actor: StaffContext | None,
    *,
    username: str,
    real_name: str,
    staff_number: str,
    office: Office,
    roles: Iterable[Role],
    password: str | None = None,
    permanent_password: bool = False,
) -> NewAccount:
    """A new account record and, with Cognito, its user with a temporary password (shown once)."""
    from botocore.exceptions import ClientError

    username = normalize_username(username)
    # Also checked here, not only by the staff route: the first administrator is seeded by hand.
    text_rules.check_line(real_name, "真实姓名", field="real_name")
    text_rules.check_line(staff_number, "工号", field="staff_number")
    if not _USERNAME.match(username):
        raise ValidationFailed("用户名须为3-64位小写字母、数字、点、下划线或连字符，以字母或数字开头", field="username")
    office = Office(office)
    roles = frozenset(Role(role) for role in roles)
    check_roles(office, roles)
    now = get_clock().now()
    account = Account(
        username=username,
        real_name=real_name.strip(),
        staff_number=staff_number.strip(),
        office=office,
        roles=roles,
        password_changed_at=now,
        must_change_password=not permanent_password,
        created_at=now,
        updated_at=now,
        version=1,
    )
    try:
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": os.environ[_TABLE],
                        "Item": _typed(_to_item(account)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": os.environ[_TABLE],
                        "Item": _typed(
                            {"pk": f"staff_number#{account.staff_number}", "sk": "staff_number", "username": username}
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as error:
        if _error_code(error) == "TransactionCanceledException":
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict("用户名已存在", field="username") from error
            raise Conflict("工号已被其他账号使用", field="staff_number") from error
        raise
    finally:
        forget_cached()

    shown = None
    if user_pool_id():
        password = password or temporary_password()
        try:
            _idp().admin_create_user(
                UserPoolId=user_pool_id(),
                Username=username,
                TemporaryPassword=password,
                MessageAction="SUPPRESS",
                UserAttributes=[
                    {"Name": "name", "Value": account.real_name},
                    {"Name": "custom:staff_number", "Value": account.staff_number},
                    {"Name": "custom:office", "Value": office.value},
                ],
            )
            if permanent_password:
                _idp().admin_set_user_password(
                    UserPoolId=user_pool_id(), Username=username, Password=password, Permanent=True
                )
        except Exception as error:
            _delete_records(account)  # nothing half-made stays behind
            if _error_code(error) == "UsernameExistsException":
                raise Conflict("用户名已存在", field="username") from error
            if _error_code(error) == "InvalidPasswordException":
                raise ValidationFailed("密码不符合密码策略", field="password") from error
            raise
        shown = None if permanent_password else password
    audit_action(actor, "account.create", f"account:{username}", None, snapshot(account), office.value)
    return NewAccount(account, shown)


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in item.items()}


def _delete_records(account: Account) -> None:
    _table().delete_item(Key=_account_key(account.username))
    _table().delete_item(Key={"pk": f"staff_number#{account.staff_number}", "sk": "staff_number"})
    forget_cached()


def seed_permission_admin(username: str, real_name: str, password: str, *, office: Office = Office.it) -> Account:
    """The first permission administrator of a new platform (local runner, first deploy).
    Does nothing when the account already exists."""
    existing = get_account(username)
    if existing is not None:
        return existing
    check_password(password, username, field_name="password")
    created = create_account(
        None,
        username=username,
        real_name=real_name,
        staff_number=f"admin-{normalize_username(username)}",
        office=office,
        roles=[Role.permission_admin],
        password=password,
        permanent_password=True,
    )
    return created.account


def _not_self(actor: StaffContext | None, username: str, message: str) -> None:
    if actor is not None and actor.username == username:
        raise Forbidden(message)


def set_roles(actor: StaffContext | None, username: str, roles: Iterable[Role], *, action: str) -> Account:
    account = require_account(username)
    roles = frozenset(Role(role) for role in roles)
    check_roles(account.office, roles)
    if Role.permission_admin in account.roles and Role.permission_admin not in roles:
        _not_self(actor, account.username, "不能撤销本人的权限管理员角色")
    saved = _save(replace(account, roles=roles), expected_version=account.version)
    audit_action(actor, action, f"account:{username}", snapshot(account), snapshot(saved), account.office.value)
    return saved


def grant_role(actor: StaffContext | None, username: str, role: Role) -> Account:
    account = require_account(username)
    return set_roles(actor, account.username, account.roles | {Role(role)}, action="account.grant_role")


def withdraw_role(actor: StaffContext | None, username: str, role: Role) -> Account:
    account = require_account(username)
    if Role(role) not in account.roles:
        raise Conflict(f"该账号没有{ROLE_NAMES[Role(role)]}角色")
    return set_roles(actor, account.username, account.roles - {Role(role)}, action="account.withdraw_role")


def suspend_account(actor: StaffContext | None, username: str, reason: str) -> Account:
    account = require_account(username)
    _not_self(actor, account.username, "不能暂停本人的账号")
    if account.status == SUSPENDED:
        raise Conflict("账号已处于暂停状态")
    saved = _save(replace(account, status=SUSPENDED, suspended_reason=reason), expected_version=account.version)
    if user_pool_id():
        _idp().admin_disable_user(UserPoolId=user_pool_id(), Username=account.username)
        _idp().admin_user_global_sign_out(UserPoolId=user_pool_id(), Username=account.username)
    audit_action(actor, "account.suspend", f"account:{username}", snapshot(account), snapshot(saved), saved.office)
    return saved


def reinstate_account(actor: StaffContext | None, username: str) -> Account:
    account = require_account(username)
    if account.status == ACTIVE:
        raise Conflict("账号未被暂停")
    saved = _save(replace(account, status=ACTIVE, suspended_reason=""), expected_version=account.version)
    if user_pool_id():
        _idp().admin_enable_user(UserPoolId=user_pool_id(), Username=account.username)
    audit_action(actor, "account.reinstate", f"account:{username}", snapshot(account), snapshot(saved), saved.office)
    return saved


def record_office_suspension(office: Office, reason: str, *, by: str, at: datetime) -> None:
    """Mark ``office`` suspended (its staff are refused from the next request on); 409 when it
    already is. The hold on its messages and its sends are ``sources.office_suspension``'s."""
    from botocore.exceptions import ClientError

    record = {**_office_key(office), "office": office.value, "reason": reason, "suspended_at": _iso(at),
              "suspended_by": by}  # fmt: skip
    try:
        _table().put_item(Item=record, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if _error_code(error) == "ConditionalCheckFailedException":
            raise Conflict(f"{OFFICE_NAMES[office]}已处于暂停状态") from error
        raise
    finally:
        forget_cached()


def remove_office_suspension(office: Office) -> dict[str, Any]:
    """Lift ``office``'s suspension record, returning it; 409 when it is not suspended."""
    from botocore.exceptions import ClientError

    try:
        return _table().delete_item(
            Key=_office_key(office), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
        )["Attributes"]
    except ClientError as error:
        if _error_code(error) == "ConditionalCheckFailedException":
            raise Conflict(f"{OFFICE_NAMES[office]}未被暂停") from error
        raise
    finally:
        forget_cached()


def office_status(
    office: Office, *, suspended: bool, reason: str = "", suspended_at: datetime | str | None = None
) -> dict[str, Any]:
    if isinstance(suspended_at, datetime):
        suspended_at = _iso(suspended_at)
    return {
        "office": Office(office).value,
        "name": OFFICE_NAMES[Office(office)],
        "suspended": suspended,
        "reason": reason,
        "suspended_at": suspended_at,
    }


def account_to_reset(actor: StaffContext | None, username: str) -> Account:
    """The account whose password ``actor`` resets: never its own, which is changed knowing the
    current one (``change_password``); a reset by oneself would only sign oneself out with a
    password nobody else was meant to see."""
    _require_pool()
    account = require_account(username)
    _not_self(actor, account.username, "不能重置本人的密码，请在“账号安全”中修改密码")
    return account


def set_temporary_password(account: Account, password: str) -> Account:
    """Give ``account`` the temporary ``password``: the user must set its own at the next sign-in,
    every open session is signed out and a lockout is lifted (``sources.password_delivery``
    delivers it and audits the reset)."""
    pool = _require_pool()
    _idp().admin_set_user_password(UserPoolId=pool, Username=account.username, Password=password, Permanent=False)
    _idp().admin_user_global_sign_out(UserPoolId=pool, Username=account.username)
    saved = _save(
        replace(account, must_change_password=True, failed_signins=0, locked_until=None),
        expected_version=account.version,
    )
    _end_sessions(account.username)
    return saved


def reset_totp(actor: StaffContext | None, username: str) -> Account:
    """Remove an account's TOTP device (lost or compromised phone): every open session is signed
    out and a permission administrator must enrol a new device before anything else."""
    pool = _require_pool()
    account = require_account(username)
    _not_self(actor, account.username, "不能重置本人的动态口令，请由另一位权限管理员操作")
    if not account.totp_enabled:
        raise Conflict("该账号尚未绑定动态口令，无需重置")
    # Cognito first: a retry after a fault before the record is saved finds the account still
    # marked enrolled and repeats this harmless step.
    _idp().admin_set_user_mfa_preference(
        UserPoolId=pool,
        Username=account.username,
        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
    )
    _idp().admin_user_global_sign_out(UserPoolId=pool, Username=account.username)
    saved = _save(replace(account, totp_enabled=False), expected_version=account.version)
    _end_sessions(account.username)
    audit_action(
        actor, "account.reset_totp", f"account:{account.username}", snapshot(account), snapshot(saved), saved.office
    )
    return saved


# ---------------------------------------------------------------------------- sessions


def _session_key(username: str, session_id: str) -> dict[str, str]:
    return {"pk": f"account#{username}", "sk": f"session#{session_id}"}


def check_access(username: str, session_id: str) -> StaffContext:
    """The authorizer's decision: the staff context, or ``AccessRefused`` (deny) or
    ``SessionEnded`` (sign in again). Records the session's activity."""
    now = get_clock().now()
    account, suspended = load_access(username)
    reason = access_refusal(account, suspended, now)
    if reason or account is None:
        raise AccessRefused(reason or "unknown_account")
    table = _table()
    key = _session_key(account.username, session_id)
    session = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if session is not None:
        if session.get("ended"):
            raise SessionEnded("signed out")
        last = _parse(session["last_activity_at"]) or now
        if session_idle(last, now):
            table.update_item(Key=key, UpdateExpression="SET ended = :t", ExpressionAttributeValues={":t": True})
            raise SessionEnded("idle")
        if now - last < ACTIVITY_WRITE_EVERY:
            return account.context(now)
    table.put_item(
        Item={
            **key,
            "last_activity_at": _iso(now),
            "ended": False,
            "expires_at": int((now + timedelta(days=SESSION_RECORD_DAYS)).timestamp()),
        }
    )
    return account.context(now)


def _start_session(username: str, access_token: str, now: datetime) -> None:
    """Record a new sign-in at once, so that a reset or suspension can end it before first use."""
    import jwt

    from sms_platform.staff.oidc import session_of

    # Straight from the pool, so no second check of the signature is needed to read its id.
    claims = jwt.decode(access_token, options={"verify_signature": False})
    _table().put_item(
        Item={
            **_session_key(username, session_of(claims)),
            "last_activity_at": _iso(now),
            "ended": False,
            "expires_at": int((now + timedelta(days=SESSION_RECORD_DAYS)).timestamp()),
        }
    )


def end_session(username: str, session_id: str) -> None:
    now = get_clock().now()
    _table().put_item(
        Item={
            **_session_key(normalize_username(username), session_id),
            "last_activity_at": _iso(now),
            "ended": True,
            "expires_at": int((now + timedelta(days=SESSION_RECORD_DAYS)).timestamp()),
        }
    )


def _end_sessions(username: str) -> None:
    from boto3.dynamodb.conditions import Key

    found = _table().query(
        KeyConditionExpression=Key("pk").eq(f"account#{username}") & Key("sk").begins_with("session#")
    )
    for item in found.get("Items", []):
        if not item.get("ended"):
            _table().update_item(
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET ended = :t",
                ExpressionAttributeValues={":t": True},
            )


# ---------------------------------------------------------------------------- signing in


@dataclass(frozen=True)
class SignIn:
    """Either tokens (``status == "signed_in"``) or a challenge to answer next."""

    status: str
    username: str
    challenge: str | None = None
    session: str | None = None
    access_token: str | None = None
    id_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | None = None
    restriction: str = ""


def _outcome(account: Account, answer: dict[str, Any], now: datetime) -> SignIn:
    if "AuthenticationResult" in answer:
        tokens = answer["AuthenticationResult"]
        return SignIn(
            status="signed_in",
            username=account.username,
            access_token=tokens["AccessToken"],
            id_token=tokens.get("IdToken"),
            refresh_token=tokens.get("RefreshToken"),
            expires_in=int(tokens.get("ExpiresIn", 0)),
            restriction=account.restriction(now),
        )
    return SignIn(
        status="challenge", username=account.username, challenge=answer["ChallengeName"], session=answer["Session"]
    )


def _record_failure(account: Account, now: datetime) -> Account:
    """Count a failed sign-in; the fifth in a row locks the account for 30 minutes."""
    updated = _table().update_item(
        Key=_account_key(account.username),
        UpdateExpression="ADD failed_signins :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    forget_cached()
    if int(updated["failed_signins"]) < MAX_FAILED_SIGNINS:
        return _from_item(updated)
    until = now + LOCKOUT
    locked = _table().update_item(
        Key=_account_key(account.username),
        UpdateExpression="SET locked_until = :until, failed_signins = :zero",
        ExpressionAttributeValues={":until": _iso(until), ":zero": 0},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    forget_cached()
    audit_action(
        None, "account.locked", f"account:{account.username}", None, {"locked_until": _iso(until)}, account.office
    )
    return _from_item(locked)


def _record_success(account: Account) -> None:
    if account.failed_signins or account.locked_until:
        _table().update_item(
            Key=_account_key(account.username),
            UpdateExpression="SET failed_signins = :zero REMOVE locked_until",
            ExpressionAttributeValues={":zero": 0},
        )
        forget_cached()


def _refuse_failure(account: Account, now: datetime) -> None:
    updated = _record_failure(account, now)
    audit_action(None, "session.sign_in_failed", f"account:{account.username}", None, None, account.office)
    if updated.is_locked(now):
        refuse_sign_in(updated, False, now)
    left = MAX_FAILED_SIGNINS - updated.failed_signins
    raise Unauthenticated(f"用户名或密码错误，再失败{left}次账号将被锁定30分钟")


def _sign_in_account(username: str) -> tuple[Account, datetime]:
    now = get_clock().now()
    account = get_account(username)
    if account is None:
        raise Unauthenticated("用户名或密码错误")
    refuse_sign_in(account, office_suspended(account.office), now)
    return account, now


def sign_in(username: str, password: str) -> SignIn:
    """Check the password with Cognito; count failures toward the lockout; ask for a new
    password when it has expired."""
    pool = _require_pool()
    account, now = _sign_in_account(username)
    idp = _idp()
    try:
        answer = idp.initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": account.username, "PASSWORD": password},
        )
    except Exception as error:
        if _error_code(error) in ("NotAuthorizedException", "UserNotFoundException"):
            _refuse_failure(account, now)
        raise
    _record_success(account)
    if answer.get("ChallengeName") != "NEW_PASSWORD_REQUIRED" and account.password_expired(now):
        # The password is right but too old: make Cognito ask for a new one before any token.
        idp.admin_set_user_password(UserPoolId=pool, Username=account.username, Password=password, Permanent=False)
        answer = idp.initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": account.username, "PASSWORD": password},
        )
    return _signed_in(account, answer, now)


def answer_challenge(
    username: str, challenge: str, session: str, *, new_password: str | None = None, code: str | None = None
) -> SignIn:
    _require_pool()
    account, now = _sign_in_account(username)
    responses = {"USERNAME": account.username}
    if challenge == "NEW_PASSWORD_REQUIRED":
        if not new_password:
            raise ValidationFailed("请输入新密码", field="new_password")
        check_password(new_password, account.username)
        responses["NEW_PASSWORD"] = new_password
    elif challenge == "SOFTWARE_TOKEN_MFA":
        if not code:
            raise ValidationFailed("请输入动态口令", field="code")
        responses["SOFTWARE_TOKEN_MFA_CODE"] = code
    else:
        raise ValidationFailed("不支持的登录步骤", field="challenge")
    try:
        answer = _idp().respond_to_auth_challenge(
            ClientId=client_id(), ChallengeName=challenge, Session=session, ChallengeResponses=responses
        )
    except Exception as error:
        kind = _error_code(error)
        if kind == "CodeMismatchException":
            updated = _record_failure(account, now)
            if updated.is_locked(now):
                refuse_sign_in(updated, False, now)
            raise Unauthenticated("动态口令不正确") from error
        if kind == "InvalidPasswordException":
            raise ValidationFailed("新密码不符合密码策略", field="new_password") from error
        # A session the identity service cannot read (InvalidParameterException) is as stale as
        # an expired one: the caller signs in again.
        if kind in ("NotAuthorizedException", "ResourceNotFoundException", "ExpiredCodeException",
                    "InvalidParameterException"):  # fmt: skip
            raise Unauthenticated("登录步骤已过期，请重新登录") from error
        raise
    if challenge == "NEW_PASSWORD_REQUIRED":
        changed = _save(
            replace(account, password_changed_at=now, must_change_password=False), expected_version=account.version
        )
        audit_action(_actor(changed), "account.password_changed", f"account:{account.username}", None, None)
        account = changed
    _record_success(account)
    return _signed_in(account, answer, now)


def _signed_in(account: Account, answer: dict[str, Any], now: datetime) -> SignIn:
    outcome = _outcome(account, answer, now)
    if outcome.status == "signed_in" and outcome.access_token:
        _start_session(account.username, outcome.access_token, now)
        audit_action(_actor(account), "session.sign_in", f"account:{account.username}", None, None)
    return outcome


def refresh(refresh_token: str) -> SignIn:
    """New tokens for a signed-in user whose account may still work."""
    import jwt

    _require_pool()
    try:
        answer = _idp().initiate_auth(
            ClientId=client_id(), AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )
    except Exception as error:
        if _error_code(error) in ("NotAuthorizedException", "ResourceNotFoundException"):
            raise Unauthenticated("登录已失效，请重新登录") from error
        raise
    # Straight from the pool over TLS, so the claims need no second check here; the
    # authorizer verifies the token on every request.
    claims = jwt.decode(answer["AuthenticationResult"]["AccessToken"], options={"verify_signature": False})
    from sms_platform.staff.oidc import username_of

    account, now = _sign_in_account(username_of(claims))
    return _outcome(
        account, {"AuthenticationResult": {"RefreshToken": refresh_token, **answer["AuthenticationResult"]}}, now
    )


def sign_out(access_token: str, username: str, session_id: str) -> None:
    end_session(username, session_id)
    if user_pool_id():
        try:
            _idp().global_sign_out(AccessToken=access_token)
        except Exception as error:
            if _error_code(error) not in ("NotAuthorizedException", "ResourceNotFoundException"):
                raise
    account = get_account(username)
    if account is not None:
        audit_action(_actor(account), "session.sign_out", f"account:{username}", None, None)


def change_password(ctx: StaffContext, access_token: str, current_password: str, new_password: str) -> Account:
    _require_pool()
    check_password(new_password, ctx.username)
    if new_password == current_password:
        raise ValidationFailed("新密码不能与原密码相同", field="new_password")
    try:
        _idp().change_password(
            PreviousPassword=current_password, ProposedPassword=new_password, AccessToken=access_token
        )
    except Exception as error:
        kind = _error_code(error)
        if kind == "NotAuthorizedException":
            raise Forbidden("原密码不正确", field="current_password") from error
        if kind == "InvalidPasswordException":
            raise ValidationFailed("新密码不符合密码策略", field="new_password") from error
        raise
    account = require_account(ctx.username)
    now = get_clock().now()
    saved = _save(
        replace(account, password_changed_at=now, must_change_password=False), expected_version=account.version
    )
    audit_action(ctx, "account.password_changed", f"account:{ctx.username}", None, None)
    return saved


def _actor(account: Account) -> StaffContext:
    return account.context(get_clock().now())


# ---------------------------------------------------------------------------- TOTP


def begin_totp(ctx: StaffContext, access_token: str) -> dict[str, str]:
    """The secret for the authenticator app, and the otpauth URI its QR code carries."""
    _require_pool()
    try:
        secret = _idp().associate_software_token(AccessToken=access_token)["SecretCode"]
    except Exception as error:
        if _error_code(error) == "NotAuthorizedException":
            raise BadRequest("请使用登录时取得的访问令牌（access token）") from error
        raise
    label = quote(f"{TOTP_ISSUER}:{ctx.username}")
    uri = f"otpauth://totp/{label}?secret={secret}&issuer={quote(TOTP_ISSUER)}&digits=6&period=30"
    return {"secret_code": secret, "otpauth_uri": uri}


def confirm_totp(ctx: StaffContext, access_token: str, code: str) -> Account:
    """Verify the first code from the authenticator app and require TOTP at every sign-in."""
    _require_pool()
    idp = _idp()
    try:
        result = idp.verify_software_token(AccessToken=access_token, UserCode=code, FriendlyDeviceName="staff")
    except Exception as error:
        kind = _error_code(error)
        if kind in ("CodeMismatchException", "EnableSoftwareTokenMFAException"):
            raise ValidationFailed("动态口令不正确，请核对手机时间后重试", field="code") from error
        if kind == "NotAuthorizedException":
            raise BadRequest("请使用登录时取得的访问令牌（access token）") from error
        raise
    if result.get("Status") != "SUCCESS":
        raise ValidationFailed("动态口令不正确，请核对手机时间后重试", field="code")
    idp.set_user_mfa_preference(
        AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    account = require_account(ctx.username)
    saved = _save(replace(account, totp_enabled=True), expected_version=account.version)
    audit_action(ctx, "account.totp_enrolled", f"account:{ctx.username}", snapshot(account), snapshot(saved))
    return saved
