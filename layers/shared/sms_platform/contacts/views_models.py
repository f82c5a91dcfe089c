"""What the address book answers: the shapes its services return to staff and channels.

Apart from ``models`` (what the book holds and takes in): these are answers, built from a record
or a store item by the service that made the change or the read. Numbers appear masked here,
except in ``RevealedPhone``, the audited reveal of one number.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from sms_platform.contacts.models import RecordResult

# ------------------------------------------------------------------ collection


class ContactBatch(BaseModel):
    """A batch of records collected: how many went each way, and each record's own result."""

    created: int
    updated: int
    unchanged: int
    rejected: int
    results: list[RecordResult]

    @classmethod
    def of(cls, results: Iterable[RecordResult]) -> ContactBatch:
        listed = list(results)
        counts = dict.fromkeys(("created", "updated", "unchanged", "rejected"), 0)
        for result in listed:
            counts[result.status] += 1
        return cls(**counts, results=listed)

    def counts(self) -> dict[str, int]:
        return self.model_dump(exclude={"results"})


# ------------------------------------------------------------------ records as staff see them


class ContactSummary(BaseModel):
    ref: str
    kind: str
    kind_name: str
    id_masked: str
    name: str
    district: str
    district_name: str
    phone_masked: str | None
    phone_verified: bool


class PhoneView(BaseModel):
    phone_masked: str
    source: str
    source_name: str
    collected_at: str
    verified: bool
    contact_name: str | None
    in_use: bool


class ContactDetail(ContactSummary):
    insurance_types: list[str]
    insurance_names: list[str]
    employer: str | None
    tags: list[str]
    opted_out: bool | None
    updated_at: str | None
    phones: list[PhoneView]


class ContactPage(BaseModel):
    contacts: list[ContactSummary] = Field(
        description="按姓名或名称的拼音顺序排列（不计声调），同音按汉字，同名按记录编号；各页前后相接"
    )
    total: int = Field(description="该区县此类对象的记录总数（各页合计）")
    cursor: str | None = Field(description="下一页的游标；没有更多时为空")


class ContactSearch(BaseModel):
    contacts: list[ContactSummary]


class RevealedPhone(BaseModel):
    ref: str
    phone: str
    phone_masked: str
    revealed_at: str


class OptOutChange(BaseModel):
    phone_masked: str
    opted_out: bool
    changed_at: str
    applied: bool = Field(description="为 false 时表示已有更新的选择，本次未改变当前状态")


# ------------------------------------------------------------------ imports


class ImportCreated(BaseModel):
    import_id: str
    upload_url: str = Field(description="用 PUT 上传 CSV 文件到此地址")
    method: str
    headers: dict[str, str]
    expires_in: int


class ImportProgress(BaseModel):
    import_id: str
    status: str = Field(description="uploading、queued、running、done 或 failed")
    rows_total: int
    rows_done: int
    accepted: int
    rejected: int
    chunks: int
    chunks_done: int
    error: str | None = None
    created_at: str
    finished_at: str | None = None


class ImportReport(BaseModel):
    import_id: str
    url: str = Field(description="被拒行报告（CSV，号码已脱敏）的下载地址")
    expires_in: int
    rejected: int


# ------------------------------------------------------------------ audiences and lists


class AudienceCount(BaseModel):
    count: int


class ListCreated(BaseModel):
    list_id: str
    upload_url: str
    headers: dict[str, str]
    expires_in: int


class ListChecked(BaseModel):
    list_id: str
    kind: str
    count: int
    invalid: int


# ------------------------------------------------------------------ channel keys


class SourceGrants(BaseModel):
    api_key_id: str
    sources: list[str] = Field(description="该密钥可提交的号码来源渠道")
