"""What the address book holds: units and persons, their phone history, and the input shapes.

Input models validate one record at a time so that a batch or an import can report each
record's own result. Error messages never repeat the value they refuse (it may be a phone or
an ID number).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sms_platform.contacts import validation
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels

MAX_PHONES_PER_RECORD = 10
MAX_TAGS = 5
MAX_TAG_LENGTH = 20


class Kind(StrEnum):
    person = "person"
    unit = "unit"


class InsuranceType(StrEnum):
    pension = "pension"
    medical = "medical"
    unemployment = "unemployment"
    work_injury = "work_injury"
    maternity = "maternity"


class SourceChannel(StrEnum):
    service_hall = "service_hall"
    kiosk = "kiosk"
    online_declaration = "online_declaration"
    personal_online = "personal_online"
    mobile_app = "mobile_app"
    grassroots = "grassroots"
    medical_institution = "medical_institution"
    hotline_12333 = "hotline_12333"
    import_ = "import"


# The eight district offices (R1), by the codes the staff accounts use, with their names.
DISTRICTS: dict[str, str] = {
    "huancui": "环翠区",
    "wendeng": "文登区",
    "rongcheng": "荣成市",
    "rushan": "乳山市",
    "gaoqu": "高区",
    "jingqu": "经区",
    "lingang": "临港区",
    "nanhai": "南海新区",
}
_DISTRICT_BY_NAME = {name: code for code, name in DISTRICTS.items()}

# Chinese names accepted in CSV files and shown to staff.
KIND_NAMES = {"person": "参保人员", "unit": "参保单位"}
INSURANCE_NAMES = {
    "pension": "养老保险",
    "medical": "医疗保险",
    "unemployment": "失业保险",
    "work_injury": "工伤保险",
    "maternity": "生育保险",
}
SOURCE_NAMES = {
    "service_hall": "服务大厅",
    "kiosk": "自助终端",
    "online_declaration": "网上申报",
    "personal_online": "个人网上服务",
    "mobile_app": "手机APP",
    "grassroots": "基层平台",
    "medical_institution": "定点医疗机构",
    "hotline_12333": "12333",
    "import": "批量导入",
}


def district_code(value: str) -> str:
    """A district's code from its code or its Chinese name; ValueError if it is not one of ours."""
    text = value.strip()
    if text in DISTRICTS:
        return text
    if text in _DISTRICT_BY_NAME:
        return _DISTRICT_BY_NAME[text]
    raise ValueError("不是本市的区县")


def _from_names(value: Any, names: dict[str, str]) -> Any:
    """Accept a Chinese display name where a code is expected (CSV files are made by hand)."""
    if isinstance(value, str):
        text = value.strip()
        for code, name in names.items():
            if text == name:
                return code
        return text
    return value


class PhoneIn(BaseModel):
    """One phone number as a channel collected it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        field_title_generator=labels(
            {"number": "手机号码", "source": "来源渠道", "collected_at": "采集时间", "verified": "是否核验"}
        ),
    )

    number: str = Field(min_length=1, max_length=32)
    source: SourceChannel
    collected_at: datetime | None = None
    verified: bool = False
    contact_name: Annotated[str | None, Visible("联系人")] = Field(default=None, max_length=50)

    @field_validator("source", mode="before")
    @classmethod
    def _source_name(cls, value: Any) -> Any:
        return _from_names(value, SOURCE_NAMES)

    @field_validator("number")
    @classmethod
    def _mobile(cls, value: str) -> str:
        return validation.mobile(value)

    @field_validator("collected_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=BEIJING)
        if value > get_clock().now():
            raise ValueError("采集时间不能晚于当前时间")
        return value


Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_LENGTH, pattern=r"^[^#&=;,，、\s]+$"), Visible("标签")]


class ContactIn(BaseModel):
    """A unit or a person with the phone numbers collected for it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        field_title_generator=labels(
            {"kind": "对象类型", "district": "区县", "phones": "手机号码", "insurance_types": "险种", "tags": "标签"}
        ),
    )

    kind: Kind
    id: Annotated[str, Visible("证件号码")] = Field(
        min_length=1, max_length=32, description="公民身份号码或统一社会信用代码"
    )
    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=100)
    district: str
    phones: list[PhoneIn] = Field(min_length=1, max_length=MAX_PHONES_PER_RECORD)
    insurance_types: list[InsuranceType] = Field(default_factory=list)
    employer: Annotated[str | None, Visible("工作单位")] = Field(default=None, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_name(cls, value: Any) -> Any:
        return _from_names(value, KIND_NAMES)

    @field_validator("insurance_types", mode="before")
    @classmethod
    def _insurance_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_from_names(item, INSURANCE_NAMES) for item in value]
        return value

    @field_validator("district")
    @classmethod
    def _district(cls, value: str) -> str:
        return district_code(value)

    @field_validator("insurance_types", "tags")
    @classmethod
    def _distinct(cls, value: list[Any]) -> list[Any]:
        return sorted(set(value))

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is None:
            return value  # the kind is refused already; the ID cannot be checked without it
        return validation.id_number(value) if kind is Kind.person else validation.credit_code(value)


class PhoneEntry(BaseModel):
    """One number in a record's history: stored encrypted, found by hash, shown masked."""

    model_config = ConfigDict(frozen=True)

    hash: str
    token: str
    masked: str
    source: SourceChannel
    collected_at: datetime
    verified: bool
    contact_name: str | None = None


class CheckFailure(BaseModel):
    """One permanent delivery failure of a number: when, which send (message source), which code."""

    model_config = ConfigDict(frozen=True)

    failed_at: datetime
    source_id: str
    kind: str
    error_code: str


class NumberCheck(BaseModel):
    """A record's number in use is held for verification (R10 ↔ R16): which number, since when,
    and the failures that put it on its district's worklist."""

    model_config = ConfigDict(frozen=True)

    phone_hash: str
    phone_masked: str
    since: datetime
    failures: list[CheckFailure] = Field(default_factory=list)


def current_phone(phones: Iterable[PhoneEntry]) -> PhoneEntry | None:
    """The number in use: the latest verified one; while none is verified, the latest one.

    Here rather than in ``records`` because a record answers it itself (``Contact.current_phone``)
    and ``records`` builds on these models: imports run models -> records, one way."""
    entries = list(phones)
    verified = [entry for entry in entries if entry.verified]
    pool = verified or entries
    if not pool:
        return None
    return max(pool, key=lambda entry: (entry.collected_at, entry.hash))


class Contact(BaseModel):
    """A stored record, as the repository reads and writes it (no number in clear)."""

    kind: Kind
    id_hash: str
    id_token: str
    id_masked: str
    name: str
    district: str
    insurance_types: list[InsuranceType] = Field(default_factory=list)
    employer: str | None = None
    tags: list[str] = Field(default_factory=list)
    phones: list[PhoneEntry] = Field(default_factory=list)
    version: int = 0
    updated_at: datetime | None = None
    number_check: NumberCheck | None = None  # its number in use needs verification

    @property
    def ref(self) -> str:
        """The record's opaque reference, safe in URLs (a keyed hash, never the ID itself)."""
        return f"{self.kind.value}-{self.id_hash}"

    @property
    def current_phone(self) -> PhoneEntry | None:
        return current_phone(self.phones)


class Recipient(NamedTuple):
    """One recipient of an audience: the number in use, encrypted, with its keyed hash (one
    message per hash and send) and its masked form for display."""

    ref: str
    kind: str
    name: str
    district: str
    phone_hash: str
    phone_token: str
    phone_masked: str

    @classmethod
    def of(cls, contact: Contact, phone: PhoneEntry) -> Recipient:
        return cls(
            contact.ref, contact.kind.value, contact.name, contact.district, phone.hash, phone.token, phone.masked
        )


class RecordResult(BaseModel):
    """What happened to one record of a batch."""

    index: int
    status: Literal["created", "updated", "unchanged", "rejected"]
    ref: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)
