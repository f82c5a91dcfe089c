"""Collecting contacts: one record at a time validated, a batch upserted, a CSV row read.

The same functions serve the staff batch route, the channels' batch route and the CSV import,
so every channel gets the same checks and the same per-record answers. ``collect`` is the staff
batch: within the staff member's districts, and audited when it changed anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from sms_platform.audit import trail
from sms_platform.contacts import upserts, validation
from sms_platform.contacts.access import districts_of
from sms_platform.contacts.models import ContactIn, RecordResult
from sms_platform.contacts.views_models import ContactBatch
from sms_platform.foundation import validation_messages
from sms_platform.foundation.errors import PayloadTooLarge, ValidationFailed
from sms_platform.staff.context import StaffContext

MAX_BATCH = 500

FIELD_NAMES = {
    "kind": "类型",
    "id": "证件号码",
    "name": "名称",
    "district": "区县",
    "phones": "手机号码",
    "number": "手机号码",
    "source": "来源渠道",
    "collected_at": "采集时间",
    "verified": "是否核验",
    "contact_name": "联系人",
    "insurance_types": "险种",
    "employer": "工作单位",
    "tags": "标签",
}


def describe(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``[{"field", "message"}]`` in Chinese, each naming its field, without the input values
    (the API's own words for every refusal: ``foundation.validation_messages``)."""
    described = validation_messages.describe(errors, validation_messages.model_root(ContactIn))
    return [{**d, "field": "record"} if d["field"] == "body" else d for d in described]  # the record as a whole


def reason_text(errors: list[dict[str, str]]) -> str:
    """One line for a report: 「证件号码：公民身份号码无效…」."""
    parts = []
    for error in errors:
        names = [FIELD_NAMES.get(part, "") for part in error["field"].split(".")]
        label = next((name for name in reversed(names) if name), error["field"])
        parts.append(f"{label}：{error['message']}")
    return "；".join(parts)


def validate(raw: Any) -> tuple[ContactIn | None, list[dict[str, str]]]:
    """A record checked field by field: the model, or the reasons it is refused."""
    if not isinstance(raw, dict):
        return None, [{"field": "record", "message": "应为对象"}]
    try:
        return ContactIn.model_validate(raw), []
    except ValidationError as error:
        return None, describe(error.errors(include_url=False))  # inputs are never repeated


def upsert_batch(
    raw_records: Any,
    *,
    at: datetime,
    districts: frozenset[str] | None = None,
    prepare: Callable[[Any], Any] | None = None,
    extra_check: Callable[[ContactIn], list[dict[str, str]]] | None = None,
    dry_run: bool = False,
) -> list[RecordResult]:
    """Validate and upsert up to ``MAX_BATCH`` records; each gets its own result. Upserting the
    same records again changes nothing (they come back ``unchanged``). ``prepare`` may fill in a
    raw record before it is checked; ``extra_check`` may refuse a valid one with its reasons;
    ``dry_run`` answers as the upsert would and writes nothing."""
    if not isinstance(raw_records, list) or not raw_records:
        raise ValidationFailed("contacts 应为非空列表", field="contacts")
    if len(raw_records) > MAX_BATCH:
        raise PayloadTooLarge(f"一次最多提交 {MAX_BATCH} 条，大批量请使用文件导入")
    results: dict[int, RecordResult] = {}
    valid: list[tuple[int, ContactIn]] = []
    for index, raw in enumerate(raw_records):
        record, errors = validate(prepare(raw) if prepare else raw)
        if record is not None and extra_check is not None:
            errors = extra_check(record)
        if record is None or errors:
            results[index] = RecordResult(index=index, status="rejected", errors=errors)
        else:
            valid.append((index, record))
    write = upserts.preview_many if dry_run else upserts.upsert_many
    for result in write(valid, at=at, districts=districts):
        results[result.index] = result
    return [results[index] for index in sorted(results)]


def collect(ctx: StaffContext, raw_records: Any, *, now: datetime) -> ContactBatch:
    """``POST /contacts/batch``: a staff member's batch, each record within their districts.
    Audited with its counts when it created or changed a record (a repeat changes nothing and
    leaves no entry)."""
    result = ContactBatch.of(upsert_batch(raw_records, at=now, districts=districts_of(ctx)))
    if result.created or result.updated:
        trail.record(ctx, "contacts.upsert", "contacts:batch", None, result.counts(), at=now)
    return result


# ------------------------------------------------------------------ CSV rows

COLUMNS = {
    "kind": ("kind", "类型", "对象类型"),
    "id": ("id", "证件号码", "身份证号码", "统一社会信用代码"),
    "name": ("name", "名称", "姓名", "单位名称"),
    "district": ("district", "区县", "所属区县"),
    "phone": ("phone", "手机号码", "手机号", "电话"),
    "source": ("source", "来源", "来源渠道"),
    "collected_at": ("collected_at", "采集时间"),
    "verified": ("verified", "已核验", "是否核验"),
    "insurance_types": ("insurance_types", "险种", "参保险种"),
    "employer": ("employer", "工作单位", "用人单位"),
    "tags": ("tags", "标签"),
    "contact_name": ("contact_name", "联系人"),
}
REQUIRED_COLUMNS = ("kind", "id", "name", "district", "phone")
_TRUE = {"1", "true", "yes", "y", "是", "已核验"}
_FALSE = {"", "0", "false", "no", "n", "否", "未核验"}
_LIST_SEPARATORS = str.maketrans({"、": ";", "，": ";", ",": ";", "|": ";", "；": ";"})


def header_columns(header: list[str]) -> list[str | None]:
    """Each header cell's field (None for a column we do not read); ValidationFailed when a
    required column is missing."""
    lookup = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
    fields = [lookup.get(cell.strip().lstrip("\ufeff").lower()) for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in fields]
    if missing:
        labels = "、".join(COLUMNS[name][1] for name in missing)
        raise ValidationFailed(f"文件缺少必需的列：{labels}", field="header")
    return fields


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.translate(_LIST_SEPARATORS).split(";") if part.strip()]


def row_record(fields: list[str | None], cells: list[str]) -> dict[str, Any]:
    """A CSV row as the batch shape (one phone per row; several rows add to one history)."""
    values = {name: cell.strip() for name, cell in zip(fields, cells, strict=False) if name}
    verified_text = values.get("verified", "").lower()
    verified: Any = True if verified_text in _TRUE else False if verified_text in _FALSE else verified_text
    phone: dict[str, Any] = {
        "number": values.get("phone", ""),
        "source": values.get("source") or "import",
        "verified": verified,
    }
    if values.get("collected_at"):
        phone["collected_at"] = values["collected_at"]
    if values.get("contact_name"):
        phone["contact_name"] = values["contact_name"]
    record: dict[str, Any] = {
        "kind": values.get("kind", ""),
        "id": values.get("id", ""),
        "name": values.get("name", ""),
        "district": values.get("district", ""),
        "phones": [phone],
        "insurance_types": _split(values.get("insurance_types", "")),
        "tags": _split(values.get("tags", "")),
    }
    if values.get("employer"):
        record["employer"] = values["employer"]
    return record


def masked_row(record: dict[str, Any]) -> tuple[str, str, str]:
    """Kind, ID and phone of a refused row as a report may show them."""
    kind = str(record.get("kind", ""))
    identifier = str(record.get("id", ""))
    phones = record.get("phones") or [{}]
    phone = str(phones[0].get("number", ""))
    is_person = kind in ("person", "参保人员")
    try:
        checked = validation.id_number(identifier) if is_person else validation.credit_code(identifier)
        id_masked = validation.mask_identifier("person" if is_person else "unit", checked)
    except ValueError:
        id_masked = validation.mask_unchecked(identifier)
    try:
        phone_masked = validation.mask_mobile(validation.mobile(phone))
    except ValueError:
        phone_masked = validation.mask_unchecked(phone)
    return kind, id_masked, phone_masked
