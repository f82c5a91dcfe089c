"""Accounts and rights (R9, R13, R18): the signed-in account, offices and roles, and what a
permission administrator does: create accounts, grant and withdraw roles, suspend and
reinstate an account or a whole office, reset passwords (the temporary password goes to the
owner's verified phone by SMS; the administrator sees it only when it must be handed over in
person) and TOTP devices. Also the self-service steps every account may take even before
anything else: TOTP enrolment and changing its own password; and IT operations' choice of the
template temporary passwords are sent in.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field
from sms_platform.audit import trail
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import password_delivery
from sms_platform.staff import account_store, accounts, security
from sms_platform.staff.account_models import Account
from sms_platform.staff.context import OFFICE_NAMES, ROLE_NAMES, Office, Role, allowed_roles, office_kind
from sms_platform.staff.rights import allow, current_staff, signed_in

router = Router()
ADMIN = Role.permission_admin
TAGS = ["账号与权限"]


class AccountOut(BaseModel):
    account_id: str
    username: str
    real_name: str
    staff_number: str
    office: Office
    office_name: str
    roles: list[Role]
    role_names: list[str]
    status: str = Field(description="active 或 suspended")
    suspended_reason: str = ""
    office_suspended: bool = False
    locked_until: str | None = Field(default=None, description="锁定结束时间（仍在锁定中时）")
    password_expires_at: str | None = None
    totp_enabled: bool
    restriction: str = Field(description="password_change 或 totp_enrolment：须先完成的事项；空为无")
    created_at: str | None = None


class AccountsOut(BaseModel):
    accounts: list[AccountOut]


class AccountIn(BaseModel):
    username: Annotated[str, Visible("用户名")] = Field(
        min_length=3, max_length=64, description="登录用户名（小写字母、数字、. _ -）"
    )
    real_name: Annotated[str, Visible("真实姓名")] = Field(min_length=2, max_length=32, description="真实姓名")
    staff_number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$", description="工号")
    office: Office
    roles: list[Role] = Field(default_factory=list, max_length=len(Role))


class NewAccountOut(BaseModel):
    account: AccountOut
    temporary_password: str | None = Field(description="临时密码，仅显示这一次；首次登录须修改")


class RoleIn(BaseModel):
    role: Role


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("暂停原因", multiline=True)] = Field(
        min_length=2, max_length=500, description="暂停原因"
    )


class PasswordResetOut(BaseModel):
    username: str
    delivery: Literal["sms", "in_person"] = Field(
        description="sms：临时密码已通过短信发送至本人已验证的手机；in_person：本人没有已验证的手机，请当面交给本人"
    )
    phone_masked: str | None = Field(default=None, description="接收临时密码短信的手机号（已脱敏），仅 sms 时有")
    temporary_password: str | None = Field(
        default=None, description="临时密码，仅 in_person 时给出且仅显示这一次；首次登录须修改"
    )


class AccountSettings(BaseModel):
    password_template_id: str | None = Field(
        default=None, max_length=64, description="临时密码短信模板（平台系统消息类，含变量 password）；空则只能当面交付"
    )


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TotpSecretOut(BaseModel):
    secret_code: str = Field(description="在身份验证器应用中手动输入的密钥")
    otpauth_uri: str = Field(description="生成二维码用的 otpauth:// 地址")


class TotpCodeIn(BaseModel):
    code: str = Field(pattern=r"^\d{6}$", description="身份验证器应用显示的6位动态口令")


class OfficeOut(BaseModel):
    office: Office
    name: str
    kind: str = Field(description="city、district、hotline 或 it")
    allowed_roles: list[Role]
    suspended: bool
    reason: str = ""
    suspended_at: str | None = None


class OfficesOut(BaseModel):
    offices: list[OfficeOut]


class RoleOut(BaseModel):
    role: Role
    name: str
    offices: list[Office] = Field(description="可担任此角色的单位")


class RolesOut(BaseModel):
    roles: list[RoleOut]


def _out(account: Account) -> AccountOut:
    now = get_clock().now()
    return AccountOut(**account.public(now, office_suspended=account_store.office_suspended(account.office)))


def _office_out(office: Office, status: dict) -> OfficeOut:
    return OfficeOut(
        office=office,
        name=OFFICE_NAMES[office],
        kind=office_kind(office),
        allowed_roles=sorted(allowed_roles(office)),
        suspended=status["suspended"],
        reason=status.get("reason", ""),
        suspended_at=status.get("suspended_at"),
    )


def _bearer() -> str:
    from staff_routes.session import bearer_token

    return bearer_token()


# ---------------------------------------------------------------------------- self service


@router.get("/me", summary="当前登录的账号", tags=TAGS)
@signed_in(self_service=True)
def me() -> AccountOut:
    return _out(account_store.require_account(current_staff().username))


@router.post("/me/password", summary="修改本人密码", tags=TAGS)
@signed_in(self_service=True)
def change_password(body: Annotated[PasswordChangeIn, Body()]) -> AccountOut:
    return _out(security.change_password(current_staff(), _bearer(), body.current_password, body.new_password))


@router.post("/me/totp", summary="开始绑定动态口令（TOTP）", tags=TAGS)
@signed_in(self_service=True)
def begin_totp() -> TotpSecretOut:
    return TotpSecretOut(**security.begin_totp(current_staff(), _bearer()))


@router.post("/me/totp/verification", summary="输入首个动态口令，完成绑定", tags=TAGS)
@signed_in(self_service=True)
def confirm_totp(body: Annotated[TotpCodeIn, Body()]) -> AccountOut:
    return _out(security.confirm_totp(current_staff(), _bearer(), body.code))


@router.get("/offices", summary="单位及其暂停状态", tags=TAGS)
@signed_in
def list_offices() -> OfficesOut:
    suspended = account_store.suspended_offices()
    return OfficesOut(
        offices=[
            _office_out(office, {"suspended": office in suspended, **suspended.get(office, {})}) for office in Office
        ]
    )


@router.get("/roles", summary="角色及可担任的单位", tags=TAGS)
@signed_in
def list_roles() -> RolesOut:
    return RolesOut(
        roles=[
            RoleOut(role=role, name=ROLE_NAMES[role], offices=[o for o in Office if role in allowed_roles(o)])
            for role in Role
        ]
    )


# ---------------------------------------------------------------------------- administration


@router.get("/accounts", summary="账号列表", tags=TAGS)
@allow(ADMIN)
def list_accounts(office: Annotated[Office | None, Query(description="只列出此单位的账号")] = None) -> AccountsOut:
    now = get_clock().now()
    suspended = account_store.suspended_offices()
    return AccountsOut(
        accounts=[
            AccountOut(**account.public(now, office_suspended=account.office in suspended))
            for account in account_store.list_accounts(office)
        ]
    )


@router.post("/accounts", summary="新建账号", tags=TAGS, status_code=201)
@allow(ADMIN)
def create_account(body: Annotated[AccountIn, Body()]) -> NewAccountOut:
    created = accounts.create_account(
        current_staff(),
        username=body.username,
        real_name=body.real_name,
        staff_number=body.staff_number,
        office=body.office,
        roles=body.roles,
    )
    return NewAccountOut(account=_out(created.account), temporary_password=created.temporary_password)


@router.get("/accounts/<username>", summary="查看账号", tags=TAGS)
@allow(ADMIN)
def get_account(username: str) -> AccountOut:
    return _out(account_store.require_account(username))


@router.post("/accounts/<username>/roles", summary="授予角色", tags=TAGS)
@allow(ADMIN)
def grant_role(username: str, body: Annotated[RoleIn, Body()]) -> AccountOut:
    return _out(accounts.grant_role(current_staff(), username, body.role))


@router.delete("/accounts/<username>/roles/<role>", summary="撤销角色", tags=TAGS)
@allow(ADMIN)
def withdraw_role(username: str, role: Role) -> AccountOut:
    return _out(accounts.withdraw_role(current_staff(), username, role))


@router.post("/accounts/<username>/suspension", summary="暂停账号", tags=TAGS)
@allow(ADMIN)
def suspend_account(username: str, body: Annotated[ReasonIn, Body()]) -> AccountOut:
    return _out(accounts.suspend_account(current_staff(), username, body.reason))


@router.delete("/accounts/<username>/suspension", summary="恢复账号", tags=TAGS)
@allow(ADMIN)
def reinstate_account(username: str) -> AccountOut:
    return _out(accounts.reinstate_account(current_staff(), username))


@router.post(
    "/accounts/<username>/password-reset",
    summary="重置密码（临时密码以短信发给本人；无已验证手机时当面交付）",
    tags=TAGS,
)
@allow(ADMIN)
def reset_password(username: str) -> PasswordResetOut:
    reset = password_delivery.reset_password(current_staff(), username)
    return PasswordResetOut(
        username=reset.username,
        delivery=reset.delivery,
        phone_masked=reset.phone_masked,
        temporary_password=reset.temporary_password,
    )


@router.post("/accounts/<username>/totp-reset", summary="重置动态口令（手机丢失或更换时）", tags=TAGS)
@allow(ADMIN)
def reset_totp(username: str) -> AccountOut:
    return _out(accounts.reset_totp(current_staff(), username))


@router.post("/offices/<office>/suspension", summary="暂停单位的平台使用权限", tags=TAGS)
@allow(ADMIN)
def suspend_office(office: Office, body: Annotated[ReasonIn, Body()]) -> OfficeOut:
    from sms_platform.sources import office_suspension  # brings the sending store: not for every sign-in

    return _office_out(office, office_suspension.suspend_office(current_staff(), office, body.reason))


@router.delete("/offices/<office>/suspension", summary="恢复单位的平台使用权限", tags=TAGS)
@allow(ADMIN)
def reinstate_office(office: Office) -> OfficeOut:
    from sms_platform.sources import office_suspension  # brings the sending store: not for every sign-in

    return _office_out(office, office_suspension.reinstate_office(current_staff(), office))


@router.get("/account-settings", summary="临时密码短信所用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def get_account_settings() -> AccountSettings:
    return AccountSettings(**password_delivery.settings())


@router.put("/account-settings", summary="设置临时密码短信所用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def put_account_settings(body: Annotated[AccountSettings, Body()]) -> AccountSettings:
    staff = current_staff()
    before = password_delivery.settings()
    after = password_delivery.set_settings(body.password_template_id, actor=staff.account_id, now=get_clock().now())
    trail.record(staff, "account_settings.update", "account_settings", before, after, staff.office)
    return AccountSettings(**after)
