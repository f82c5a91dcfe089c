"""Personalised lists for targeted notices (R5, R7): a spreadsheet whose columns fill each
recipient's own message, proposed and reviewed like any send request.

1. ``create``: a sheet for an active targeted-notice template of the staff member's office, and
   a presigned URL its CSV or XLSX file is uploaded to (the file never passes the API).
2. ``start``: the upload is there; its check is queued on the work queue (``value_sheet_checks``
   runs it, with its progress on the sheet). Both are staff actions, audited here.
3. ``view`` and ``report``: counts, the first messages, the longest with its parts, parts per
   message and in total, the rejected rows (masked) and a download link to all of them.
4. ``for_request``: a send request of the same template takes the checked sheet as its audience
   (one request per sheet); ``review`` shows the reviewer the same.
5. ``cleanup`` (scheduled): the rows are deleted ``VALUE_SHEET_RETENTION_DAYS`` after the send
   ends (rejected, cancelled, stopped or fully queued), or after the check for a sheet no request
   took; the sheet item keeps its digest and counts.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from sms_platform.foundation.settings import settings
from sms_platform.sources import send_request_store, value_sheet_store
from sms_platform.sources.value_sheet_checks import check, open_summary
from sms_platform.sources.value_sheet_models import (
    CHECK_JOB,
    KIND_NAMES,
    MAX_FILE_BYTES,
    MAX_FILE_TEXT,
    MAX_ROWS,
    REPORT_SECONDS,
    STATUS_NAMES,
    UPLOAD_SECONDS,
    CleanupOut,
    MessagePreview,
    PartsCount,
    RejectedRow,
    SheetCreated,
    SheetIn,
    SheetRef,
    SheetReport,
    SheetView,
)
from sms_platform.sources.value_sheet_rows import sample_header
from sms_platform.staff.context import StaffContext, can_see_office
from sms_platform.templates import signatures, workflow
from sms_platform.templates.models import TemplateVersion
from sms_platform.text.templating import as_specs

ENDED = frozenset({"rejected", "cancelled", "stopped", "fanned_out"})


def _target(sheet_id: str) -> str:
    return f"value_sheet:{sheet_id}"


# ---------------------------------------------------------------------------- answers


def _view(meta: dict[str, Any]) -> SheetView:
    summary = open_summary(meta.get("summary"))
    longest = summary.get("longest")
    return SheetView(
        **{k: meta.get(k) for k in ("sheet_id", "kind", "office", "template_id", "template_version", "template_name",
                                    "status", "format", "bytes", "sha256", "rows_total", "error", "request_id",
                                    "created_at", "checked_at", "removed_at")},  # fmt: skip
        kind_name=KIND_NAMES[meta["kind"]],
        status_name=STATUS_NAMES[meta["status"]],
        **{k: int(meta.get(k) or 0) for k in ("rows_done", "rows", "accepted", "rejected", "total_parts")},
        columns=meta.get("columns", []),
        unused_columns=meta.get("unused_columns", []),
        preview=[MessagePreview(**p) for p in summary.get("preview", [])],
        longest=MessagePreview(**longest) if longest else None,
        parts=[PartsCount(parts=int(p), messages=int(n)) for p, n in sorted((meta.get("parts") or {}).items())],
        rejected_rows=[RejectedRow(**r) for r in summary.get("rejected_rows", [])],
    )


def _meta(ctx: StaffContext, sheet_id: str) -> dict[str, Any]:
    """A sheet the staff member may see: their own office's, or any for the city office."""
    meta = value_sheet_store.load(sheet_id)
    if not can_see_office(ctx, meta["office"]):
        raise NotFound("没有这个名单")
    return meta


def _own(ctx: StaffContext, sheet_id: str) -> dict[str, Any]:
    meta = value_sheet_store.load(sheet_id)
    if meta["office"] != ctx.office.value:
        raise Forbidden("只能操作本单位上传的名单")
    return meta


def view(ctx: StaffContext, sheet_id: str) -> SheetView:
    return _view(_meta(ctx, sheet_id))


def report(ctx: StaffContext, sheet_id: str) -> SheetReport:
    """A short-lived link to every rejected row (masked), as CSV."""
    meta = _meta(ctx, sheet_id)
    if meta["status"] == "removed":
        raise Gone("名单数据已按保留期限删除")
    if meta["status"] != "checked":
        raise Conflict("名单尚未检查完成，完成后可下载被拒行报告")
    if not int(meta.get("rejected") or 0):
        raise Conflict("名单没有被拒的行")
    return SheetReport(sheet_id=sheet_id, url=value_sheet_store.report_url(sheet_id), expires_in=REPORT_SECONDS,
                       rejected=int(meta["rejected"]))  # fmt: skip


# ---------------------------------------------------------------------------- uploading


def _usable(ctx: StaffContext, template_id: str, now: datetime) -> TemplateVersion:
    version = workflow.usable_version(template_id, now=now)
    if version.category != "targeted":
        raise ValidationFailed("个性化名单只能用于定向通知类模板", field="template_id")
    if version.office != ctx.office:
        raise Forbidden("只能使用本单位的模板发送（短信签名须为本单位）")
    if not version.variables:
        raise ValidationFailed("该模板没有变量，所有人收到的内容相同，无需上传名单", field="template_id")
    return version


def create(ctx: StaffContext, body: SheetIn, *, now: datetime) -> SheetCreated:
    """A new sheet of the staff member's office and the URL its file is uploaded to."""
    version = _usable(ctx, body.template_id, now)
    sheet_id = uuid.uuid4().hex
    value_sheet_store.create(
        sheet_id,
        {
            "office": ctx.office.value, "kind": body.kind, "status": "uploading", "created_at": now.isoformat(),
            "created_by": ctx.account_id, "template_id": version.template_id,
            "template_version": version.version, "template_name": version.name, "text": version.text,
            "variables": [spec.model_dump() for spec in version.variables],
            "sign_name": signatures.signature_for(version.office),
        },
    )  # fmt: skip
    url = value_sheet_store.upload_url(sheet_id)
    trail.record(ctx, "value_sheet.create", _target(sheet_id), None, {"kind": body.kind},
                 template_id=version.template_id, at=now)  # fmt: skip
    return SheetCreated(
        sheet_id=sheet_id, upload_url=url, method="PUT", headers={"Content-Type": value_sheet_store.CONTENT_TYPE},
        expires_in=UPLOAD_SECONDS, max_rows=MAX_ROWS, max_bytes=MAX_FILE_BYTES,
        columns=sample_header(version.variables, body.kind),
    )  # fmt: skip


def _queue_check(sheet_id: str) -> None:
    body = json.dumps({"kind": CHECK_JOB, "sheet_id": sheet_id})
    aws.client("sqs").send_message(QueueUrl=settings().value("WORK_QUEUE_URL"), MessageBody=body)


def start(ctx: StaffContext, sheet_id: str, *, now: datetime) -> SheetView:
    """The file is uploaded: queue its check. Starting again changes nothing more."""
    meta = _own(ctx, sheet_id)
    if meta["status"] == "uploading":
        size = value_sheet_store.upload_size(sheet_id)
        if size is None:
            raise Conflict("名单文件尚未上传，请先上传再开始检查")
        if size == 0:
            raise ValidationFailed("上传的文件是空的", field="file")
        if size > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"文件过大（最大 {MAX_FILE_TEXT}），请拆分成几个文件分别上传", field="file")
        if value_sheet_store.move(sheet_id, ("uploading",), status="queued", bytes=size, rows_done=0):
            _queue_check(sheet_id)
        meta = value_sheet_store.load(sheet_id)
    trail.record(ctx, "value_sheet.start", _target(sheet_id), template_id=meta["template_id"], at=now)
    return _view(meta)


def handle(job: dict[str, Any]) -> None:
    """Run one work-queue job of a personalised list."""
    if job.get("kind") != CHECK_JOB:
        raise ValueError(f"unknown work job {job.get('kind')!r}")
    check(str(job["sheet_id"]))


# ---------------------------------------------------------------------------- send requests


def for_request(ctx: StaffContext, sheet_id: str, version: TemplateVersion, request_id: str) -> SheetRef:
    """The checked sheet a new request of ``version`` takes as its audience (one request a sheet)."""
    meta = value_sheet_store.load(sheet_id)
    if meta["office"] != ctx.office.value:
        raise NotFound("没有这个名单")
    if meta["status"] == "removed":
        raise Gone("名单数据已按保留期限删除，请重新上传")
    if meta["status"] == "failed":
        raise ValidationFailed(f"名单检查未通过：{meta.get('error') or ''}，请修改后重新上传", field="sheet_id")
    if meta["status"] != "checked":
        raise Conflict("名单尚未检查完成，检查完成后才能提交申请")
    if (meta["template_id"], int(meta["template_version"])) != (version.template_id, version.version):
        raise Conflict("名单是按另一个模板（或模板的另一个版本）检查的，请按所选模板重新上传名单")
    if not int(meta.get("accepted") or 0):
        raise ValidationFailed("名单中没有通过检查的行，不能提交申请", field="sheet_id")
    value_sheet_store.bind(sheet_id, request_id)
    return SheetRef(
        sheet_id=sheet_id, sha256=meta["sha256"], format=meta["format"],
        **{k: int(meta.get(k) or 0) for k in ("rows", "accepted", "rejected", "total_parts", "max_parts")},
    )  # fmt: skip


def review(sheet_id: str) -> SheetView:
    """The sheet as its request's reviewer sees it (who may see the request decides)."""
    return _view(value_sheet_store.load(sheet_id))


def kind_of(sheet_id: str) -> str:
    return value_sheet_store.load(sheet_id)["kind"]


def first_values(sheet_id: str) -> dict[str, str]:
    """The first accepted row's values: what the author's test message is filled with."""
    meta = value_sheet_store.load(sheet_id)
    if meta["status"] != "checked":
        raise Gone("名单数据已按保留期限删除")
    first = json.loads(crypto.decrypt(value_sheet_store.load_chunk(sheet_id, 0)))[0]
    names = [spec.name for spec in as_specs(meta["variables"])]
    return dict(zip(names, first[3], strict=True))


# ---------------------------------------------------------------------------- retention


def _ended_at(meta: dict[str, Any], now: datetime) -> datetime | None:
    """When the sheet's use ended: its send's end (seen by the cleanup), or its check (or its
    creation) for a sheet no request took; None while a request may still send from it."""
    if meta.get("ended_at"):
        return datetime.fromisoformat(meta["ended_at"])
    if meta.get("request_id"):
        try:
            status = send_request_store.load(meta["request_id"]).status
        except NotFound:
            status = "cancelled"  # proposed, but the request was never stored
        if status not in ENDED:
            return None
        value_sheet_store.mark_ended(meta["sheet_id"], now)
        return now
    if meta["status"] in ("queued", "checking"):
        return None
    return datetime.fromisoformat(meta.get("checked_at") or meta["created_at"])


def cleanup(*, now: datetime) -> CleanupOut:
    """Delete the rows of every sheet whose retention is over (the daily schedule calls this)."""
    keep_for = timedelta(days=settings().value_sheet_retention_days)
    answer = CleanupOut()
    for meta in value_sheet_store.kept():
        ended = _ended_at(meta, now)
        if ended is None or now - ended < keep_for:
            answer.kept += 1
            continue
        value_sheet_store.delete_rows(meta["sheet_id"], int(meta.get("chunks") or 0))
        value_sheet_store.mark_removed(meta["sheet_id"], now)
        counts = {k: meta.get(k) for k in ("sha256", "rows", "accepted", "rejected")}
        trail.record(None, "value_sheet.remove", _target(meta["sheet_id"]), None, counts, office=meta["office"],
                     template_id=meta["template_id"], at=now)  # fmt: skip
        answer.removed.append(meta["sheet_id"])
    return answer
