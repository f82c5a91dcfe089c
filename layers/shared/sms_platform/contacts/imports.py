"""Staff CSV imports: uploaded straight to S3, checked row by row in background chunks.

1. ``create`` makes an import and a presigned PUT URL (the file never passes through the API).
2. ``start`` queues a *plan* job on the work queue once the upload is there.
   Both are staff actions, audited here; an import is seen and started by its own office only.
3. The plan job reads the file once as a stream, finds the byte offsets of every
   ``CHUNK_ROWS``-th line and queues one *chunk* job per piece.
4. Each chunk job reads its byte range, validates and upserts its rows, writes its rejected
   rows (masked) to S3, and adds its counts to the import's progress exactly once (a marker
   item per chunk, written in the same transaction as the counts). The last chunk joins the
   rejected rows into one report.

Every job may run twice (SQS delivers at least once): upserts are idempotent and a chunk's
counts are added once.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.contacts import collection, upserts, validation
from sms_platform.contacts.access import districts_of
from sms_platform.contacts.views_models import ImportCreated, ImportProgress, ImportReport
from sms_platform.foundation import spreadsheets
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound, PlatformError
from sms_platform.foundation.observability import logger
from sms_platform.foundation.settings import settings
from sms_platform.staff.context import StaffContext

CHUNK_ROWS = 5_000
UPLOAD_SECONDS = 900
REPORT_SECONDS = 900
MAX_FILE_BYTES = 512 * 1024 * 1024
PLAN_JOB = "contacts.import.plan"
CHUNK_JOB = "contacts.import.chunk"
REPORT_HEADER = ["行号", "类型", "证件号码（脱敏）", "手机号码（脱敏）", "原因"]
# S3's answers to a look at an object that is not there.
_ABSENT = ("404", "NoSuchKey", "NotFound")


def _bucket() -> str:
    return settings().value("UPLOADS_BUCKET")


def _table() -> Any:
    return aws.table(settings().contacts_table)


def _pk(import_id: str) -> str:
    return f"import#{import_id}"


def upload_key(import_id: str) -> str:
    return f"imports/{import_id}/upload.csv"


def _reject_key(import_id: str, chunk: int) -> str:
    return f"imports/{import_id}/rejects/{chunk:06d}.csv"


def report_key(import_id: str) -> str:
    return f"imports/{import_id}/report.csv"


# ------------------------------------------------------------------ staff-facing steps


def create(ctx: StaffContext, *, now: datetime) -> ImportCreated:
    """A new import and the presigned URL its CSV file is uploaded to. Its rows will be held to
    the districts its maker works on."""
    import_id = uuid.uuid4().hex
    districts = districts_of(ctx)
    item: dict[str, Any] = {
        "pk": _pk(import_id),
        "sk": "meta",
        "status": "uploading",
        "office": ctx.office.value,
        "created_by": ctx.account_id,
        "created_at": now.isoformat(),
        "rows_total": 0,
        "rows_done": 0,
        "accepted": 0,
        "rejected": 0,
        "chunks": 0,
        "chunks_done": 0,
    }
    if districts is not None:
        item["districts"] = sorted(districts)
    _table().put_item(Item=item)
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": _bucket(), "Key": upload_key(import_id), "ContentType": "text/csv"},
        ExpiresIn=UPLOAD_SECONDS,
    )
    trail.record(ctx, "contacts.import.create", f"contacts-import:{import_id}", at=now)
    return ImportCreated(
        import_id=import_id,
        upload_url=url,
        method="PUT",
        headers={"Content-Type": "text/csv"},
        expires_in=UPLOAD_SECONDS,
    )


def _meta(import_id: str) -> dict[str, Any]:
    item = _table().get_item(Key={"pk": _pk(import_id), "sk": "meta"}, ConsistentRead=True).get("Item")
    if not item:
        raise NotFound("没有这个导入任务")
    return item


def _own_meta(ctx: StaffContext, import_id: str, refusal: str) -> dict[str, Any]:
    """An import's item, for the office that made it only."""
    item = _meta(import_id)
    if item["office"] != ctx.office.value:
        raise Forbidden(refusal)
    return item


def get(ctx: StaffContext, import_id: str) -> ImportProgress:
    """An import's progress, for the office that made it."""
    return progress(_own_meta(ctx, import_id, "只能查看本单位的导入任务"))


def progress(item: dict[str, Any]) -> ImportProgress:
    return ImportProgress(
        import_id=item["pk"].split("#", 1)[1],
        status=item["status"],
        rows_total=int(item.get("rows_total", 0)),
        rows_done=int(item.get("rows_done", 0)),
        accepted=int(item.get("accepted", 0)),
        rejected=int(item.get("rejected", 0)),
        chunks=int(item.get("chunks", 0)),
        chunks_done=int(item.get("chunks_done", 0)),
        error=item.get("error"),
        created_at=item["created_at"],
        finished_at=item.get("finished_at"),
    )


def start(ctx: StaffContext, import_id: str, *, now: datetime) -> ImportProgress:
    """The upload is complete: queue the work. Starting twice changes nothing more (each start
    asked for is audited all the same, as a staff action)."""
    answer = _queue(_own_meta(ctx, import_id, "只能操作本单位的导入任务"))
    trail.record(ctx, "contacts.import.start", f"contacts-import:{import_id}", at=now)
    return answer


def _queue(item: dict[str, Any]) -> ImportProgress:
    import_id = item["pk"].split("#", 1)[1]
    if item["status"] != "uploading":
        return progress(item)
    try:
        head = aws.client("s3").head_object(Bucket=_bucket(), Key=upload_key(import_id))
    except Exception as error:
        if aws.error_code(error) in _ABSENT:
            raise Conflict("文件尚未上传，请先上传再开始导入") from None
        raise
    if head["ContentLength"] > MAX_FILE_BYTES:
        raise Conflict("文件过大，请拆分后分别导入")
    try:
        _table().update_item(
            Key={"pk": _pk(import_id), "sk": "meta"},
            UpdateExpression="SET #s = :queued",
            ConditionExpression="#s = :uploading",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":queued": "queued", ":uploading": "uploading"},
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
        return progress(_meta(import_id))
    _send([{"kind": PLAN_JOB, "import_id": import_id}])
    return progress(_meta(import_id))


def report_url(ctx: StaffContext, import_id: str) -> ImportReport:
    """A short-lived download link to the rejected rows (masked values only)."""
    item = _own_meta(ctx, import_id, "只能查看本单位的导入任务")
    if item["status"] != "done":
        raise Conflict("导入尚未完成，完成后可下载报告")
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": report_key(import_id),
            "ResponseContentDisposition": f'attachment; filename="import-{import_id}-report.csv"',
        },
        ExpiresIn=REPORT_SECONDS,
    )
    return ImportReport(import_id=import_id, url=url, expires_in=REPORT_SECONDS, rejected=int(item["rejected"]))


# ------------------------------------------------------------------ background work


def _send(bodies: list[dict[str, Any]]) -> None:
    sqs = aws.client("sqs")
    url = settings().value("WORK_QUEUE_URL")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(bodies[start : start + 10])]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} work messages were not queued")


def handle(job: dict[str, Any]) -> None:
    """Run one work-queue job of a contact import."""
    if job.get("kind") == PLAN_JOB:
        plan(job["import_id"])
    elif job.get("kind") == CHUNK_JOB:
        process_chunk(
            job["import_id"],
            int(job["chunk"]),
            int(job["start"]),
            int(job["end"]),
            int(job["first_line"]),
            int(job["rows"]),
        )
    else:
        raise ValueError(f"unknown work job {job.get('kind')!r}")


def _detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without a byte order mark) or, as Excel saves it in China, GB 18030."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A cut in the middle of the sample's last character is not a decoding failure.
        if error.start < len(sample) - 3:
            return "gb18030"
    return "utf-8-sig"


def line_offsets(stream: Iterator[bytes]) -> Iterator[int]:
    """The byte offset at which each line after the first begins."""
    position = 0
    for block in stream:
        found = block.find(b"\n")
        while found >= 0:
            yield position + found + 1
            found = block.find(b"\n", found + 1)
        position += len(block)


def chunk_bounds(offsets: Iterator[int], size: int, rows: int) -> Iterator[tuple[int, int, int, int]]:
    """Cut a file of ``size`` bytes into pieces of ``rows`` lines after its header, as
    ``(start, end, first line number, lines)``, holding one piece's offsets at a time."""
    pending: list[int] = []
    line = 2  # line 1 is the header
    for offset in offsets:
        if offset >= size:
            continue
        pending.append(offset)
        if len(pending) == rows + 1:
            yield pending[0], pending[-1], line, rows
            line += rows
            pending = pending[-1:]
    if pending:
        yield pending[0], size, line, len(pending)


def plan(import_id: str) -> None:
    item = _meta(import_id)
    if item["status"] not in ("queued", "planning"):
        return
    s3 = aws.client("s3")
    obj = s3.get_object(Bucket=_bucket(), Key=upload_key(import_id))
    size = obj["ContentLength"]
    body = obj["Body"]
    first = body.read(min(size, 64 * 1024))
    encoding = _detect_encoding(first)
    header_end = first.find(b"\n")
    header_bytes = first if header_end < 0 else first[:header_end]
    header = next(csv.reader([header_bytes.decode(encoding, "replace").rstrip("\r")]), [])
    try:
        collection.header_columns(header)
    except PlatformError as error:
        _fail(import_id, error.message)
        return

    def blocks() -> Iterator[bytes]:
        yield first
        yield from body.iter_chunks(1024 * 1024)

    chunks = list(chunk_bounds(line_offsets(blocks()), size, CHUNK_ROWS))
    rows = sum(chunk[3] for chunk in chunks)
    _table().update_item(
        Key={"pk": _pk(import_id), "sk": "meta"},
        UpdateExpression="SET #s = :running, header = :h, encoding = :e, rows_total = :r, chunks = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":running": "running" if chunks else "done",
            ":h": header,
            ":e": encoding,
            ":r": rows,
            ":c": len(chunks),
        },
    )
    if not chunks:
        _write_report(import_id, 0)
        return
    _send(
        [
            {"kind": CHUNK_JOB, "import_id": import_id, "chunk": i, "start": s, "end": e, "first_line": line, "rows": n}
            for i, (s, e, line, n) in enumerate(chunks)
        ]
    )


def _fail(import_id: str, message: str) -> None:
    _table().update_item(
        Key={"pk": _pk(import_id), "sk": "meta"},
        UpdateExpression="SET #s = :failed, #e = :m, finished_at = :t",
        ExpressionAttributeNames={"#s": "status", "#e": "error"},
        ExpressionAttributeValues={":failed": "failed", ":m": message, ":t": get_clock().now().isoformat()},
    )


def check_rows(header: list[str], lines: list[tuple[int, list[str]]]) -> tuple[list[tuple[int, Any]], list[list[str]]]:
    """Validate parsed rows: ``[(line, ContactIn)]`` accepted and report rows for the rest."""
    fields = collection.header_columns(header)
    accepted = []
    rejected = []
    for line, cells in lines:
        record = collection.row_record(fields, cells)
        contact, errors = collection.validate(record)
        if contact is None:
            kind, id_masked, phone_masked = collection.masked_row(record)
            rejected.append([str(line), kind, id_masked, phone_masked, collection.reason_text(errors)])
        else:
            accepted.append((line, contact))
    return accepted, rejected


def parse_lines(text: str, first_line: int) -> list[tuple[int, list[str]]]:
    """CSV rows with their line numbers; blank lines are skipped."""
    rows = []
    for offset, line in enumerate(text.split("\n")):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        cells = next(csv.reader([line]), [])
        rows.append((first_line + offset, cells))
    return rows


def process_chunk(import_id: str, chunk: int, start: int, end: int, first_line: int, rows: int) -> None:
    """Check and upsert one piece's rows; ``rows`` is its number of lines, blank ones included."""
    table = _table()
    if table.get_item(Key={"pk": _pk(import_id), "sk": f"chunk#{chunk:06d}"}, ConsistentRead=True).get("Item"):
        return  # already counted: a repeated delivery
    item = _meta(import_id)
    data = (
        aws.client("s3")
        .get_object(Bucket=_bucket(), Key=upload_key(import_id), Range=f"bytes={start}-{end - 1}")["Body"]
        .read()
    )
    text = data.decode(item.get("encoding", "utf-8-sig"), "replace")
    lines = parse_lines(text, first_line)
    accepted, rejected = check_rows(list(item["header"]), lines)
    districts = frozenset(item["districts"]) if "districts" in item else None
    results = upserts.upsert_many(
        [(line, contact) for line, contact in accepted], at=get_clock().now(), districts=districts
    )
    contacts_by_line = dict(accepted)
    for result in results:
        if result.status == "rejected":
            contact = contacts_by_line[result.index]
            rejected.append(
                [
                    str(result.index),
                    contact.kind.value,
                    validation.mask_identifier(contact.kind.value, contact.id),
                    validation.mask_mobile(contact.phones[0].number),
                    collection.reason_text(result.errors),
                ]
            )
    rejected.sort(key=lambda row: int(row[0]))
    if rejected:
        # Cells as uploaded (a row's type, the first characters of a refused number) may be
        # formulas to a spreadsheet: they are neutralised here, since the report joins these.
        aws.client("s3").put_object(
            Bucket=_bucket(), Key=_reject_key(import_id, chunk), Body=spreadsheets.csv_text(rejected).encode("utf-8")
        )
    counted = len(lines)  # data rows; blank lines count as done but neither accepted nor rejected
    try:
        aws.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": settings().value("CONTACTS_TABLE"),
                        "Item": {
                            "pk": {"S": _pk(import_id)},
                            "sk": {"S": f"chunk#{chunk:06d}"},
                            "rejected": {"N": str(len(rejected))},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": settings().value("CONTACTS_TABLE"),
                        "Key": {"pk": {"S": _pk(import_id)}, "sk": {"S": "meta"}},
                        "UpdateExpression": "ADD rows_done :r, accepted :a, rejected :j, chunks_done :one",
                        "ExpressionAttributeValues": {
                            ":r": {"N": str(rows)},
                            ":a": {"N": str(counted - len(rejected))},
                            ":j": {"N": str(len(rejected))},
                            ":one": {"N": "1"},
                        },
                    }
                },
            ]
        )
    except Exception as error:
        if aws.error_code(error) != "TransactionCanceledException":
            raise
        if not table.get_item(Key={"pk": _pk(import_id), "sk": f"chunk#{chunk:06d}"}, ConsistentRead=True).get("Item"):
            raise  # a conflict, not a repeat: let the queue deliver it again
    logger().info(
        "import chunk done",
        extra={
            "import_id": import_id,
            "chunk": chunk,
            "rows": rows,
            "rejected": len(rejected),
            "first_line": first_line,
        },
    )
    item = _meta(import_id)
    if int(item["chunks_done"]) >= int(item["chunks"]) and item["status"] == "running":
        _write_report(import_id, int(item["chunks"]))


def _write_report(import_id: str, chunks: int) -> None:
    """Join the chunks' rejected rows into one CSV (UTF-8 with a byte order mark for Excel); each
    chunk's rows were written with their cells neutralised (``spreadsheets.csv_text``)."""
    s3 = aws.client("s3")
    out = io.StringIO()
    out.write("\ufeff")
    out.write(spreadsheets.csv_text([REPORT_HEADER]))
    paginator = s3.get_paginator("list_objects_v2")
    keys = [
        obj["Key"]
        for page in paginator.paginate(Bucket=_bucket(), Prefix=f"imports/{import_id}/rejects/")
        for obj in page.get("Contents", [])
    ]
    for key in sorted(keys):
        out.write(s3.get_object(Bucket=_bucket(), Key=key)["Body"].read().decode("utf-8"))
    s3.put_object(
        Bucket=_bucket(), Key=report_key(import_id), Body=out.getvalue().encode("utf-8"), ContentType="text/csv"
    )
    _table().update_item(
        Key={"pk": _pk(import_id), "sk": "meta"},
        UpdateExpression="SET #s = :done, finished_at = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":done": "done", ":t": get_clock().now().isoformat()},
    )
