"""Uploaded audience lists: a text file of ID numbers or credit codes, one a line, put straight
into ``UPLOADS_BUCKET`` through a presigned upload and expanded by byte ranges in parallel.

Creating a list and completing it are staff actions, audited here; a district office uses the
lists it uploaded itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.contacts import repository, validation
from sms_platform.contacts.access import districts_of
from sms_platform.contacts.chunks import ChunkSpec, Page
from sms_platform.contacts.models import Recipient
from sms_platform.contacts.record_items import record_pk
from sms_platform.contacts.views_models import ListChecked, ListCreated
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.staff.context import StaffContext

# S3's answers to a read of an object that is not there.
_ABSENT = ("NoSuchKey", "404")

UPLOAD_SECONDS = 900
MAX_LINE = 64
_PAGE = 100


def _key(list_id: str) -> str:
    return f"audience-lists/{list_id}.txt"


def _bucket() -> str:
    return settings().value("UPLOADS_BUCKET")


def _table() -> Any:
    return aws.table(settings().contacts_table)


def create(ctx: StaffContext, kind: str, *, now: datetime) -> ListCreated:
    """A new list of the staff member's office and the presigned URL to upload its file to."""
    list_id = uuid.uuid4().hex
    _table().put_item(
        Item={
            "pk": f"alist#{list_id}",
            "sk": "meta",
            "kind": kind,
            "office": ctx.office.value,
            "status": "uploading",
            "created_at": now.isoformat(),
        }
    )
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": _bucket(), "Key": _key(list_id), "ContentType": "text/plain"},
        ExpiresIn=UPLOAD_SECONDS,
    )
    trail.record(ctx, "audience.list.create", f"audience-list:{list_id}", at=now)
    return ListCreated(
        list_id=list_id, upload_url=url, headers={"Content-Type": "text/plain"}, expires_in=UPLOAD_SECONDS
    )


def _meta(list_id: str) -> dict[str, Any]:
    item = _table().get_item(Key={"pk": f"alist#{list_id}", "sk": "meta"}, ConsistentRead=True).get("Item")
    if not item:
        raise NotFound("没有这个名单")
    return item


def check_office(list_id: str, office: str) -> None:
    """A district office uses the lists it uploaded itself."""
    if _meta(list_id).get("office") != office:
        raise Forbidden("只能使用本单位上传的名单")


def _valid(kind: str, text: str) -> str | None:
    try:
        return validation.id_number(text) if kind == "person" else validation.credit_code(text)
    except ValueError:
        return None


def complete(ctx: StaffContext, list_id: str, *, now: datetime) -> ListChecked:
    """Check the uploaded file once: how many valid identifiers it holds (its audience size).
    A district office completes its own lists only; audited with the count."""
    if districts_of(ctx) is not None:
        check_office(list_id, ctx.office.value)
    checked = _check(list_id)
    trail.record(ctx, "audience.list.complete", f"audience-list:{list_id}", None, {"count": checked.count}, at=now)
    return checked


def _check(list_id: str) -> ListChecked:
    meta = _meta(list_id)
    try:
        body = aws.client("s3").get_object(Bucket=_bucket(), Key=_key(list_id))
    except Exception as error:
        if aws.error_code(error) in _ABSENT:
            raise Conflict("名单文件尚未上传") from None
        raise
    valid = invalid = 0
    for raw in body["Body"].iter_lines():
        text = raw.decode("utf-8", "replace").strip().lstrip("\ufeff")
        if not text:
            continue
        if _valid(meta["kind"], text):
            valid += 1
        else:
            invalid += 1
    _table().update_item(
        Key={"pk": f"alist#{list_id}", "sk": "meta"},
        UpdateExpression="SET #s = :s, #c = :c, invalid = :i, #z = :z",
        ExpressionAttributeNames={"#s": "status", "#c": "count", "#z": "size"},
        ExpressionAttributeValues={":s": "ready", ":c": valid, ":i": invalid, ":z": body["ContentLength"]},
    )
    return ListChecked(list_id=list_id, kind=meta["kind"], count=valid, invalid=invalid)


def get(list_id: str, *, kind: str) -> dict[str, Any]:
    meta = _meta(list_id)
    if meta.get("status") != "ready":
        raise Conflict("名单尚未上传完成")
    if meta["kind"] != kind:
        raise Conflict("名单的对象类型与所选类型不一致")
    return {"count": int(meta["count"]), "size": int(meta["size"]), "office": meta.get("office")}


def _lines(data: bytes, base: int, first: int, end: int) -> Iterator[tuple[int, str]]:
    """(offset of the next line, text) for lines of ``data`` (starting at ``base``) that begin
    at or after ``first`` and before ``end``."""
    pos = first - base
    while base + pos < end and pos < len(data):
        newline = data.find(b"\n", pos)
        stop = len(data) if newline < 0 else newline
        text = data[pos:stop].decode("utf-8", "replace").strip().lstrip("\ufeff")
        pos = stop + 1
        yield base + pos, text


def pages(list_id: str, kind: str, chunk: ChunkSpec, cursor: dict[str, Any] | None) -> Iterator[Page]:
    """Recipients of the lines that start inside the chunk's byte range."""
    start, end = int(chunk.list_start or 0), int(chunk.list_end or 0)
    if cursor:
        first = int(cursor["offset"])
        base = first
    else:
        base = max(0, start - 1)
        first = start
    if first >= end:
        yield Page([], None)
        return
    data = (
        aws.client("s3")
        .get_object(Bucket=_bucket(), Key=_key(list_id), Range=f"bytes={base}-{end + MAX_LINE}")["Body"]
        .read()
    )
    if not cursor and start > 0:
        # Byte ``start - 1`` is the first read: a line begins at the first byte after a newline.
        newline = data.find(b"\n")
        if newline < 0:
            yield Page([], None)
            return
        first = base + newline + 1
    batch: list[str] = []
    skipped = 0
    offset = first
    for offset, text in _lines(data, base, first, end):
        identifier = _valid(kind, text) if text else None
        if identifier is None:
            skipped += 1 if text else 0
            continue
        batch.append(identifier)
        if len(batch) == _PAGE:
            yield _page(kind, batch, skipped, {"offset": offset})
            batch, skipped = [], 0
    yield _page(kind, batch, skipped, None)


def _page(kind: str, identifiers: list[str], skipped: int, cursor: dict[str, Any] | None) -> Page:
    pks = [record_pk(kind, repository.id_hash_of(i)) for i in identifiers]
    found = repository.get_many(pks)
    recipients = []
    seen: set[str] = set()
    for pk in pks:
        contact = found.get(pk)
        phone = contact.current_phone if contact else None
        if contact is None or phone is None:
            skipped += 1
            continue
        if phone.hash in seen:
            continue
        seen.add(phone.hash)
        recipients.append(Recipient.of(contact, phone))
    return Page(recipients, cursor, skipped)
