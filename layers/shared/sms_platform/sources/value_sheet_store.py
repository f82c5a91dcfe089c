"""Personalised lists in ``SENDS_TABLE`` and ``UPLOADS_BUCKET``: the only code that reads or
writes them.

- ``pk="vsheet#<id>"``, ``sk="meta"``: the sheet, its status, counts, digest and, encrypted
  (``crypto``), what staff see of its rows (first messages, longest, rejected rows masked).
  Until its rows are removed it sits in ``gsi1`` under ``vsheets#kept``, where the retention
  cleanup finds it; a removed sheet's item expires a year later (``expires_at``).
- ``pk="vsheet#<id>"``, ``sk="rows#NNNNN"``: ``CHUNK_ROWS`` accepted rows, one encrypted token
  (identifier, phone given, values): the fan-out reads one chunk per page.
- S3 ``value-sheets/<id>/upload``: the file as uploaded (presigned PUT), deleted, every version
  of it, once checked; ``value-sheets/<id>/report.csv``: the rejected rows, masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.sources.value_sheet_models import REPORT_SECONDS, UPLOAD_SECONDS

KEPT = "vsheets#kept"
REMOVED_ITEM_DAYS = 365  # a removed sheet's counts and digest stay readable beside its request
CONTENT_TYPE = "application/octet-stream"
# S3's answers to a look at an object that is not there.
_ABSENT = ("404", "NoSuchKey", "NotFound")


def _table() -> Any:
    return aws.table(settings().sends_table)


def _bucket() -> str:
    return settings().value("UPLOADS_BUCKET")


def _key(sheet_id: str, sk: str = "meta") -> dict[str, str]:
    return {"pk": f"vsheet#{sheet_id}", "sk": sk}


def upload_key(sheet_id: str) -> str:
    return f"value-sheets/{sheet_id}/upload"


def report_key(sheet_id: str) -> str:
    return f"value-sheets/{sheet_id}/report.csv"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------- the sheet item


def create(sheet_id: str, fields: dict[str, Any]) -> None:
    item = {**_key(sheet_id), **fields, "sheet_id": sheet_id, "gsi1pk": KEPT,
            "gsi1sk": f"{fields['created_at']}#{sheet_id}"}  # fmt: skip
    _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")


def load(sheet_id: str) -> dict[str, Any]:
    item = _table().get_item(Key=_key(sheet_id), ConsistentRead=True).get("Item")
    if not item:
        raise NotFound("没有这个名单")
    return _plain(item)


def _set(fields: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values())}
    return "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))), names, values


def move(sheet_id: str, statuses: tuple[str, ...], **fields: Any) -> bool:
    """Set ``fields`` if the sheet is in one of ``statuses``; False when it is not."""
    expression, names, values = _set(fields)
    names["#s"] = "status"
    wanted = {f":s{i}": status for i, status in enumerate(statuses)}
    try:
        _table().update_item(
            Key=_key(sheet_id),
            UpdateExpression=expression,
            ConditionExpression=f"#s IN ({', '.join(wanted)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**values, **wanted},
        )
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    return True


def progress(sheet_id: str, rows_done: int, rows_total: int | None = None) -> None:
    fields: dict[str, Any] = {"rows_done": rows_done}
    if rows_total is not None:
        fields["rows_total"] = rows_total
    expression, names, values = _set(fields)
    _table().update_item(
        Key=_key(sheet_id), UpdateExpression=expression, ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )  # fmt: skip


def bind(sheet_id: str, request_id: str) -> None:
    """The sheet becomes the audience of ``request_id``; ``Conflict`` when another request has it."""
    try:
        _table().update_item(
            Key=_key(sheet_id),
            UpdateExpression="SET request_id = :r",
            ConditionExpression="#s = :checked AND (attribute_not_exists(request_id) OR request_id = :r)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":r": request_id, ":checked": "checked"},
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("该名单已用于另一个发送申请，请重新上传名单") from error
        raise


def mark_ended(sheet_id: str, at: datetime) -> None:
    _table().update_item(
        Key=_key(sheet_id),
        UpdateExpression="SET ended_at = if_not_exists(ended_at, :t)",
        ExpressionAttributeValues={":t": at.isoformat()},
    )


def kept() -> Iterator[dict[str, Any]]:
    """Every sheet whose rows are still kept (the retention cleanup's work list)."""
    found = queries.items(_table().query, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                          ExpressionAttributeValues={":p": KEPT})  # fmt: skip
    for item in found:
        yield _plain(item)


# ---------------------------------------------------------------------------- rows


def put_chunk(sheet_id: str, index: int, token: str, count: int) -> None:
    _table().put_item(Item={**_key(sheet_id, f"rows#{index:05d}"), "rows": token, "count": count})


def load_chunk(sheet_id: str, index: int) -> str:
    item = _table().get_item(Key=_key(sheet_id, f"rows#{index:05d}"), ConsistentRead=True).get("Item")
    if not item:
        raise Conflict("名单数据已删除或不完整，不能发送")
    return item["rows"]


def chunks_stored(sheet_id: str) -> int:
    """How many row chunks are stored (a failed check may leave some)."""
    answers = queries.pages(
        _table().query,
        KeyConditionExpression="pk = :p AND begins_with(sk, :r)",
        ExpressionAttributeValues={":p": f"vsheet#{sheet_id}", ":r": "rows#"},
        ProjectionExpression="sk",
    )
    return sum(len(answer.get("Items", [])) for answer in answers)


def delete_rows(sheet_id: str, chunks: int) -> None:
    """Delete the stored rows, the report and any upload left."""
    with _table().batch_writer() as batch:
        for index in range(chunks):
            batch.delete_item(Key=_key(sheet_id, f"rows#{index:05d}"))
    for key in (report_key(sheet_id), upload_key(sheet_id)):
        _delete_all_versions(key)


def mark_removed(sheet_id: str, now: datetime) -> None:
    """The rows are gone: the sheet item keeps its counts and digest, and expires in a year."""
    expires = int((now + timedelta(days=REMOVED_ITEM_DAYS)).timestamp())
    _table().update_item(
        Key=_key(sheet_id),
        UpdateExpression="SET #s = :removed, removed_at = :t, expires_at = :e REMOVE summary, gsi1pk, gsi1sk",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":removed": "removed", ":t": now.isoformat(), ":e": expires},
    )


# ---------------------------------------------------------------------------- files


def upload_url(sheet_id: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": _bucket(), "Key": upload_key(sheet_id), "ContentType": CONTENT_TYPE},
        ExpiresIn=UPLOAD_SECONDS,
    )


def upload_size(sheet_id: str) -> int | None:
    """The uploaded file's size in bytes; None while nothing is uploaded."""
    try:
        return int(aws.client("s3").head_object(Bucket=_bucket(), Key=upload_key(sheet_id))["ContentLength"])
    except Exception as error:
        if aws.error_code(error) in _ABSENT:
            return None
        raise


def download_upload(sheet_id: str, path: Path) -> tuple[str, int]:
    """Copy the upload to ``path`` as a stream; its SHA-256 (hex) and size."""
    try:
        body = aws.client("s3").get_object(Bucket=_bucket(), Key=upload_key(sheet_id))["Body"]
    except Exception as error:
        if aws.error_code(error) in _ABSENT:
            raise Conflict("名单文件尚未上传") from None
        raise
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        for block in body.iter_chunks(1024 * 1024):
            digest.update(block)
            size += len(block)
            out.write(block)
    return digest.hexdigest(), size


def delete_upload(sheet_id: str) -> None:
    _delete_all_versions(upload_key(sheet_id))


def _delete_all_versions(key: str) -> None:
    """The object and every earlier version of it (the bucket is versioned): personal data."""
    s3 = aws.client("s3")
    listed = s3.list_object_versions(Bucket=_bucket(), Prefix=key)
    versions = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for group in ("Versions", "DeleteMarkers")
        for v in listed.get(group, [])
        if v["Key"] == key
    ]
    if versions:
        s3.delete_objects(Bucket=_bucket(), Delete={"Objects": versions, "Quiet": True})
    else:
        s3.delete_object(Bucket=_bucket(), Key=key)


def put_report(sheet_id: str, path: Path) -> None:
    with path.open("rb") as body:
        aws.client("s3").put_object(Bucket=_bucket(), Key=report_key(sheet_id), Body=body, ContentType="text/csv")


def report_url(sheet_id: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": report_key(sheet_id),
            "ResponseContentDisposition": f'attachment; filename="sheet-{sheet_id}-rejected.csv"',
        },
        ExpiresIn=REPORT_SECONDS,
    )
