"""Pure rules of staff identity: which office may hold which role, district scoping, password
strength, lockout, expiry, idle timeout, and what a route's declared rights let through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.foundation.errors import Forbidden, Unauthenticated, ValidationFailed
from sms_platform.staff import rights
from sms_platform.staff.account_models import (
    Account,
    access_refusal,
    password_problems,
    refuse_sign_in,
    session_idle,
    temporary_password,
)
from sms_platform.staff.context import (
    DISTRICTS,
    Office,
    Role,
    StaffContext,
    allowed_roles,
    can_see_office,
    check_roles,
    role_problems,
    visible_offices,
)

NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("office", "roles", "ok"),
    [
        (Office.huancui, {Role.district_operator}, True),
        (Office.nanhai, {Role.district_operator, Role.phone_reveal}, True),
        (Office.city, {Role.district_operator}, False),
        (Office.hotline, {Role.district_operator}, False),
        (Office.city, {Role.city_reviewer, Role.city_operator}, True),
        (Office.wendeng, {Role.city_reviewer}, False),
        (Office.hotline, {Role.hotline_manager, Role.hotline_agent}, True),
        (Office.city, {Role.hotline_agent}, False),
        (Office.it, {Role.it_ops}, True),
        (Office.city, {Role.it_ops}, False),
        (Office.it, {Role.permission_admin}, True),
        (Office.city, {Role.permission_admin}, True),
        (Office.rushan, {Role.permission_admin}, False),
        (Office.city, {Role.permission_admin, Role.city_reviewer}, False),
        (Office.city, {Role.permission_admin, Role.city_operator}, False),
        (Office.city, {Role.permission_admin, Role.auditor}, False),
        (Office.city, {Role.permission_admin, Role.phone_reveal}, True),
        (Office.it, {Role.permission_admin, Role.it_ops}, True),
        (Office.city, set(), True),
    ],
)
def test_which_office_may_hold_which_roles(office, roles, ok):
    assert (role_problems(office, roles) == []) is ok
    if ok:
        check_roles(office, roles)
    else:
        with pytest.raises(ValidationFailed) as refused:
            check_roles(office, roles)
        assert refused.value.field == "roles"
        assert refused.value.status == 422


@pytest.mark.parametrize(
    "role",
    sorted({Role.city_reviewer, Role.city_operator, Role.district_operator, Role.hotline_manager, Role.hotline_agent}),
)
def test_a_permission_administrator_can_neither_approve_nor_send(role):
    for office in Office:
        assert role_problems(office, {Role.permission_admin, role}), (office, role)


def test_the_refusal_names_the_office_and_the_role_in_chinese():
    (message,) = role_problems(Office.city, {Role.district_operator})
    assert message == "市社保中心的账号不能担任区县操作员"


def test_district_operator_only_in_the_eight_districts():
    holders = {office for office in Office if Role.district_operator in allowed_roles(office)}
    assert holders == set(DISTRICTS) and len(holders) == 8


def _ctx(office: Office, *roles: Role, restriction: str = "", status: str = "active") -> StaffContext:
    return StaffContext("u1", "u1", "张三", "001", office, frozenset(roles), status, restriction)


@pytest.mark.parametrize(
    ("own", "other", "visible"),
    [
        (Office.huancui, Office.huancui, True),
        (Office.huancui, Office.wendeng, False),
        (Office.huancui, Office.city, False),
        (Office.city, Office.huancui, True),
        (Office.city, Office.nanhai, True),
        (Office.hotline, Office.rushan, True),
        (Office.it, Office.city, True),
        (Office.city, "no-such-office", False),
    ],
)
def test_district_staff_see_their_own_district_only(own, other, visible):
    assert can_see_office(_ctx(own, Role.district_operator), other) is visible


def test_visible_offices():
    assert visible_offices(_ctx(Office.gaoqu)) == {Office.gaoqu}
    assert visible_offices(_ctx(Office.city)) == set(Office)


def test_staff_context_survives_the_authorizer_context():
    ctx = _ctx(Office.jingqu, Role.district_operator, Role.phone_reveal, restriction="password_change")
    flat = ctx.to_authorizer_context()
    assert all(isinstance(value, str) for value in flat.values())
    assert flat["roles"] == "district_operator,phone_reveal"
    assert StaffContext.from_authorizer_context({**flat, "principalId": "u1"}) == ctx


@pytest.mark.parametrize("context", [{}, {"principalId": "x"}, {"account_id": "u", "office": "mars"}])
def test_a_missing_or_unknown_authorizer_context_is_no_staff(context):
    with pytest.raises(ValueError):
        StaffContext.from_authorizer_context(context)


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Weihai-Staff-2024!", []),
        ("short1!A", ["至少12位"]),
        ("WEIHAI-STAFF-2024!", ["须含小写字母"]),
        ("weihai-staff-2024!", ["须含大写字母"]),
        ("Weihai-Staff-Abc!", ["须含数字"]),
        ("WeihaiStaff20245", ["须含符号"]),
        ("Zhangsan-2024-Pw!", ["不能包含用户名"]),
    ],
)
def test_password_strength(password, problems):
    assert password_problems(password, "zhangsan") == problems


def test_temporary_passwords_are_strong_and_different():
    made = {temporary_password() for _ in range(20)}
    assert len(made) == 20
    assert all(password_problems(p) == [] for p in made)


def _account(**changes) -> Account:
    base = {
        "username": "zhangsan",
        "real_name": "张三",
        "staff_number": "001",
        "office": Office.city,
        "roles": frozenset({Role.city_operator}),
        "password_changed_at": NOW - timedelta(days=10),
    }
    return Account(**{**base, **changes})


@pytest.mark.parametrize(
    ("account", "office_suspended", "now", "refusal"),
    [
        (None, False, NOW, "unknown_account"),
        (_account(), False, NOW, None),
        (_account(status="suspended"), False, NOW, "account_suspended"),
        (_account(), True, NOW, "office_suspended"),
        (_account(locked_until=NOW + timedelta(minutes=1)), False, NOW, "account_locked"),
        (_account(locked_until=NOW), False, NOW, None),
        (_account(locked_until=NOW - timedelta(seconds=1)), False, NOW, None),
    ],
)
def test_access_refusals(account, office_suspended, now, refusal):
    assert access_refusal(account, office_suspended, now) == refusal


@pytest.mark.parametrize(
    ("account", "now", "restriction"),
    [
        (_account(), NOW, ""),
        (_account(password_changed_at=NOW - timedelta(days=90)), NOW, "password_change"),
        (_account(password_changed_at=NOW - timedelta(days=89, hours=23)), NOW, ""),
        (_account(password_changed_at=None), NOW, "password_change"),
        (_account(must_change_password=True), NOW, "password_change"),
        (_account(office=Office.it, roles=frozenset({Role.permission_admin})), NOW, "totp_enrolment"),
        (_account(office=Office.it, roles=frozenset({Role.permission_admin}), totp_enabled=True), NOW, ""),
        (_account(roles=frozenset({Role.permission_admin}), must_change_password=True), NOW, "password_change"),
    ],
)
def test_what_must_be_done_before_anything_else(account, now, restriction):
    assert account.restriction(now) == restriction
    assert account.context(now).restriction == restriction


def test_an_account_as_staff_see_it_shows_a_lockout_only_while_it_lasts():
    from sms_platform.staff.account_views import AccountOut

    roles = frozenset({Role.phone_reveal, Role.city_operator})
    account = _account(roles=roles, locked_until=NOW + timedelta(minutes=5))

    locked = AccountOut.of(account, NOW, office_suspended=True).model_dump(mode="json")
    later = AccountOut.of(account, NOW + timedelta(minutes=5), office_suspended=False)

    assert locked == {
        "account_id": "zhangsan", "username": "zhangsan", "real_name": "张三", "staff_number": "001",
        "office": "city", "office_name": "市社保中心", "roles": ["city_operator", "phone_reveal"],
        "role_names": ["市级操作员（模板维护）", "查看完整号码"], "status": "active", "suspended_reason": "",
        "office_suspended": True, "locked_until": "2024-03-01T02:05:00+00:00",
        "password_expires_at": "2024-05-20T02:00:00+00:00", "totp_enabled": False, "restriction": "",
        "created_at": None,
    }  # fmt: skip
    assert (later.locked_until, later.office_suspended) == (None, False)


def test_an_office_as_staff_see_it():
    from sms_platform.staff.account_views import OfficeOut

    suspended = OfficeOut.of(Office.wendeng, suspended=True, reason="整改", suspended_at=NOW)

    assert suspended.model_dump(mode="json") == {
        "office": "wendeng", "name": "文登区", "kind": "district",
        "allowed_roles": ["district_operator", "phone_reveal"], "suspended": True, "reason": "整改",
        "suspended_at": "2024-03-01T02:00:00+00:00",
    }  # fmt: skip
    assert OfficeOut.of(Office.it, suspended=False).suspended_at is None


def test_a_locked_account_is_told_until_when_in_beijing_time():
    locked = _account(locked_until=datetime(2024, 3, 1, 2, 30, tzinfo=UTC))
    with pytest.raises(Forbidden) as refused:
        refuse_sign_in(locked, False, NOW)
    assert refused.value.code == "account_locked"
    assert "2024-03-01 10:30" in refused.value.message
    assert refused.value.details == {"locked_until": "2024-03-01T02:30:00+00:00"}


@pytest.mark.parametrize(
    ("account", "office_suspended", "code"),
    [(_account(status="suspended"), False, "account_suspended"), (_account(), True, "office_suspended")],
)
def test_suspended_accounts_and_offices_get_a_clear_refusal(account, office_suspended, code):
    with pytest.raises(Forbidden) as refused:
        refuse_sign_in(account, office_suspended, NOW)
    assert refused.value.code == code
    assert "暂停" in refused.value.message


@pytest.mark.parametrize(
    ("idle_for", "timed_out"),
    [(timedelta(minutes=29, seconds=59), False), (timedelta(minutes=30), True), (timedelta(hours=2), True)],
)
def test_idle_timeout(idle_for, timed_out):
    assert session_idle(NOW - idle_for, NOW) is timed_out


REVIEWER = _ctx(Office.city, Role.city_reviewer)
ADMIN = _ctx(Office.it, Role.permission_admin)
ADMIN_WITHOUT_TOTP = _ctx(Office.it, Role.permission_admin, restriction="totp_enrolment")
NO_ROLES = _ctx(Office.city)


@pytest.mark.parametrize(
    ("declared", "ctx", "allowed"),
    [
        (rights.Rights(frozenset({Role.city_reviewer})), REVIEWER, True),
        (rights.Rights(frozenset({Role.city_reviewer})), ADMIN, False),
        (rights.Rights(frozenset({Role.city_reviewer, Role.permission_admin})), ADMIN, True),
        (rights.Rights(frozenset({Role.permission_admin})), ADMIN_WITHOUT_TOTP, False),
        (rights.Rights(None), NO_ROLES, True),
        (rights.Rights(None), ADMIN_WITHOUT_TOTP, False),
        (rights.Rights(None, self_service=True), ADMIN_WITHOUT_TOTP, True),
        (rights.Rights(None), _ctx(Office.city, status="suspended"), False),
        (rights.Rights(None), None, False),
        (rights.Rights(None, public=True), None, True),
    ],
)
def test_declared_rights(declared, ctx, allowed):
    assert declared.allows(ctx) is allowed
    event = {"requestContext": {"authorizer": ctx.to_authorizer_context() if ctx else None}}
    if allowed:
        assert rights.check(declared, event) == ctx
    else:
        with pytest.raises((Forbidden, Unauthenticated)):
            rights.check(declared, event)


def test_a_route_that_declares_no_rights_is_refused_to_everyone():
    with pytest.raises(Forbidden):
        rights.check(None, {"requestContext": {"authorizer": ADMIN.to_authorizer_context()}})


def test_the_refusal_says_which_roles_may():
    with pytest.raises(Forbidden) as refused:
        rights.check(
            rights.Rights(frozenset({Role.city_reviewer})),
            {"requestContext": {"authorizer": ADMIN.to_authorizer_context()}},
        )
    assert refused.value.message == "无权执行此操作，需要以下角色之一：市级审核员"


def test_marks_keep_the_function_itself():
    def route() -> None:
        return None

    assert rights.allow(Role.auditor)(route) is route
    assert rights.rights_of(route) == rights.Rights(frozenset({Role.auditor}))
    with pytest.raises(ValueError):
        rights.allow()
