"""Staff identity: offices, roles and the rules between them (pure, no AWS).

The measures (R2, R9, R18) name who does what: the city social-insurance office makes, reviews
and files templates and publishes; each district office submits its own needs; the 12333
centre sends hang-up answers; the city IT office runs the platform. A permission administrator
grants each operator their rights and may neither approve nor send, so one person can never
both grant a right and use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sms_platform.foundation.errors import ValidationFailed


class Office(StrEnum):
    city = "city"
    huancui = "huancui"
    wendeng = "wendeng"
    rongcheng = "rongcheng"
    rushan = "rushan"
    gaoqu = "gaoqu"
    jingqu = "jingqu"
    lingang = "lingang"
    nanhai = "nanhai"
    hotline = "hotline"
    it = "it"


OFFICE_NAMES: dict[Office, str] = {
    Office.city: "市社保中心",
    Office.huancui: "环翠区",
    Office.wendeng: "文登区",
    Office.rongcheng: "荣成市",
    Office.rushan: "乳山市",
    Office.gaoqu: "高区",
    Office.jingqu: "经区",
    Office.lingang: "临港区",
    Office.nanhai: "南海新区",
    Office.hotline: "12333服务中心",
    Office.it: "信息技术科",
}

DISTRICTS: frozenset[Office] = frozenset(
    {
        Office.huancui,
        Office.wendeng,
        Office.rongcheng,
        Office.rushan,
        Office.gaoqu,
        Office.jingqu,
        Office.lingang,
        Office.nanhai,
    }
)


class Role(StrEnum):
    permission_admin = "permission_admin"
    city_reviewer = "city_reviewer"
    city_operator = "city_operator"
    district_operator = "district_operator"
    hotline_manager = "hotline_manager"
    hotline_agent = "hotline_agent"
    it_ops = "it_ops"
    auditor = "auditor"
    phone_reveal = "phone_reveal"


ROLE_NAMES: dict[Role, str] = {
    Role.permission_admin: "权限管理员",
    Role.city_reviewer: "市级审核员",
    Role.city_operator: "市级操作员（模板维护）",
    Role.district_operator: "区县操作员",
    Role.hotline_manager: "12333管理员",
    Role.hotline_agent: "12333坐席",
    Role.it_ops: "运维人员",
    Role.auditor: "审计员",
    Role.phone_reveal: "查看完整号码",
}

ALL_ROLES: frozenset[Role] = frozenset(Role)

# Roles that propose, approve or send messages. A permission administrator holds none of them.
APPROVE_OR_SEND_ROLES: frozenset[Role] = frozenset(
    {Role.city_reviewer, Role.city_operator, Role.district_operator, Role.hotline_manager, Role.hotline_agent}
)

# The auditor checks what administrators did, so the two stay apart as well (graded protection
# keeps system, security and audit administration in different hands).
ADMIN_EXCLUDES: frozenset[Role] = APPROVE_OR_SEND_ROLES | {Role.auditor}

# Which roles each kind of office may hold.
_CITY_ROLES = frozenset(
    {Role.permission_admin, Role.city_reviewer, Role.city_operator, Role.auditor, Role.phone_reveal}
)
_DISTRICT_ROLES = frozenset({Role.district_operator, Role.phone_reveal})
_HOTLINE_ROLES = frozenset({Role.hotline_manager, Role.hotline_agent, Role.phone_reveal})
_IT_ROLES = frozenset({Role.permission_admin, Role.it_ops, Role.auditor})


def office_kind(office: Office) -> str:
    """``city``, ``district``, ``hotline`` or ``it``."""
    office = Office(office)
    if office in DISTRICTS:
        return "district"
    return office.value


def allowed_roles(office: Office) -> frozenset[Role]:
    """The roles an account of ``office`` may hold."""
    return {
        "city": _CITY_ROLES,
        "district": _DISTRICT_ROLES,
        "hotline": _HOTLINE_ROLES,
        "it": _IT_ROLES,
    }[office_kind(office)]


def role_problems(office: Office, roles: Iterable[Role]) -> list[str]:
    """Why this set of roles cannot be held by an account of ``office`` (empty when it can)."""
    office = Office(office)
    held = {Role(role) for role in roles}
    problems = [
        f"{OFFICE_NAMES[office]}的账号不能担任{ROLE_NAMES[role]}" for role in sorted(held - allowed_roles(office))
    ]
    if Role.permission_admin in held:
        problems.extend(
            f"权限管理员不能同时担任{ROLE_NAMES[role]}（授权与审批、发送、审计须分离）"
            for role in sorted(held & ADMIN_EXCLUDES)
        )
    return problems


def check_roles(office: Office, roles: Iterable[Role]) -> None:
    """Raise ``ValidationFailed`` (with every reason) unless ``office`` may hold ``roles``."""
    problems = role_problems(office, roles)
    if problems:
        raise ValidationFailed(
            "；".join(problems), field="roles", details=[{"field": "roles", "message": p} for p in problems]
        )


@dataclass(frozen=True)
class StaffContext:
    """The signed-in staff member of one request, as the authorizer found the account.

    ``restriction`` is empty for normal use, ``password_change`` when the password has expired
    or was reset, ``totp_enrolment`` for a permission administrator without a second factor.
    """

    account_id: str
    username: str
    real_name: str
    staff_number: str
    office: Office
    roles: frozenset[Role] = field(default_factory=frozenset)
    status: str = "active"
    restriction: str = ""

    def has(self, *roles: Role) -> bool:
        """Whether the account holds any of ``roles``."""
        return any(Role(role) in self.roles for role in roles)

    @property
    def is_district(self) -> bool:
        return self.office in DISTRICTS

    @property
    def office_name(self) -> str:
        return OFFICE_NAMES[self.office]

    def to_authorizer_context(self) -> dict[str, str]:
        """Flat string values, as API Gateway passes an authorizer's context to the function."""
        return {
            "account_id": self.account_id,
            "username": self.username,
            "real_name": self.real_name,
            "staff_number": self.staff_number,
            "office": self.office.value,
            "roles": ",".join(sorted(role.value for role in self.roles)),
            "status": self.status,
            "restriction": self.restriction,
        }

    @classmethod
    def from_authorizer_context(cls, context: Mapping[str, Any]) -> StaffContext:
        """Read back what the authorizer passed; raises ``ValueError`` on anything missing or unknown."""
        if not context or not context.get("account_id"):
            raise ValueError("no staff account in the request")
        roles = frozenset(Role(part) for part in str(context.get("roles") or "").split(",") if part)
        return cls(
            account_id=str(context["account_id"]),
            username=str(context.get("username") or context["account_id"]),
            real_name=str(context.get("real_name") or ""),
            staff_number=str(context.get("staff_number") or ""),
            office=Office(str(context["office"])),
            roles=roles,
            status=str(context.get("status") or "active"),
            restriction=str(context.get("restriction") or ""),
        )


def can_see_office(ctx: StaffContext, office: Office | str) -> bool:
    """A district office's staff see and act on their own district only; the city office, the
    12333 centre and the IT office work for the whole city."""
    try:
        office = Office(office)
    except ValueError:
        return False
    if ctx.is_district:
        return office == ctx.office
    return True


def visible_offices(ctx: StaffContext) -> frozenset[Office]:
    """Every office whose records ``ctx`` may see (to filter a query)."""
    return frozenset(office for office in Office if can_see_office(ctx, office))
