"""Citizens' replies that are not opt-outs, kept in ``CONTACTS_TABLE`` for staff to read.

``pk = "inbox#<YYYY-MM>"`` (the Beijing month the citizen sent it), ``sk = "<send time>#<id>"``
where the id is the carrier's sequence id (or a hash of the reply), so a reply pushed twice is
kept once. Items hold the masked number and the encrypted one (for a staff member allowed to
call back), never the clear number.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sms_platform import aws
from sms_platform.foundation import crypto, paging
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import BadRequest
from sms_platform.foundation.identifiers import mask_mobile
from sms_platform.foundation.settings import settings

RETENTION_DAYS = 400
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_SEND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
PUBLIC_FIELDS = ("reply_id", "phone_masked", "content", "sign_name", "dest_code", "send_time", "received_at")


class Reply(BaseModel):
    reply_id: str
    received_at: str = Field(description="平台收到的时间")
    send_time: str = Field(description="市民发出的时间（北京时间）")
    phone_masked: str = Field(description="回复人号码（已脱敏）")
    content: str = Field(description="回复内容")
    sign_name: str = Field(description="所回复短信的签名")


class Replies(BaseModel):
    replies: list[Reply]
    cursor: str | None = Field(default=None, description="下一页的翻页标记；为空表示没有更多")


def _table() -> Any:
    return aws.table(settings().contacts_table)


def keep_reply(
    phone: str,
    content: str,
    *,
    sign_name: str | None,
    dest_code: str | None,
    sequence_id: str | None,
    send_time: str | None,
    received_at: datetime,
) -> bool:
    """Store a reply; False if the same reply was stored before."""
    phone_hash = crypto.keyed_hash(phone)
    local_received = received_at.astimezone(BEIJING)
    sent = send_time if send_time and _SEND_TIME.match(send_time) else local_received.strftime("%Y-%m-%d %H:%M:%S")
    reply_id = (
        str(sequence_id)
        if sequence_id
        else hashlib.sha256(f"{phone_hash}\n{sent}\n{content}".encode()).hexdigest()[:24]
    )
    item = {
        "pk": f"inbox#{sent[:7]}",
        "sk": f"{sent}#{reply_id}",
        "reply_id": reply_id,
        "phone_masked": mask_mobile(phone),
        "phone_token": crypto.encrypt(phone),
        "phone_hash": phone_hash,
        "content": content,
        "sign_name": sign_name or "",
        "dest_code": dest_code or "",
        "send_time": sent,
        "received_at": received_at.isoformat(timespec="seconds"),
        "expires_at": int(received_at.timestamp()) + RETENTION_DAYS * 86400,
    }
    return aws.put_new(_table(), item)


def list_replies(month: str, *, limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Replies sent in ``month`` (``YYYY-MM``), newest first, and a cursor for the next page."""
    if not _MONTH.match(month):
        raise BadRequest("月份格式应为 YYYY-MM", field="month")
    args: dict[str, Any] = {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": f"inbox#{month}"},
        "ScanIndexForward": False,
        "Limit": max(1, min(limit, 200)),
    }
    # A cursor is the last key of a page of the same month.
    if start := paging.start_key(cursor, names={"pk", "sk"}, fixed={"pk": f"inbox#{month}"}):
        args["ExclusiveStartKey"] = start
    answer = _table().query(**args)
    items = [{field: item.get(field) for field in PUBLIC_FIELDS} for item in answer.get("Items", [])]
    last = answer.get("LastEvaluatedKey")
    return items, paging.encode(last) if last else None


def replies(month: str, *, limit: int = 50, cursor: str | None = None) -> Replies:
    """A page of ``list_replies`` as staff read it (a field a reply lacks reads as empty)."""
    items, next_cursor = list_replies(month, limit=limit, cursor=cursor)
    shown = [Reply(**{field: item.get(field) or "" for field in Reply.model_fields}) for item in items]
    return Replies(replies=shown, cursor=next_cursor)
