"""Administering staff accounts: what a permission administrator does to other accounts.

Creating an account (its record and the identity service's user), granting and withdrawing
roles, suspending and reinstating, resetting a password or a lost TOTP device, and seeding the
first permission administrator of a new platform. An administrator may not do these to its own
account where that would lock it out or hand it a secret meant for someone else. Every change is
audited with the account before and after, at the ``now`` of the change. Also the reads staff
routes answer with: an account, the accounts, the offices and the roles.

The records are ``account_store``'s, the identity service's users ``identity``'s; signing in is
``signing_in``'s, the account's own password and TOTP ``security``'s. What staff are answered
with is ``account_views``'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

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
from sms_platform.staff.account_views import (
    AccountOut,
    AccountsOut,
    NewAccountOut,
    OfficeOut,
    OfficesOut,
    RoleOut,
    RolesOut,
)
from sms_platform.staff.context import ROLE_NAMES, Office, Role, StaffContext, allowed_roles, check_roles

# ---------------------------------------------------------------------------- reading


def account_out(account: Account, *, now: datetime) -> AccountOut:
    """``account`` as staff see it at ``now``, with whether its office is suspended."""
    return AccountOut.of(account, now, office_suspended=account_store.office_suspended(account.office))


def own_account(ctx: StaffContext, *, now: datetime) -> AccountOut:
    return account_out(account_store.require_account(ctx.username), now=now)


def get_account(ctx: StaffContext, username: str, *, now: datetime) -> AccountOut:
    return account_out(account_store.require_account(username), now=now)


def list_accounts(ctx: StaffContext, office: Office | None = None, *, now: datetime) -> AccountsOut:
    """Every account, or those of one office, in office and name order."""
    suspended = account_store.suspended_offices()
    return AccountsOut(
        accounts=[
            AccountOut.of(account, now, office_suspended=account.office in suspended)
            for account in account_store.list_accounts(office)
        ]
    )


def list_offices(ctx: StaffContext) -> OfficesOut:
    """Every office with its suspension, if any."""
    suspended = account_store.suspended_offices()
    return OfficesOut(
        offices=[
            OfficeOut.of(office, suspended=office in suspended, **suspended.get(office, {})) for office in Office
        ]
    )


def list_roles(ctx: StaffContext) -> RolesOut:
    """Every role with the offices whose accounts may hold it."""
    return RolesOut(
        roles=[
            RoleOut(role=role, name=ROLE_NAMES[role], offices=[o for o in Office if role in allowed_roles(o)])
            for role in Role
        ]
    )


# ---------------------------------------------------------------------------- creating


def _create(
    ctx: StaffContext | None,
    *,
    username: str,
    real_name: str,
    staff_number: str,
    office: Office,
    roles: Iterable[Role],
    password: str | None,
    permanent_password: bool,
    now: datetime,
) -> tuple[Account, str | None]:
    """The new account, and its temporary password when one is to be shown."""
    username = normalize_username(username)
    # Also checked here, not only by the staff route: the first administrator is seeded by hand.
    text_rules.check_line(real_name, "真实姓名", field="real_name")
    text_rules.check_line(staff_number, "工号", field="staff_number")
    check_username(username)
    office = Office(office)
    roles = frozenset(Role(role) for role in roles)
    check_roles(office, roles)
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
    trail.record(ctx, "account.create", f"account:{username}", None, snapshot(account), office.value, at=now)
    return account, shown


def create_account(
    ctx: StaffContext | None,
    *,
    username: str,
    real_name: str,
    staff_number: str,
    office: Office,
    roles: Iterable[Role],
    password: str | None = None,
    permanent_password: bool = False,
    now: datetime,
) -> NewAccountOut:
    """A new account record and, with Cognito, its user with a temporary password (shown once).
    ``ctx`` is None for an account the platform makes itself (the first administrator)."""
    account, shown = _create(
        ctx,
        username=username,
        real_name=real_name,
        staff_number=staff_number,
        office=office,
        roles=roles,
        password=password,
        permanent_password=permanent_password,
        now=now,
    )
    return NewAccountOut(account=account_out(account, now=now), temporary_password=shown)


def seed_permission_admin(username: str, real_name: str, password: str, *, office: Office = Office.it) -> Account:
    """The first permission administrator of a new platform (local runner, first deploy).
    Does nothing when the account already exists. A start-up step, not a staff action: it reads
    the clock itself."""
    existing = account_store.get_account(username)
    if existing is not None:
        return existing
    check_password(password, username, field_name="password")
    account, _ = _create(
        None,
        username=username,
        real_name=real_name,
        staff_number=f"admin-{normalize_username(username)}",
        office=office,
        roles=[Role.permission_admin],
        password=password,
        permanent_password=True,
        now=get_clock().now(),
    )
    return account


def _not_self(ctx: StaffContext | None, username: str, message: str) -> None:
    if ctx is not None and ctx.username == username:
        raise Forbidden(message)


def _audited(ctx: StaffContext, action: str, before: Account, after: Account, now: datetime) -> AccountOut:
    """Record ``action`` on an account with its state before and after; the account as answered."""
    trail.record(ctx, action, f"account:{before.username}", snapshot(before), snapshot(after), after.office.value,
                 at=now)  # fmt: skip
    return account_out(after, now=now)


# ---------------------------------------------------------------------------- roles


def _set_roles(ctx: StaffContext, account: Account, roles: Iterable[Role], *, action: str, now: datetime) -> AccountOut:
    roles = frozenset(Role(role) for role in roles)
    check_roles(account.office, roles)
    if Role.permission_admin in account.roles and Role.permission_admin not in roles:
        _not_self(ctx, account.username, "不能撤销本人的权限管理员角色")
    saved = account_store.save(replace(account, roles=roles), expected_version=account.version, at=now)
    return _audited(ctx, action, account, saved, now)


def grant_role(ctx: StaffContext, username: str, role: Role, *, now: datetime) -> AccountOut:
    account = account_store.require_account(username)
    return _set_roles(ctx, account, account.roles | {Role(role)}, action="account.grant_role", now=now)


def withdraw_role(ctx: StaffContext, username: str, role: Role, *, now: datetime) -> AccountOut:
    account = account_store.require_account(username)
    if Role(role) not in account.roles:
        raise Conflict(f"该账号没有{ROLE_NAMES[Role(role)]}角色")
    return _set_roles(ctx, account, account.roles - {Role(role)}, action="account.withdraw_role", now=now)


# ---------------------------------------------------------------------------- suspension


def suspend_account(ctx: StaffContext, username: str, reason: str, *, now: datetime) -> AccountOut:
    account = account_store.require_account(username)
    _not_self(ctx, account.username, "不能暂停本人的账号")
    if account.status == SUSPENDED:
        raise Conflict("账号已处于暂停状态")
    saved = account_store.save(
        replace(account, status=SUSPENDED, suspended_reason=reason), expected_version=account.version, at=now
    )
    if identity.user_pool_id():
        identity.disable_user(account.username)
    return _audited(ctx, "account.suspend", account, saved, now)


def reinstate_account(ctx: StaffContext, username: str, *, now: datetime) -> AccountOut:
    account = account_store.require_account(username)
    if account.status == ACTIVE:
        raise Conflict("账号未被暂停")
    saved = account_store.save(
        replace(account, status=ACTIVE, suspended_reason=""), expected_version=account.version, at=now
    )
    if identity.user_pool_id():
        identity.enable_user(account.username)
    return _audited(ctx, "account.reinstate", account, saved, now)


# ---------------------------------------------------------------------------- resets


def account_to_reset(ctx: StaffContext | None, username: str) -> Account:
    """The account whose password ``ctx`` resets: never its own, which is changed knowing the
    current one (``security.change_password``); a reset by oneself would only sign oneself out
    with a password nobody else was meant to see."""
    identity.require_pool()
    account = account_store.require_account(username)
    _not_self(ctx, account.username, "不能重置本人的密码，请在“账号安全”中修改密码")
    return account


def set_temporary_password(account: Account, password: str, *, now: datetime) -> Account:
    """Give ``account`` the temporary ``password``: the user must set its own at the next sign-in,
    every open session is signed out and a lockout is lifted (``sources.password_delivery``
    delivers it and audits the reset)."""
    identity.set_password(account.username, password, permanent=False)
    identity.sign_out_everywhere(account.username)
    saved = account_store.save(
        replace(account, must_change_password=True, failed_signins=0, locked_until=None),
        expected_version=account.version,
        at=now,
    )
    sessions.end_sessions(account.username)
    return saved


def reset_totp(ctx: StaffContext, username: str, *, now: datetime) -> AccountOut:
    """Remove an account's TOTP device (lost or compromised phone): every open session is signed
    out and a permission administrator must enrol a new device before anything else."""
    identity.require_pool()
    account = account_store.require_account(username)
    _not_self(ctx, account.username, "不能重置本人的动态口令，请由另一位权限管理员操作")
    if not account.totp_enabled:
        raise Conflict("该账号尚未绑定动态口令，无需重置")
    # The identity service first: a retry after a fault before the record is saved finds the
    # account still marked enrolled and repeats this harmless step.
    identity.remove_totp(account.username)
    identity.sign_out_everywhere(account.username)
    saved = account_store.save(replace(account, totp_enabled=False), expected_version=account.version, at=now)
    sessions.end_sessions(account.username)
    return _audited(ctx, "account.reset_totp", account, saved, now)
