"""The fan-out of a personalised send: its stored rows, each with the person's own values.

A send request with a sheet (``SendRequest.sheet``) is cut into parallel chunks of its stored
row chunks (``plan_chunks``), and each row chunk is one page (``pages``), read and decrypted
when its turn comes. Each row's identifier is looked up in the address book: the number in use
there is the one sent to; the row's own phone only when the address book has none; a row with
neither ends ``undeliverable`` at once, with its reason, and counts as skipped. Two rows of a page
reaching one number send it one message, as every send does (one message per number and send).

A page carries ``params`` (each recipient's values) and ``parts`` (their messages' length): a
row chunk yields one page per length, so every queued batch bills its own parts. The cursor
names the row chunk and, within it, the length group to resume at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sms_platform.contacts import repository
from sms_platform.contacts.chunks import ChunkSpec, Page
from sms_platform.contacts.models import Recipient
from sms_platform.contacts.record_items import record_pk
from sms_platform.foundation import crypto, identifiers
from sms_platform.foundation.clock import get_clock
from sms_platform.sending import message_store
from sms_platform.sending.message_items import MessageGroup
from sms_platform.sending.messages import BATCH_SIZE, MessageState, message_id
from sms_platform.sources import value_sheet_store
from sms_platform.sources.send_request_models import SendRequest, chunk_count
from sms_platform.text.templating import as_specs

NO_NUMBER_REASON = "通讯录中没有该对象的手机号码，名单中也未填写"
NO_NUMBER_MASK = "无可用号码"

Group = tuple[int, list[Recipient], list[dict[str, str]]]  # parts, recipients, their values


def plan_chunks(request: SendRequest, per_chunk: int) -> list[ChunkSpec]:
    """Parallel chunks of similar size over the sheet's stored row chunks."""
    sheet_id = request.sheet.sheet_id if request.sheet else ""
    stored = int(value_sheet_store.load(sheet_id).get("chunks") or 0)
    n = max(1, min(chunk_count(request.audience_size, per_chunk), stored))
    bounds = [round(i * stored / n) for i in range(n + 1)]
    return [ChunkSpec(list_start=bounds[i], list_end=bounds[i + 1]) for i in range(n)]


def _fallback(kind: str, phone: str) -> Recipient:
    """A recipient the address book has no number for, reached at the number its row gives."""
    return Recipient("", kind, "", "", crypto.keyed_hash(phone), crypto.encrypt(phone), identifiers.mask_mobile(phone))


def _undeliverable(request: SendRequest, id_hashes: list[str], now: datetime) -> None:
    """Rows without any number: each a message ``undeliverable`` with its reason (once)."""
    group = MessageGroup(
        kind=request.kind, source_id=request.source_id, office=request.office.value, batch_id="",
        sign_name=request.sign_name, template_code=request.carrier_code, template_id=request.template_id,
        template_version=request.template_version, parts=0,
    )  # fmt: skip
    for start in range(0, len(id_hashes), BATCH_SIZE):
        keys = [f"none-{h}" for h in id_hashes[start : start + BATCH_SIZE]]
        records = [(message_id(request.source_id, key), key, NO_NUMBER_MASK) for key in keys]
        message_store.record_many(group, records, MessageState.UNDELIVERABLE, now, source_index=True,
                                  reason=NO_NUMBER_REASON, final_at=now.isoformat(timespec="milliseconds"))  # fmt: skip


def _groups(request: SendRequest, kind: str, names: list[str], rows: list[list[Any]]) -> tuple[list[Group], int]:
    """The chunk's recipients by message length, and how many rows had no number."""
    hashes = [repository.id_hash_of(row[1]) for row in rows]
    found = repository.get_many(record_pk(kind, h) for h in hashes)
    groups: dict[int, tuple[list[Recipient], list[dict[str, str]]]] = {}
    seen: set[str] = set()
    missing: list[str] = []
    for id_hash, (_, _, phone, values, parts) in zip(hashes, rows, strict=True):
        contact = found.get(record_pk(kind, id_hash))
        current = contact.current_phone if contact else None
        if current is not None:
            recipient = Recipient.of(contact, current)  # type: ignore[arg-type]
        elif phone:
            recipient = _fallback(kind, phone)
        else:
            missing.append(id_hash)
            continue
        if recipient.phone_hash in seen:
            continue
        seen.add(recipient.phone_hash)
        bucket = groups.setdefault(int(parts), ([], []))
        bucket[0].append(recipient)
        bucket[1].append(dict(zip(names, values, strict=True)))
    if missing:
        _undeliverable(request, missing, get_clock().now())
    return [(parts, *groups[parts]) for parts in sorted(groups)], len(missing)


def pages(request: SendRequest, spec: ChunkSpec, cursor: dict[str, Any] | None) -> Iterator[Page]:
    """The chunk's recipients, a stored row chunk (one page per message length) at a time."""
    sheet_id = request.sheet.sheet_id if request.sheet else ""
    first = int(cursor["chunk"]) if cursor else int(spec.list_start or 0)
    resume_group = int(cursor.get("group", 0)) if cursor else 0
    end = int(spec.list_end or 0)
    if first >= end:
        yield Page([], None)
        return
    meta = value_sheet_store.load(sheet_id)
    kind, names = meta["kind"], [s.name for s in as_specs(meta["variables"])]
    for index in range(first, end):
        after = {"chunk": index + 1} if index + 1 < end else None
        rows = json.loads(crypto.decrypt(value_sheet_store.load_chunk(sheet_id, index)))
        groups, skipped = _groups(request, kind, names, rows)
        if not groups:
            yield Page([], after, skipped)
            continue
        start = resume_group if index == first else 0
        for number in range(start, len(groups)):
            parts, recipients, params = groups[number]
            resume = after if number + 1 == len(groups) else {"chunk": index, "group": number + 1}
            counted = skipped if number == start else 0
            yield Page(recipients, resume, counted, extra={"params": params, "parts": parts})
