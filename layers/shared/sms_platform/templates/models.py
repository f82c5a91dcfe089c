"""Templates as values: their categories and statuses, the versions and their content, and the
pure rules (who may write or review which template, validity periods, the publicity opt-out line).

A template has a category, an owning office (whose signature its messages carry), a text in
the carrier's form with declared typed variables, and a validity period. Each version moves:

    draft → submitted → approved | rejected
    approved → filed (AddSmsTemplate) → carrier_approved → active → retired | expired
    filed → carrier_rejected (with the carrier's reason)

with each configured carrier (``carrier_filings``): a version is usable once one carrier
approved it, and rejected once every one did (``settled_status``).

Nothing here reads or writes a table: ``store`` keeps templates, ``workflow`` and ``filing``
move them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import NotFound
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.staff.context import DISTRICTS, Office, Role, StaffContext, can_see_office
from sms_platform.text.templating import VariableSpec

Category = Literal["triggered", "targeted", "publicity", "hangup", "subscription", "system"]
Status = Literal[
    "draft",
    "submitted",
    "approved",
    "rejected",
    "filed",
    "carrier_approved",
    "carrier_rejected",
    "active",
    "retired",
    "expired",
]

CATEGORY_NAMES: dict[str, str] = {
    "triggered": "业务触发类",
    "targeted": "定向通知类",
    "publicity": "宣传公告类",
    "hangup": "12333挂机短信",
    "subscription": "付费订阅类",
    "system": "平台系统消息",
}

STATUS_NAMES: dict[str, str] = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "审核通过，待报备",
    "rejected": "审核未通过",
    "filed": "已报备，运营商审核中",
    "carrier_approved": "运营商已通过，未到生效日期",
    "carrier_rejected": "运营商未通过",
    "active": "已启用",
    "retired": "已停用",
    "expired": "已过期",
}

# The carrier's TemplateType: 0 verification code, 1 notice, 2 publicity.
CARRIER_TEMPLATE_TYPES: dict[str, int] = {
    "system": 0,
    "triggered": 1,
    "targeted": 1,
    "hangup": 1,
    "subscription": 1,
    "publicity": 2,
}

# Statuses in which a version is still on its way (only one per template at a time).
IN_PROGRESS: frozenset[str] = frozenset({"draft", "submitted", "approved", "filed", "carrier_approved"})
# Statuses the filing poller looks after.
POLLED: tuple[str, ...] = ("approved", "filed", "carrier_approved", "active")

OPT_OUT_LINE = "拒收请回复R"
MAX_VALIDITY_DAYS = 366 * 5


# ---------------------------------------------------------------------------- pure rules


def owner_offices(category: str) -> frozenset[Office]:
    """Which offices may own a template of ``category``."""
    if category == "system":
        return frozenset({Office.it})
    if category == "hangup":
        return frozenset({Office.hotline})
    if category in ("triggered", "subscription"):
        return frozenset({Office.city})
    return frozenset({Office.city, *DISTRICTS})


def may_author(ctx: StaffContext, category: str, office: Office | str) -> bool:
    """Whether ``ctx`` may write a template of ``category`` owned by ``office``.

    The city operator maintains templates for the city, the 12333 centre's answers and the
    districts' notices; a district operator writes its own district's notices and publicity;
    the 12333 manager its answers; the IT office the platform's own messages.
    """
    office = Office(office)
    if office not in owner_offices(category) or not can_see_office(ctx, office):
        return False
    if category == "system":
        return ctx.has(Role.it_ops) and ctx.office == Office.it
    if ctx.has(Role.city_operator) and ctx.office == Office.city:
        return True
    if category == "hangup":
        return ctx.has(Role.hotline_manager) and ctx.office == Office.hotline
    if category in ("targeted", "publicity"):
        return ctx.has(Role.district_operator) and ctx.office == office
    return False


def may_review(ctx: StaffContext) -> bool:
    return ctx.has(Role.city_reviewer) and ctx.office == Office.city


def day_of(now: datetime) -> date:
    """The date in Beijing at ``now``: validity periods are Beijing dates."""
    return now.astimezone(BEIJING).date()


def today() -> date:
    return day_of(get_clock().now())


def validity_problems(valid_from: date, valid_until: date, *, on: date) -> list[str]:
    problems = []
    if valid_until < valid_from:
        problems.append("有效期结束日期不能早于开始日期")
    if valid_until < on:
        problems.append("有效期已经结束，请设置今天或以后的结束日期")
    if (valid_until - valid_from).days > MAX_VALIDITY_DAYS:
        problems.append("有效期最长五年")
    return problems


def is_valid_on(valid_from: date, valid_until: date, day: date) -> bool:
    return valid_from <= day <= valid_until


def opt_out_problem(category: str, text: str) -> str | None:
    """Publicity texts must end with the opt-out line, so a recipient can refuse more."""
    if category != "publicity":
        return None
    ending = text.rstrip().rstrip("。.!！")
    if ending.endswith(OPT_OUT_LINE):
        return None
    return f"宣传类模板必须以“{OPT_OUT_LINE}”结尾，以便收信人退订"


# ---------------------------------------------------------------------------- models


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    username: str
    real_name: str

    @classmethod
    def of(cls, ctx: Any) -> Person:
        return cls(account_id=ctx.account_id, username=ctx.username, real_name=ctx.real_name)


# The models staff are answered with have no docstrings: pydantic would put them into the
# OpenAPI document as descriptions.


class FindingOut(BaseModel):
    level: Literal["block", "warn", "info"] = Field(description="block：不能通过审核；warn：请审核员注意；info：说明")
    code: str
    message: str


class TemplateContent(BaseModel):
    """What an author writes: the text and its variables, the validity period, a remark for
    the carrier's reviewers (what the message is for)."""

    model_config = ConfigDict(
        extra="forbid",
        field_title_generator=labels(
            {
                "variables": "变量",
                "valid_from": "有效期开始",
                "valid_until": "有效期结束",
                "category": "类别",
                "office": "所属单位",
            }
        ),
    )

    name: Annotated[str, Visible("模板名称")] = Field(min_length=2, max_length=30)
    text: Annotated[str, Visible("短信内容", multiline=True)] = Field(min_length=1, max_length=500)
    variables: list[VariableSpec] = Field(default_factory=list, max_length=20)
    valid_from: date
    valid_until: date
    remark: Annotated[str, Visible("用途说明", multiline=True)] = Field(min_length=2, max_length=200)

    @field_validator("name", "text", "remark")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value

    @model_validator(mode="after")
    def _variables_unique(self) -> TemplateContent:
        names = [spec.name for spec in self.variables]
        if len(names) != len(set(names)):
            raise ValueError("变量名不能重复")
        return self


class TemplateDraft(TemplateContent):
    category: Category
    office: Office


# The carriers by the names staff know them by (``carrier.configured`` lists those in use).
CARRIER_NAMES: dict[str, str] = {"alibaba": "阿里云", "tencent": "腾讯云"}

FilingStateName = Literal["filing", "under_review", "approved", "rejected"]

# How staff read a filing's state: "filing" is a filing the carrier has not taken yet (it was
# down or busy), which the poller tries again.
FILING_STATE_NAMES: dict[str, str] = {
    "filing": "待报备",
    "under_review": "报备中",
    "approved": "已通过",
    "rejected": "被拒",
}


class CarrierFiling(BaseModel):
    """A version's filing with one carrier: the carrier's id of the template, its review's state
    and reason, and for a carrier with positional placeholders (Tencent's ``{1}``, ``{2}`` ...)
    the variable names in position order (``carrier.placeholders``), which its sends map their
    named values through."""

    carrier: str
    template_id: str | None = None
    state: FilingStateName = "filing"
    reason: str | None = None
    placeholders: list[str] = Field(default_factory=list)
    filed_at: datetime | None = None
    checked_at: datetime | None = None

    @computed_field(description="运营商名称")  # type: ignore[prop-decorator]
    @property
    def carrier_name(self) -> str:
        return CARRIER_NAMES.get(self.carrier, self.carrier)

    @computed_field(description="待报备、报备中、已通过或被拒")  # type: ignore[prop-decorator]
    @property
    def state_name(self) -> str:
        return FILING_STATE_NAMES[self.state]

    @computed_field(description="一行说明，如“腾讯云：被拒：原因”")  # type: ignore[prop-decorator]
    @property
    def line(self) -> str:
        told = f"{self.carrier_name}：{self.state_name}"
        return f"{told}：{self.reason}" if self.state == "rejected" and self.reason else told


# How the Alibaba refusal of a filing itself (not a rejection after review) starts in the
# version's carrier_reason.
FILING_REFUSED = "报备被拒："


def legacy_alibaba_filing(version: TemplateVersion) -> CarrierFiling | None:
    """The Alibaba filing of a version stored before filings were kept per carrier, read from
    its ``carrier_*`` fields (those set a check time only on the carrier's verdict)."""
    if version.carrier_code is None and version.status != "carrier_rejected":
        return None
    if version.status == "carrier_rejected":
        state: FilingStateName = "rejected"
    else:
        state = "approved" if version.carrier_checked_at else "under_review"
    reason = (version.carrier_reason or "").removeprefix(FILING_REFUSED) or None
    return CarrierFiling(
        carrier="alibaba", template_id=version.carrier_code, state=state,
        reason=reason if state == "rejected" else None,
        filed_at=version.filed_at, checked_at=version.carrier_checked_at,
    )  # fmt: skip


def settled_status(current: Status, states: Iterable[str]) -> Status:
    """A version's status from its filings' states with the configured carriers: usable once
    one carrier approved it, rejected once every one did, filed while one is reviewing. A
    filing not taken yet leaves the status as it is (the poller files it again); an active
    version stays active."""
    states = set(states)
    if current == "active" or not states:
        return current
    if "approved" in states:
        return "carrier_approved"
    if "under_review" in states:
        return "filed"
    if states == {"rejected"}:
        return "carrier_rejected"
    return current


class TemplateVersion(BaseModel):
    template_id: str
    version: int
    name: str
    category: Category
    office: Office
    text: str
    variables: list[VariableSpec]
    valid_from: date
    valid_until: date
    remark: str
    status: Status
    status_name: str
    author: Person
    created_at: datetime
    updated_at: datetime
    signature: str | None = None
    findings: list[FindingOut] = Field(default_factory=list)
    submitted_at: datetime | None = None
    reviewer: Person | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None
    reject_reason: str | None = None
    carrier_template_type: int | None = None
    carrier_code: str | None = None
    carrier_reason: str | None = None
    filed_at: datetime | None = None
    carrier_checked_at: datetime | None = None
    # The version's filing with each carrier by name ("tencent" ...); the Alibaba filing is also
    # kept in the carrier_* fields above, which the rest of the platform reads.
    carrier_filings: dict[str, CarrierFiling] = Field(default_factory=dict)
    activated_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    @model_validator(mode="after")
    def _alibaba_filing(self) -> TemplateVersion:
        # A version stored before filings were kept per carrier has its Alibaba filing in the
        # carrier_* fields only: read it from there, so every answer lists it per carrier.
        if "alibaba" not in self.carrier_filings:
            legacy = legacy_alibaba_filing(self)
            if legacy is not None:
                self.carrier_filings = {"alibaba": legacy, **self.carrier_filings}
        return self

    @property
    def target(self) -> str:
        return f"template:{self.template_id}:v{self.version}"

    def summary(self) -> dict[str, Any]:
        """What the audit trail keeps of a version's state (with each carrier's filing, once filed)."""
        keep = ("status", "text", "valid_from", "valid_until", "carrier_code", "reject_reason", "carrier_reason")
        kept = self.model_dump(mode="json", include=set(keep))
        if self.carrier_filings:
            kept["carrier_filings"] = {
                name: f.model_dump(mode="json", include={"template_id", "state", "reason"})
                for name, f in self.carrier_filings.items()
            }
        return kept


class Template(BaseModel):
    template_id: str
    name: str
    category: Category
    office: Office
    latest_version: int
    active_version: int | None = None
    created_at: datetime
    versions: list[TemplateVersion] = Field(default_factory=list)

    def numbered(self, version: int) -> TemplateVersion:
        """One of the template's versions; ``NotFound`` when it has no such version."""
        found = next((v for v in self.versions if v.version == version), None)
        if found is None:
            raise NotFound(f"模板没有第 {version} 版")
        return found


def moved(version: TemplateVersion, status: Status, now: datetime, **changes: Any) -> TemplateVersion:
    """``version`` in ``status`` from ``now`` on, with ``changes``. Attributes are taken as they
    are (``model_copy`` does not validate), so callers pass models, not dumped dicts."""
    update = {"status": status, "status_name": STATUS_NAMES[status], **changes, "updated_at": now}
    return version.model_copy(update=update)


def ended(version: TemplateVersion, status: Status, reason: str, now: datetime) -> TemplateVersion:
    """``version`` retired or expired: it stays readable, nothing is sent with it any more."""
    return moved(version, status, now, ended_at=now, end_reason=reason)


# ---------------------------------------------------------------------------- answers


class TemplatesOut(BaseModel):
    templates: list[Template]


class VersionsOut(BaseModel):
    versions: list[TemplateVersion]


class WordOut(BaseModel):
    word: str
    source: str = Field(description="seed：初始词表；reviewer：审核员添加")
    category: str | None = None
    added_by: str | None = None


class WordsOut(BaseModel):
    words: list[WordOut]


class LengthOut(BaseModel):
    characters: int = Field(description="含签名的字数")
    encoding: Literal["GSM-7", "UCS-2"] | None = Field(description="编码；超长时为空")
    parts: int | None = Field(description="计费条数；超长时为空")
    per_part: int | None
    units: int | None
    too_long: bool
    limit: int = Field(description="含签名最多字数")


class ContentCheckOut(BaseModel):
    findings: list[FindingOut]
    blocks: bool = Field(description="是否有不能通过审核的问题")
    signature: str = Field(description="所属单位的签名（不含括号）")
    preview: str = Field(description="手机上显示的内容（含签名）")
    length: LengthOut
