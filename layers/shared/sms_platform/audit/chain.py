"""The hash chains of the audit trail, as pure rules: what an entry holds, how it is hashed and
keyed, and how a chain is checked. Nothing here reads or writes the table (``store`` does).

Each entry carries the SHA-256 of the entry before it, and its own hash is the SHA-256 of a
canonical JSON of its content (the previous hash included). Editing, removing or re-ordering an
entry breaks the chain, and ``check_chain`` finds the first break.

One chain for the whole platform would be one hot item that every send waits on, so the chain
is sharded per day and shard: ``pk = "chain#YYYY-MM-DD#N"`` with N chosen by a hash of the
writer (staff actions) or the batch (sends) among ``SHARDS`` chains; ``sk`` is the entry's
sequence number in its chain. Indexes: ``gsi1`` by operator, ``gsi2`` by office, both sorted by
time. Days are Beijing days.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.observability import redact

SHARDS = 8
GENESIS = "0" * 64


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


# ---------------------------------------------------------------------------- content and hashes


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


def stored_snapshot(value: Any) -> str | None:
    """The stored form of a before/after value, with anything like a phone or ID number masked."""
    if value is None:
        return None
    return redact(canonical_json(value))


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's content, its ``prev_hash`` included."""
    return hashlib.sha256(canonical_json(dict(body)).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- keys


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


# ---------------------------------------------------------------------------- entries


_CONTENT = ("chain", "at", "actor", "action", "target", "office", "template_id", "before", "after")


def next_item(head: Mapping[str, Any] | None, content: Mapping[str, Any]) -> dict[str, Any]:
    """The item that follows ``head`` (None: the chain is empty) in the chain ``content`` names:
    ``content`` holds the entry's own fields (``_CONTENT``); its place and links are added here."""
    body = {
        **{name: content[name] for name in _CONTENT},
        "seq": int(head["seq"]) + 1 if head else 1,
        "prev_hash": head["hash"] if head else GENESIS,
    }
    return {
        **{k: v for k, v in body.items() if k != "chain" and v is not None},
        "pk": body["chain"],
        "sk": seq_key(body["seq"]),
        "hash": entry_hash(body),
        **index_keys(body),
    }


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


# ---------------------------------------------------------------------------- verification


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


def first_break(links: Iterable[BrokenLink | None]) -> BrokenLink | None:
    """The earliest in time of the breaks found in a day's chains, or None when all hold."""
    broken = [link for link in links if link is not None]
    if not broken:
        return None
    return min(broken, key=lambda link: (link.at or "", link.chain, link.seq))
