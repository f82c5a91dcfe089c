"""What the account services answer staff with: accounts, offices, roles, sign-in steps, as
pydantic models the staff routes return as they are (and the OpenAPI document describes).

Kept apart from ``account_models``: the authorizer reads accounts on every request through
``account_models`` and ``account_store`` and has no use for pydantic, so it does not import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from sms_platform.staff.account_models import PASSWORD_MAX_AGE, Account, iso
from sms_platform.staff.context import OFFICE_NAMES, ROLE_NAMES, Office, Role, allowed_roles, office_kind
from sms_platform.staff.rights import RESTRICTION_MESSAGES

# Models without docstrings: pydantic would put them into the OpenAPI document as descriptions.

# ---------------------------------------------------------------------------- accounts


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

    @classmethod
    def of(cls, account: Account, now: datetime, *, office_suspended: bool) -> AccountOut:
        """The account as staff may see it at ``now`` (no secrets are held in it anyway)."""
        expires = account.password_changed_at + PASSWORD_MAX_AGE if account.password_changed_at else None
        return cls(
            account_id=account.account_id,
            username=account.username,
            real_name=account.real_name,
            staff_number=account.staff_number,
            office=account.office,
            office_name=OFFICE_NAMES[account.office],
            roles=sorted(account.roles),
            role_names=[ROLE_NAMES[role] for role in sorted(account.roles)],
            status=account.status,
            suspended_reason=account.suspended_reason,
            office_suspended=office_suspended,
            locked_until=iso(account.locked_until) if account.locked_until and account.is_locked(now) else None,
            password_expires_at=iso(expires) if expires else None,
            totp_enabled=account.totp_enabled,
            restriction=account.restriction(now),
            created_at=iso(account.created_at) if account.created_at else None,
        )


class AccountsOut(BaseModel):
    accounts: list[AccountOut]


class NewAccountOut(BaseModel):
    account: AccountOut
    temporary_password: str | None = Field(description="临时密码，仅显示这一次；首次登录须修改")


class TotpSecretOut(BaseModel):
    secret_code: str = Field(description="在身份验证器应用中手动输入的密钥")
    otpauth_uri: str = Field(description="生成二维码用的 otpauth:// 地址")
    qr_code: str = Field(description="otpauth 地址的二维码：SVG 图片的 data: 地址，由平台生成（不经任何外部服务）")


# ---------------------------------------------------------------------------- offices and roles


class OfficeOut(BaseModel):
    office: Office
    name: str
    kind: str = Field(description="city、district、hotline 或 it")
    allowed_roles: list[Role]
    suspended: bool
    reason: str = ""
    suspended_at: str | None = None

    @classmethod
    def of(
        cls, office: Office, *, suspended: bool, reason: str = "", suspended_at: datetime | str | None = None
    ) -> OfficeOut:
        """An office with its suspension as staff see it."""
        office = Office(office)
        return cls(
            office=office,
            name=OFFICE_NAMES[office],
            kind=office_kind(office),
            allowed_roles=sorted(allowed_roles(office)),
            suspended=suspended,
            reason=reason,
            suspended_at=iso(suspended_at) if isinstance(suspended_at, datetime) else suspended_at,
        )


class OfficesOut(BaseModel):
    offices: list[OfficeOut]


class RoleOut(BaseModel):
    role: Role
    name: str
    offices: list[Office] = Field(description="可担任此角色的单位")


class RolesOut(BaseModel):
    roles: list[RoleOut]


# ---------------------------------------------------------------------------- signing in


class SignInOut(BaseModel):
    # Either tokens (status "signed_in") or a challenge to answer next.
    status: Literal["signed_in", "challenge"]
    username: str
    challenge: str | None = Field(default=None, description="NEW_PASSWORD_REQUIRED 或 SOFTWARE_TOKEN_MFA")
    session: str | None = None
    access_token: str | None = Field(default=None, description="调用接口时放在 Authorization: Bearer 后")
    id_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | None = None
    restriction: str = Field(default="", description="password_change 或 totp_enrolment：须先完成的事项")
    restriction_message: str = ""

    @classmethod
    def signed_in(cls, username: str, tokens: dict, restriction: str) -> SignInOut:
        return cls(
            status="signed_in",
            username=username,
            access_token=tokens["AccessToken"],
            id_token=tokens.get("IdToken"),
            refresh_token=tokens.get("RefreshToken"),
            expires_in=int(tokens.get("ExpiresIn", 0)),
            restriction=restriction,
            restriction_message=RESTRICTION_MESSAGES.get(restriction, ""),
        )


class SignOutOut(BaseModel):
    signed_out: bool
