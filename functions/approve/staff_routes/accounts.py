"""Accounts and rights (R9, R13, R18): the signed-in account, offices and roles, and what a
permission administrator does: create accounts, grant and withdraw roles, suspend and
reinstate an account or a whole office, reset passwords (the temporary password goes to the
owner's verified phone by SMS; the administrator sees it only when it must be handed over in
person) and TOTP devices. Also the self-service steps every account may take even before
anything else: TOTP enrolment and changing its own password; and IT operations' choice of the
template temporary passwords are sent in.

Each change is made and audited by its service (``sms_platform.staff.accounts`` and
``security``, ``sms_platform.sources.password_delivery`` and ``office_suspension``), which
answers with the model returned here.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sources import password_delivery
from sms_platform.sources.password_delivery import AccountSettings, PasswordResetOut
from sms_platform.staff import accounts, security
from sms_platform.staff.account_views import (
    AccountOut,
    AccountsOut,
    NewAccountOut,
    OfficeOut,
    OfficesOut,
    RolesOut,
    TotpSecretOut,
)
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff, signed_in

router = Router()
ADMIN = Role.permission_admin
TAGS = ["账号与权限"]


class AccountIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"office": "单位", "roles": "角色"}))

    username: Annotated[str, Visible("用户名")] = Field(
        min_length=3, max_length=64, description="登录用户名（小写字母、数字、. _ -）"
    )
    real_name: Annotated[str, Visible("真实姓名")] = Field(min_length=2, max_length=32, description="真实姓名")
    staff_number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$", description="工号")
    office: Office
    roles: list[Role] = Field(default_factory=list, max_length=len(Role))


class RoleIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"role": "角色"}))

    role: Role


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("暂停原因", multiline=True)] = Field(
        min_length=2, max_length=500, description="暂停原因"
    )


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"current_password": "当前密码", "new_password": "新密码"}))

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TotpCodeIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"code": "动态口令"}))

    code: str = Field(pattern=r"^\d{6}$", description="身份验证器应用显示的6位动态口令")


def _bearer() -> str:
    from staff_routes.session import bearer_token

    return bearer_token()


# ---------------------------------------------------------------------------- self service


@router.get("/me", summary="当前登录的账号", tags=TAGS)
@signed_in(self_service=True)
def me() -> AccountOut:
    return accounts.own_account(current_staff(), now=get_clock().now())


@router.post("/me/password", summary="修改本人密码", tags=TAGS)
@signed_in(self_service=True)
def change_password(body: Annotated[PasswordChangeIn, Body()]) -> AccountOut:
    return security.change_password(
        current_staff(), _bearer(), body.current_password, body.new_password, now=get_clock().now()
    )


@router.post("/me/totp", summary="开始绑定动态口令（TOTP）", tags=TAGS)
@signed_in(self_service=True)
def begin_totp() -> TotpSecretOut:
    return security.begin_totp(current_staff(), _bearer())


@router.post("/me/totp/verification", summary="输入首个动态口令，完成绑定", tags=TAGS)
@signed_in(self_service=True)
def confirm_totp(body: Annotated[TotpCodeIn, Body()]) -> AccountOut:
    return security.confirm_totp(current_staff(), _bearer(), body.code, now=get_clock().now())


@router.get("/offices", summary="单位及其暂停状态", tags=TAGS)
@signed_in
def list_offices() -> OfficesOut:
    return accounts.list_offices(current_staff())


@router.get("/roles", summary="角色及可担任的单位", tags=TAGS)
@signed_in
def list_roles() -> RolesOut:
    return accounts.list_roles(current_staff())


# ---------------------------------------------------------------------------- administration


@router.get("/accounts", summary="账号列表", tags=TAGS)
@allow(ADMIN)
def list_accounts(
    office: Annotated[Office | None, Query(title="单位", description="只列出此单位的账号")] = None,
) -> AccountsOut:
    return accounts.list_accounts(current_staff(), office, now=get_clock().now())


@router.post("/accounts", summary="新建账号", tags=TAGS, status_code=201)
@allow(ADMIN)
def create_account(body: Annotated[AccountIn, Body()]) -> NewAccountOut:
    return accounts.create_account(
        current_staff(),
        username=body.username,
        real_name=body.real_name,
        staff_number=body.staff_number,
        office=body.office,
        roles=body.roles,
        now=get_clock().now(),
    )


@router.get("/accounts/<username>", summary="查看账号", tags=TAGS)
@allow(ADMIN)
def get_account(username: str) -> AccountOut:
    return accounts.get_account(current_staff(), username, now=get_clock().now())


@router.post("/accounts/<username>/roles", summary="授予角色", tags=TAGS)
@allow(ADMIN)
def grant_role(username: str, body: Annotated[RoleIn, Body()]) -> AccountOut:
    return accounts.grant_role(current_staff(), username, body.role, now=get_clock().now())


@router.delete("/accounts/<username>/roles/<role>", summary="撤销角色", tags=TAGS)
@allow(ADMIN)
def withdraw_role(username: str, role: Role) -> AccountOut:
    return accounts.withdraw_role(current_staff(), username, role, now=get_clock().now())


@router.post("/accounts/<username>/suspension", summary="暂停账号", tags=TAGS)
@allow(ADMIN)
def suspend_account(username: str, body: Annotated[ReasonIn, Body()]) -> AccountOut:
    return accounts.suspend_account(current_staff(), username, body.reason, now=get_clock().now())


@router.delete("/accounts/<username>/suspension", summary="恢复账号", tags=TAGS)
@allow(ADMIN)
def reinstate_account(username: str) -> AccountOut:
    return accounts.reinstate_account(current_staff(), username, now=get_clock().now())


@router.post(
    "/accounts/<username>/password-reset",
    summary="重置密码（临时密码以短信发给本人；无已验证手机时当面交付）",
    tags=TAGS,
)
@allow(ADMIN)
def reset_password(username: str) -> PasswordResetOut:
    return password_delivery.reset_password(current_staff(), username, now=get_clock().now())


@router.post("/accounts/<username>/totp-reset", summary="重置动态口令（手机丢失或更换时）", tags=TAGS)
@allow(ADMIN)
def reset_totp(username: str) -> AccountOut:
    return accounts.reset_totp(current_staff(), username, now=get_clock().now())


@router.post("/offices/<office>/suspension", summary="暂停单位的平台使用权限", tags=TAGS)
@allow(ADMIN)
def suspend_office(office: Office, body: Annotated[ReasonIn, Body()]) -> OfficeOut:
    from sms_platform.sources import office_suspension  # brings the sending store: not for every sign-in

    return office_suspension.suspend_office(current_staff(), office, body.reason, now=get_clock().now())


@router.delete("/offices/<office>/suspension", summary="恢复单位的平台使用权限", tags=TAGS)
@allow(ADMIN)
def reinstate_office(office: Office) -> OfficeOut:
    from sms_platform.sources import office_suspension  # brings the sending store: not for every sign-in

    return office_suspension.reinstate_office(current_staff(), office, now=get_clock().now())


@router.get("/account-settings", summary="临时密码短信所用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def get_account_settings() -> AccountSettings:
    return password_delivery.account_settings(current_staff())


@router.put("/account-settings", summary="设置临时密码短信所用的系统模板", tags=TAGS)
@allow(Role.it_ops)
def put_account_settings(body: Annotated[AccountSettings, Body()]) -> AccountSettings:
    return password_delivery.set_settings(current_staff(), body.password_template_id, now=get_clock().now())
