"""The append-only, tamper-evident audit trail (R14).

Every staff action and every queued send batch becomes one entry in ``AUDIT_TABLE``. Entries
form hash chains: each carries the SHA-256 of the entry before it, and its own hash is the
SHA-256 of a canonical JSON of its content (the previous hash included). Editing, removing or
re-ordering an entry breaks the chain, and ``verify`` finds the first break.

One chain for the whole platform would be one hot item that every send waits on, so the chain
is sharded per day and shard: ``pk = "chain#YYYY-MM-DD#N"`` with N chosen by a hash of the
writer (staff actions) or the batch (sends) among ``SHARDS`` chains. ``sk`` is the entry's
sequence number in its chain; an append is a conditional put of the next number, retried when
another writer took it first, so concurrent writers never fork a chain.

Indexes: ``gsi1`` by operator, ``gsi2`` by office, both sorted by time. Days are Beijing days.
A daily job (``export_day``) writes each day's chains to the Object Lock archive bucket as JSON
lines. Phone numbers never reach the trail in clear: values pass the log redaction first and
send batches carry masked numbers only.

Command line: ``python -m sms_platform.audit.trail verify --day YYYY-MM-DD`` (exit 1 when broken) and
``python -m sms_platform.audit.trail export --day YYYY-MM-DD``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import BadRequest, ValidationFailed

SHARDS = 8
GENESIS = "0" * 64
MAX_APPEND_ATTEMPTS = 25
MAX_SEARCH_DAYS = 366
DEFAULT_RETENTION_DAYS = 1825
_TABLE = "AUDIT_TABLE"


# ---------------------------------------------------------------------------- who


@dataclass(frozen=True)
class AuditActor:
    """Who did it, as the trail keeps it (a StaffContext or any object with these fields)."""

    account_id: str
    username: str
    real_name: str
    roles: tuple[str, ...]
    office: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "username": self.username,
            "real_name": self.real_name,
            "roles": list(self.roles),
            "office": self.office,
        }


# The platform itself (scheduled jobs, the carrier filing poller, dispatch).
SYSTEM = AuditActor("system", "system", "短信平台", ("system",), "it")


def actor_of(actor: Any) -> AuditActor:
    """An ``AuditActor`` from a StaffContext, a mapping, or None (the platform itself)."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, AuditActor):
        return actor
    get = actor.get if isinstance(actor, Mapping) else lambda name, default=None: getattr(actor, name, default)
    roles = get("roles", ()) or ()
    if isinstance(roles, str):
        roles = [part for part in roles.split(",") if part]
    return AuditActor(
        account_id=str(get("account_id", "") or ""),
        username=str(get("username", "") or ""),
        real_name=str(get("real_name", "") or ""),
        roles=tuple(sorted(str(getattr(role, "value", role)) for role in roles)),
        office=str(getattr(get("office", ""), "value", get("office", "")) or ""),
    )


# ---------------------------------------------------------------------------- pure rules


def _plain(value: Any) -> Any:
    """JSON-ready form of values met in records: DynamoDB numbers, times, sets, models."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot audit a {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _snapshot(value: Any) -> str | None:
    """The stored form of a before/after value, with anything like a phone or ID number masked."""
    if value is None:
        return None
    from sms_platform.foundation.observability import redact

    return redact(canonical_json(value))


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's content, its ``prev_hash`` included."""
    return hashlib.sha256(canonical_json(dict(body)).encode("utf-8")).hexdigest()


def shard_of(key: str, shards: int = SHARDS) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % shards


def chain_key(day: date, shard: int) -> str:
    return f"chain#{day.isoformat()}#{shard}"


def beijing_day(at: datetime) -> date:
    return at.astimezone(BEIJING).date()


def time_key(at: datetime) -> str:
    """Fixed-width UTC time, so index keys sort by time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seq_key(seq: int) -> str:
    return f"{seq:012d}"


def template_of(target: str) -> str | None:
    """``template:<id>`` or ``template:<id>:v<n>`` names a template; other targets do not."""
    if target.startswith("template:"):
        return target.split(":")[1] or None
    return None


def index_keys(body: Mapping[str, Any]) -> dict[str, str]:
    """The index attributes an entry must carry, derived from its content."""
    sort_key = f"{body['at']}#{body['chain']}#{seq_key(int(body['seq']))}"
    return {
        "gsi1pk": f"operator#{body['actor']['account_id']}",
        "gsi1sk": sort_key,
        "gsi2pk": f"office#{body['office']}",
        "gsi2sk": sort_key,
    }


_BODY_FIELDS = ("chain", "seq", "at", "actor", "action", "target", "office", "template_id", "before", "after")


def body_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of a stored item, as it was when written."""
    actor = item.get("actor") or {}
    return {
        "chain": item.get("pk"),
        "seq": int(item.get("seq", 0)),
        "at": item.get("at"),
        "actor": {
            "account_id": actor.get("account_id"),
            "username": actor.get("username"),
            "real_name": actor.get("real_name"),
            "roles": list(actor.get("roles") or []),
            "office": actor.get("office"),
        },
        "action": item.get("action"),
        "target": item.get("target"),
        "office": item.get("office"),
        "template_id": item.get("template_id"),
        "before": item.get("before"),
        "after": item.get("after"),
        "prev_hash": item.get("prev_hash"),
    }


def public_entry(item: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as an auditor reads it: snapshots parsed back, chain fields shown."""
    body = body_of(item)
    for name in ("before", "after"):
        body[name] = json.loads(body[name]) if body[name] is not None else None
    body["hash"] = item.get("hash")
    return body


@dataclass(frozen=True)
class BrokenLink:
    """Where a chain stops being trustworthy, and why."""

    chain: str
    seq: int
    at: str | None
    reason: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "at": self.at, "reason": self.reason, "message": self.message}


def check_chain(chain: str, items: Iterable[Mapping[str, Any]]) -> BrokenLink | None:
    """The first entry of one chain (items in sequence order) that does not hold, or None."""
    expected_seq, prev = 1, GENESIS
    for item in items:
        body = body_of(item)
        seq, at = body["seq"], body["at"]
        if seq != expected_seq:
            return BrokenLink(chain, expected_seq, at, "sequence_gap", f"第 {expected_seq} 条记录缺失")
        if body["prev_hash"] != prev:
            return BrokenLink(chain, seq, at, "prev_hash_mismatch", f"第 {seq} 条记录与前一条记录的链接不符")
        digest = entry_hash(body)
        if digest != item.get("hash"):
            return BrokenLink(chain, seq, at, "hash_mismatch", f"第 {seq} 条记录的内容已被改动")
        if body["chain"] != chain or any(item.get(k) != v for k, v in index_keys(body).items()):
            return BrokenLink(chain, seq, at, "index_mismatch", f"第 {seq} 条记录的索引与内容不符")
        expected_seq, prev = seq + 1, digest
    return None


# ---------------------------------------------------------------------------- writing


def _table() -> Any:
    from sms_platform import aws

    return aws.table(_TABLE)


def _head(table: Any, chain: str) -> Mapping[str, Any] | None:
    found = table.query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": chain},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    ).get("Items", [])
    return found[0] if found else None


def _append(
    actor: AuditActor,
    action: str,
    target: str,
    *,
    office: str,
    template_id: str | None,
    before: str | None,
    after: str | None,
    shard_key: str,
) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    if not action or not target:
        raise ValueError("an audit entry needs an action and a target")
    table = _table()
    at = get_clock().now()
    chain = chain_key(beijing_day(at), shard_of(shard_key))
    for attempt in range(MAX_APPEND_ATTEMPTS):
        head = _head(table, chain)
        body = {
            "chain": chain,
            "seq": int(head["seq"]) + 1 if head else 1,
            "at": time_key(at),
            "actor": actor.as_dict(),
            "action": action,
            "target": target,
            "office": office,
            "template_id": template_id,
            "before": before,
            "after": after,
            "prev_hash": head["hash"] if head else GENESIS,
        }
        item = {
            **{k: v for k, v in body.items() if k not in ("chain",) and v is not None},
            "pk": chain,
            "sk": seq_key(body["seq"]),
            "hash": entry_hash(body),
            **index_keys(body),
        }
        try:
            table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
            return public_entry(item)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Another writer took this sequence number: read the new head and try again.
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise RuntimeError(f"audit chain {chain} stayed busy after {MAX_APPEND_ATTEMPTS} attempts")


def record(
    actor: Any,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    office: str | None = None,
    *,
    template_id: str | None = None,
) -> dict[str, Any]:
    """Append a staff action: who (``actor``: a StaffContext, None for the platform), what
    (``action`` such as ``template.approve``), on what (``target`` such as ``template:T1:v2``),
    the state before and after, and the office it concerns (the actor's by default)."""
    who = actor_of(actor)
    return _append(
        who,
        action,
        target,
        office=office or who.office,
        template_id=template_id or template_of(target),
        before=_snapshot(before),
        after=_snapshot(after),
        shard_key=f"{who.account_id}#{target}",
    )


def record_change(actor: Any, action: str, before: Any, after: Any) -> dict[str, Any]:
    """A staff action on a versioned record (a template version, a send request) that names its
    own ``target``, ``office`` and ``template_id`` and gives its ``summary()``."""
    return record(
        actor,
        action,
        after.target,
        before=before.summary() if before else None,
        after=after.summary(),
        office=after.office.value,
        template_id=after.template_id,
    )


def mask_recipient(value: str) -> str:
    """A recipient as the trail keeps it: mobile numbers masked (``138****1234``)."""
    from sms_platform.foundation.observability import redact

    return redact(str(value))


def record_send(
    *,
    batch_id: str,
    source: str,
    office: str,
    template_id: str,
    template_version: int | None = None,
    lane: str | None = None,
    signature: str | None = None,
    recipients: Sequence[str] = (),
    recipient_count: int | None = None,
    actor: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one queued batch (not one entry per recipient): what was sent, from which source
    (e.g. ``broadcast:B1``), for which office and template, and to whom, masked."""
    summary = {
        "source": source,
        "template_id": template_id,
        "template_version": template_version,
        "lane": lane,
        "signature": signature,
        "recipient_count": recipient_count if recipient_count is not None else len(recipients),
        # Masked with the rest of the entry (``_snapshot``): one pass over the text, not one per number.
        "recipients": list(recipients),
        **dict(extra or {}),
    }
    return _append(
        actor_of(actor),
        "send.queued",
        f"batch:{batch_id}",
        office=office,
        template_id=template_id,
        before=None,
        after=_snapshot(summary),
        shard_key=f"batch#{batch_id}",
    )


# ---------------------------------------------------------------------------- reading


def _query_all(table: Any, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def chain_items(day: date, shard: int) -> Iterator[Mapping[str, Any]]:
    return _query_all(
        _table(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": chain_key(day, shard)},
        ConsistentRead=True,
    )


def verify(day: date) -> BrokenLink | None:
    """The first broken entry of that day's chains (earliest in time), or None when all hold.

    Limit: a chain's newest entries, removed together, leave no gap behind; the daily archive
    in the Object Lock bucket is the record to compare with for days already exported.
    """
    broken = [link for shard in range(SHARDS) if (link := check_chain(chain_key(day, shard), chain_items(day, shard)))]
    if not broken:
        return None
    return min(broken, key=lambda link: (link.at or "", link.chain, link.seq))


@dataclass
class AuditQuery:
    """An auditor's search: a time range, and optionally an operator, an office, a template."""

    start: datetime
    end: datetime
    operator: str | None = None
    office: str | None = None
    template_id: str | None = None
    limit: int = 50
    cursor: str | None = None

    def check(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValidationFailed("起止时间须带时区", field="start")
        if self.end < self.start:
            raise ValidationFailed("结束时间不能早于开始时间", field="end")
        if (self.end - self.start) > timedelta(days=MAX_SEARCH_DAYS):
            raise ValidationFailed(f"一次最多查询 {MAX_SEARCH_DAYS} 天", field="end")
        if not 1 <= self.limit <= 500:
            raise ValidationFailed("每页条数须在 1 到 500 之间", field="limit")


@dataclass
class AuditPage:
    entries: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None


def _encode_cursor(value: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(canonical_json(value).encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> dict[str, Any]:
    from sms_platform.foundation import paging

    value = paging.decode(text)
    if not isinstance(value, dict):
        raise paging.invalid()
    return value


def _filters(query: AuditQuery, *, in_index: str | None) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    parts, names, values = [], {}, {}
    if in_index is None:
        parts.append("#at BETWEEN :start AND :end")
        names["#at"] = "at"
        values.update({":start": time_key(query.start), ":end": time_key(query.end)})
    if query.template_id:
        parts.append("template_id = :template")
        values[":template"] = query.template_id
    if query.office and in_index == "gsi1":
        parts.append("office = :office")
        values[":office"] = query.office
    return parts, names, values


def _search_index(query: AuditQuery) -> AuditPage:
    table = _table()
    index, key = ("gsi1", f"operator#{query.operator}") if query.operator else ("gsi2", f"office#{query.office}")
    parts, names, values = _filters(query, in_index=index)
    kwargs: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :key AND {index}sk BETWEEN :from AND :to",
        "ExpressionAttributeValues": {
            ":key": key,
            ":from": time_key(query.start),
            ":to": time_key(query.end) + "~",
            **values,
        },
    }
    if parts:
        kwargs["FilterExpression"] = " AND ".join(parts)
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if query.cursor:
        from sms_platform.foundation import paging

        names = {"pk", "sk", f"{index}pk", f"{index}sk"}
        kwargs["ExclusiveStartKey"] = paging.start_key(query.cursor, names=names, fixed={f"{index}pk": key})
    page = AuditPage()
    while len(page.entries) < query.limit:
        # Limit bounds what is read, so every match of a page fits and its last key is a safe cursor.
        answer = table.query(**kwargs, Limit=query.limit - len(page.entries))
        page.entries.extend(public_entry(item) for item in answer.get("Items", []))
        last = answer.get("LastEvaluatedKey")
        if not last:
            return page
        kwargs["ExclusiveStartKey"] = last
    page.cursor = _encode_cursor(kwargs["ExclusiveStartKey"])
    return page


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = beijing_day(start), beijing_day(end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _search_chains(query: AuditQuery) -> AuditPage:
    """Walk each day's chains, merging their shards by time; the cursor keeps each shard's place."""
    table = _table()
    days = _days(query.start, query.end)
    state = _decode_cursor(query.cursor) if query.cursor else {"d": days[0].isoformat(), "p": {}}
    try:
        day_index = days.index(date.fromisoformat(str(state["d"])))
        positions = {int(k): int(v) for k, v in dict(state.get("p", {})).items()}
    except (KeyError, ValueError, TypeError, OverflowError) as error:  # OverflowError: int(Infinity)
        raise BadRequest("无效的翻页标记", field="cursor") from error
    parts, names, values = _filters(query, in_index=None)
    page = AuditPage()
    for day in days[day_index:]:
        remaining = query.limit - len(page.entries)
        candidates: list[tuple[int, Mapping[str, Any]]] = []
        exhausted = True
        for shard in range(SHARDS):
            kwargs: dict[str, Any] = {
                "KeyConditionExpression": "pk = :pk AND sk > :after",
                "FilterExpression": " AND ".join(parts),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":pk": chain_key(day, shard),
                    ":after": seq_key(positions.get(shard, 0)),
                    **values,
                },
            }
            found: list[Mapping[str, Any]] = []
            while len(found) < remaining:
                answer = table.query(**kwargs, Limit=remaining - len(found))
                found.extend(answer.get("Items", []))
                if "LastEvaluatedKey" not in answer:
                    break
                kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            else:
                exhausted = False
            candidates.extend((shard, item) for item in found)
        candidates.sort(key=lambda pair: (pair[1]["at"], pair[0], int(pair[1]["seq"])))
        taken, left = candidates[:remaining], candidates[remaining:]
        for shard, item in taken:
            positions[shard] = int(item["seq"])
        page.entries.extend(public_entry(item) for _, item in taken)
        if left or not exhausted:
            page.cursor = _encode_cursor({"d": day.isoformat(), "p": {str(k): v for k, v in positions.items()}})
            return page
        positions = {}
        if len(page.entries) >= query.limit and day != days[-1]:
            page.cursor = _encode_cursor({"d": (day + timedelta(days=1)).isoformat(), "p": {}})
            return page
    return page


def search(query: AuditQuery) -> AuditPage:
    """Entries in the time range, by operator (gsi1) or office (gsi2) when given, else by
    walking each day's chains; optionally only those about one template. Paged by cursor."""
    query.check()
    if query.operator or query.office:
        return _search_index(query)
    return _search_chains(query)


# ---------------------------------------------------------------------------- archive


@dataclass(frozen=True)
class ArchiveResult:
    bucket: str
    key: str
    entries: int
    sha256: str
    written: bool
    broken: BrokenLink | None


def archive_key(day: date) -> str:
    return f"audit/{day:%Y/%m/%d}/audit-{day.isoformat()}.jsonl"


def archive_lines(day: date, exported_at: datetime) -> tuple[list[str], int, BrokenLink | None]:
    """One day's archive as JSON lines: a header naming each chain's length and head hash and the
    verification result, then every entry in chain order with its ``prev_hash`` and ``hash``."""
    chains, entries, broken = [], [], []
    for shard in range(SHARDS):
        chain = chain_key(day, shard)
        items = list(chain_items(day, shard))
        if not items:
            continue
        link = check_chain(chain, items)
        if link:
            broken.append(link)
        chains.append({"chain": chain, "entries": len(items), "head_hash": items[-1].get("hash")})
        entries.extend(public_entry(item) for item in items)
    first_break = min(broken, key=lambda link: (link.at or "", link.chain, link.seq)) if broken else None
    header = {
        "type": "audit-archive",
        "day": day.isoformat(),
        "exported_at": time_key(exported_at),
        "chains": chains,
        "verified": first_break is None,
        "broken": first_break.as_dict() if first_break else None,
    }
    lines = [canonical_json(header)] + [canonical_json({"type": "entry", **entry}) for entry in entries]
    return lines, len(entries), first_break


def export_day(day: date, *, retention_days: int | None = None) -> ArchiveResult:
    """Write one day's archive to ``ARCHIVE_BUCKET`` under Object Lock (compliance mode until
    now + ``retention_days``, ``AUDIT_RETENTION_DAYS`` or five years). Running it again for the
    same content writes nothing; late entries make a new object version, never an overwrite."""
    from botocore.exceptions import ClientError

    from sms_platform import aws

    now = get_clock().now()
    days = retention_days or int(os.environ.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    lines, count, broken = archive_lines(day, now)
    # The header's export time changes each run; the digest covers the entries only.
    entries_text = "\n".join(lines[1:])
    digest = hashlib.sha256(entries_text.encode("utf-8")).hexdigest()
    bucket, key = os.environ["ARCHIVE_BUCKET"], archive_key(day)
    s3 = aws.client("s3")
    try:
        existing = s3.head_object(Bucket=bucket, Key=key)
        if existing.get("Metadata", {}).get("entries-sha256") == digest:
            return ArchiveResult(bucket, key, count, digest, False, broken)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=("\n".join(lines) + "\n").encode("utf-8"),
        ContentType="application/x-ndjson; charset=utf-8",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=now + timedelta(days=days),
        Metadata={"entries-sha256": digest, "entries": str(count), "verified": str(broken is None).lower()},
    )
    return ArchiveResult(bucket, key, count, digest, True, broken)


def previous_day() -> date:
    """Yesterday in Beijing: the day the nightly export archives."""
    return beijing_day(get_clock().now()) - timedelta(days=1)


# ---------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sms_platform.audit.trail", description="审计记录校验与归档")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("verify", "校验一天的审计链"), ("export", "将一天的审计记录归档到存档桶")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD（北京时间）")
    args = parser.parse_args(argv)
    if args.command == "verify":
        link = verify(args.day)
        if link is None:
            print(f"{args.day}: 审计链完整")
            return 0
        print(f"{args.day}: 审计链断裂于 {link.chain} 第 {link.seq} 条（{link.reason}）：{link.message}")
        return 1
    result = export_day(args.day)
    state = "已写入" if result.written else "内容未变，未重复写入"
    print(f"{args.day}: {result.entries} 条，s3://{result.bucket}/{result.key}，{state}")
    return 0 if result.broken is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
