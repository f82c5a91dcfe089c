"""Downloading a send's recipients as CSV or XLSX, built in the background (a send may have
millions of recipients, far beyond what one API response may carry or take).

- ``request_export``: the staff member's request, checked as a page of the same recipients
  would be (right, send, period, states, district), stored and queued on ``EXPORT_QUEUE_URL``;
  audited as ``recipients.export`` (which send, which states, which format: never the rows).
- ``build``: the export worker's job: counts the rows, then writes them page by page to a
  temporary file (``export_files``: memory stays flat), recording its progress, and uploads the
  file to the uploads bucket under ``exports/`` (its lifecycle deletes it the next day).
- ``status``: progress while it builds; once ready, a download link valid for a few minutes,
  each link audited as ``recipients.export_download``. Only the one who asked may see an
  export, and only for ``EXPIRES_AFTER`` (then 410).

Rows carry masked numbers and masked IDs only, and reasons in Chinese beside the raw codes;
every cell is neutralised against formulas (``recipient_rows.export_cells``).
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation.errors import Gone, NotFound
from sms_platform.foundation.observability import logger
from sms_platform.foundation.settings import settings
from sms_platform.reports import export_files, export_store, recipient_rows, recipients
from sms_platform.reports.recipient_models import ExportIn, ExportStatus, RecipientExport, RowState
from sms_platform.sending import message_store
from sms_platform.staff.context import StaffContext

EXPIRES_AFTER = timedelta(hours=24)
LINK_SECONDS = 300
PROGRESS_EVERY = 500  # rows between two progress writes
PAGE = 100  # rows whose masked IDs are looked up together
MAX_ATTEMPTS = 3
# An XLSX sheet holds 1,048,576 rows, and openpyxl writes a few thousand rows a second: a larger
# export is a CSV file (tens of thousands of rows a second).
MAX_XLSX_ROWS = 1_000_000
TOO_MANY_FOR_XLSX = f"超过 {MAX_XLSX_ROWS // 10_000} 万行，Excel 表格容纳不下，请改为导出 CSV 文件"
# A build still running after this long was cut off (its invocation timed out each time).
STALE_AFTER = timedelta(hours=2)
STATUS_NAMES = {
    ExportStatus.queued: "排队等待生成",
    ExportStatus.building: "正在生成",
    ExportStatus.ready: "已生成，可以下载",
    ExportStatus.failed: "生成失败",
}
FAILED_MESSAGE = "导出文件生成失败，请重新导出"
_EXPORT_ID = re.compile(r"[0-9a-f]{32}")


def object_key(export_id: str, file_name: str) -> str:
    return f"exports/{export_id}/{file_name}"


def _view(item: dict[str, Any], *, url: str | None = None) -> RecipientExport:
    status = ExportStatus(item["status"])
    return RecipientExport(
        export_id=item["export_id"], source=item["source"], id=item.get("ident") or None,
        period=item.get("period") or None, title=item["title"], district=item.get("district") or None,
        states=[RowState(s) for s in item.get("states") or []], format=item["format"], status=status,
        status_name=STATUS_NAMES[status], rows_done=int(item.get("rows_done") or 0),
        rows_total=int(item.get("rows_total") or 0), file_name=item["file_name"],
        created_at=datetime.fromisoformat(item["created_at"]),
        finished_at=datetime.fromisoformat(item["finished_at"]) if item.get("finished_at") else None,
        expires_at=datetime.fromisoformat(item["expires_at_iso"]), download_url=url, error=item.get("error"),
    )  # fmt: skip


def _queue(export_id: str) -> None:
    aws.client("sqs").send_message(
        QueueUrl=settings().value("EXPORT_QUEUE_URL"), MessageBody=json.dumps({"export_id": export_id})
    )


def request_export(ctx: StaffContext, body: ExportIn, *, now: datetime) -> RecipientExport:
    """Queue an export of the recipients ``body`` names, as ``ctx`` may see them."""
    group = recipients.resolve(ctx, body.source, body.id, body.period, now=now)
    states = recipient_rows.parse_states([state.value for state in body.states])
    export_id = uuid.uuid4().hex
    fields = {
        "owner": ctx.account_id, "office": ctx.office.value, "source": group.source.value, "ident": group.ident or "",
        "period": group.period or "", "group_key": group.key, "title": group.title, "district": group.district or "",
        "states": [s.value for s in states], "format": body.format, "created_at": now.isoformat(),
        "file_name": recipient_rows.file_name(group.source, group.ident, group.period, body.format, now),
    }  # fmt: skip
    item = export_store.create(export_id, fields, expires_at=now + EXPIRES_AFTER)
    _queue(export_id)
    trail.record(ctx, "recipients.export", group.target, None,
                 {"export_id": export_id, "format": body.format, "states": fields["states"],
                  "district": group.district}, ctx.office, at=now)  # fmt: skip
    return _view(item)


def _own(ctx: StaffContext, export_id: str, now: datetime) -> dict[str, Any]:
    item = export_store.get(export_id) if _EXPORT_ID.fullmatch(export_id or "") else None
    if item is None or item.get("owner") != ctx.account_id:
        raise NotFound("没有这个导出文件")  # another's export is not disclosed either
    if now >= datetime.fromisoformat(item["expires_at_iso"]):
        raise Gone("导出文件已过期并已删除，请重新导出")
    return item


def status(ctx: StaffContext, export_id: str, *, now: datetime) -> RecipientExport:
    """How far the export got; once ready, with a short-lived download link (audited)."""
    item = _own(ctx, export_id, now)
    if item["status"] == ExportStatus.building and now - datetime.fromisoformat(item["started_at"]) > STALE_AFTER:
        return _view({**item, "status": ExportStatus.failed, "error": FAILED_MESSAGE})
    if item["status"] != ExportStatus.ready:
        return _view(item)
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings().value("UPLOADS_BUCKET"),
            "Key": item["object_key"],
            "ResponseContentDisposition": f'attachment; filename="{item["file_name"]}"',
            "ResponseContentType": export_files.CONTENT_TYPES[item["format"]],
        },
        ExpiresIn=LINK_SECONDS,
    )
    trail.record(ctx, "recipients.export_download", item["group_key"].removeprefix("rcp#"), None,
                 {"export_id": export_id, "rows": int(item.get("rows_done") or 0)}, ctx.office, at=now)  # fmt: skip
    return _view(item, url=url)


# ---------------------------------------------------------------------------- the worker


def _rows(item: dict[str, Any]) -> tuple[str, str | None, list[str]]:
    """The index partition, district prefix and message states an export reads."""
    states = recipient_rows.message_states([RowState(s) for s in item.get("states") or []])
    return item["group_key"], recipient_rows.key_prefix(item.get("district") or None), states


def _count(item: dict[str, Any]) -> int:
    key, prefix, _ = _rows(item)
    totals = recipient_rows.totals(message_store.group_outcomes(key, prefix=prefix))
    wanted = [RowState(s) for s in item.get("states") or []]
    return totals.all if not wanted else sum(totals.states[state] for state in wanted)


def write_rows(item: dict[str, Any], out: Any, on_progress: Callable[[int], None]) -> int:
    """Write every row the export holds to ``out`` (an ``export_files`` file); how many."""
    key, prefix, states = _rows(item)
    done, page = 0, []

    def flush() -> None:
        nonlocal done
        masks = recipients.masked_ids(page)
        for message in page:
            out.write(recipient_rows.export_cells(recipient_rows.to_row(message, masks)))
        before, done = done, done + len(page)
        page.clear()
        if done // PROGRESS_EVERY > before // PROGRESS_EVERY:
            on_progress(done)

    for message in message_store.group_items(key, prefix=prefix, states=states):
        page.append(message)
        if len(page) >= PAGE:
            flush()
    if page:
        flush()
    return done


def _build(item: dict[str, Any], export_id: str, at: Callable[[], datetime]) -> bool:
    """Write, upload and finish the export; False when it is too large for its format."""
    total = _count(item)
    export_store.set_total(export_id, total)
    if item["format"] == "xlsx" and total > MAX_XLSX_ROWS:
        export_store.fail(export_id, TOO_MANY_FOR_XLSX, at())
        return False
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        path = Path(folder) / item["file_name"]
        out = export_files.open_file(item["format"], path, recipient_rows.EXPORT_HEADER)
        try:
            rows = write_rows(item, out, lambda done: export_store.progress(export_id, done))
        finally:
            out.close()
        key = object_key(export_id, item["file_name"])
        aws.client("s3").upload_file(
            str(path), settings().value("UPLOADS_BUCKET"), key,
            ExtraArgs={"ContentType": export_files.CONTENT_TYPES[item["format"]]},
        )  # fmt: skip
    export_store.finish(export_id, rows, key, at())
    return True


def build(export_id: str, at: Callable[[], datetime]) -> str:
    """The worker's job for one export: ``ready``, ``done`` (built already), ``gone``,
    ``expired`` or ``failed`` (after ``MAX_ATTEMPTS``); a fault before that is raised, and the
    queue delivers the job again."""
    item = export_store.get(export_id)
    if item is None:
        return "gone"
    if at() >= datetime.fromisoformat(item["expires_at_iso"]):
        export_store.fail(export_id, "导出请求已过期", at())
        return "expired"
    started = export_store.start(export_id, at())
    if started is None:
        return "done"
    try:
        built = _build(started, export_id, at)
    except Exception as error:
        if int(started.get("attempts") or 0) < MAX_ATTEMPTS:
            raise
        logger().error("recipient export failed", extra={"export_id": export_id, "error": type(error).__name__})
        export_store.fail(export_id, FAILED_MESSAGE, at())
        return "failed"
    return "ready" if built else "failed"
