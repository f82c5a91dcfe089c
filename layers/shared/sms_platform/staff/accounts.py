"""Administering staff accounts: what a permission administrator does to other accounts.

Creating an account (its record and the identity service's user), granting and withdrawing
roles, suspending and reinstating, resetting a password or a lost TOTP device, and seeding the
first permission administrator of a new platform. An administrator may not do these to its own
account where that would lock it out or hand it a secret meant for someone else. Every change is
audited with the account before and after.

The records are ``account_store``'s, the identity service's users ``identity``'s; signing in is
``signing_in``'s, the account's own password and TOTP ``security``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sms_platform.audit import trail
from sms_platform.foundation import text_rules
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict, Forbidden
from sms_platform.staff import account_store, identity, sessions
from sms_platform.staff.account_models import (
    ACTIVE,
    SUSPENDED,
    Account,
    check_password,
    check_username,
    normalize_username,
    snapshot,
    temporary_password,
)
from sms_platform.staff.context import ROLE_NAMES, Office, Role, StaffContext, check_roles


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
    username = normalize_username(username)
    # Also checked here, not only by the staff route: the first administrator is seeded by hand.
    text_rules.check_line(real_name, "真实姓名", field="real_name")
    text_rules.check_line(staff_number, "工号", field="staff_number")
    check_username(username)
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
    account_store.create(account)
    shown = None
    if identity.user_pool_id():
        password = password or temporary_password()
        try:
            identity.create_user(account, password, permanent=permanent_password)
        except Exception:
            account_store.delete(account)  # nothing half-made stays behind
            raise
        shown = None if permanent_password else password
    trail.record(actor, "account.create", f"account:{username}", None, snapshot(account), office.value)
    return NewAccount(account, shown)


def seed_permission_admin(username: str, real_name: str, password: str, *, office: Office = Office.it) -> Account:
    """The first permission administrator of a new platform (local runner, first deploy).
    Does nothing when the account already exists."""
    existing = account_store.get_account(username)
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


# ---------------------------------------------------------------------------- roles


def set_roles(actor: StaffContext | None, username: str, roles: Iterable[Role], *, action: str) -> Account:
    account = account_store.require_account(username)
    roles = frozenset(Role(role) for role in roles)
    check_roles(account.office, roles)
    if Role.permission_admin in account.roles and Role.permission_admin not in roles:
        _not_self(actor, account.username, "不能撤销本人的权限管理员角色")
    saved = account_store.save(replace(account, roles=roles), expected_version=account.version)
    trail.record(actor, action, f"account:{username}", snapshot(account), snapshot(saved), account.office.value)
    return saved


def grant_role(actor: StaffContext | None, username: str, role: Role) -> Account:
    account = account_store.require_account(username)
    return set_roles(actor, account.username, account.roles | {Role(role)}, action="account.grant_role")


def withdraw_role(actor: StaffContext | None, username: str, role: Role) -> Account:
    account = account_store.require_account(username)
    if Role(role) not in account.roles:
        raise Conflict(f"该账号没有{ROLE_NAMES[Role(role)]}角色")
    return set_roles(actor, account.username, account.roles - {Role(role)}, action="account.withdraw_role")


# ---------------------------------------------------------------------------- suspension


def suspend_account(actor: StaffContext | None, username: str, reason: str) -> Account:
    account = account_store.require_account(username)
    _not_self(actor, account.username, "不能暂停本人的账号")
    if account.status == SUSPENDED:
        raise Conflict("账号已处于暂停状态")
    saved = account_store.save(
        replace(account, status=SUSPENDED, suspended_reason=reason), expected_version=account.version
    )
    if identity.user_pool_id():
        identity.disable_user(account.username)
    trail.record(actor, "account.suspend", f"account:{username}", snapshot(account), snapshot(saved), saved.office)
    return saved


def reinstate_account(actor: StaffContext | None, username: str) -> Account:
    account = account_store.require_account(username)
    if account.status == ACTIVE:
        raise Conflict("账号未被暂停")
    saved = account_store.save(replace(account, status=ACTIVE, suspended_reason=""), expected_version=account.version)
    if identity.user_pool_id():
        identity.enable_user(account.username)
    trail.record(actor, "account.reinstate", f"account:{username}", snapshot(account), snapshot(saved), saved.office)
    return saved


# ---------------------------------------------------------------------------- resets


def account_to_reset(actor: StaffContext | None, username: str) -> Account:
    """The account whose password ``actor`` resets: never its own, which is changed knowing the
    current one (``security.change_password``); a reset by oneself would only sign oneself out
    with a password nobody else was meant to see."""
    identity.require_pool()
    account = account_store.require_account(username)
    _not_self(actor, account.username, "不能重置本人的密码，请在“账号安全”中修改密码")
    return account


def set_temporary_password(account: Account, password: str) -> Account:
    """Give ``account`` the temporary ``password``: the user must set its own at the next sign-in,
    every open session is signed out and a lockout is lifted (``sources.password_delivery``
    delivers it and audits the reset)."""
    identity.set_password(account.username, password, permanent=False)
    identity.sign_out_everywhere(account.username)
    saved = account_store.save(
        replace(account, must_change_password=True, failed_signins=0, locked_until=None),
        expected_version=account.version,
    )
    sessions.end_sessions(account.username)
    return saved


def reset_totp(actor: StaffContext | None, username: str) -> Account:
    """Remove an account's TOTP device (lost or compromised phone): every open session is signed
    out and a permission administrator must enrol a new device before anything else."""
    identity.require_pool()
    account = account_store.require_account(username)
    _not_self(actor, account.username, "不能重置本人的动态口令，请由另一位权限管理员操作")
    if not account.totp_enabled:
        raise Conflict("该账号尚未绑定动态口令，无需重置")
    # The identity service first: a retry after a fault before the record is saved finds the
    # account still marked enrolled and repeats this harmless step.
    identity.remove_totp(account.username)
    identity.sign_out_everywhere(account.username)
    saved = account_store.save(replace(account, totp_enabled=False), expected_version=account.version)
    sessions.end_sessions(account.username)
    trail.record(
        actor, "account.reset_totp", f"account:{account.username}", snapshot(account), snapshot(saved), saved.office
    )
    return saved
