"""The nightly archive of the audit trail: each Beijing day's chains written to the Object Lock
bucket (``ARCHIVE_BUCKET``) as JSON lines, kept in compliance mode for five years.

The same lines (``archive_lines``) are what an auditor downloads for a day (``export``, itself
audited as ``audit.export``), so a download can be compared line by line with the archive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from sms_platform import aws
from sms_platform.audit import store, trail
from sms_platform.audit.chain import (
    SHARDS,
    BrokenLink,
    beijing_day,
    canonical_json,
    chain_key,
    check_chain,
    first_break,
    public_entry,
    time_key,
)
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.settings import settings

_ABSENT = ("404", "NoSuchKey", "NotFound")  # how S3 says an object is not there


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
        items = list(store.chain_items(chain))
        if not items:
            continue
        broken.append(check_chain(chain, items))
        chains.append({"chain": chain, "entries": len(items), "head_hash": items[-1].get("hash")})
        entries.extend(public_entry(item) for item in items)
    earliest = first_break(broken)
    header = {
        "type": "audit-archive",
        "day": day.isoformat(),
        "exported_at": time_key(exported_at),
        "chains": chains,
        "verified": earliest is None,
        "broken": earliest.as_dict() if earliest else None,
    }
    lines = [canonical_json(header)] + [canonical_json({"type": "entry", **entry}) for entry in entries]
    return lines, len(entries), earliest


class DayExport(BaseModel):
    """One day's audit trail as an auditor downloads it: the archive's lines (``archive_lines``)."""

    day: date
    lines: list[str] = Field(description="第一行为链的摘要与校验结果，其后每行一条审计记录")
    entries: int
    verified: bool

    @property
    def body(self) -> str:
        """The download itself: JSON lines, each ending with a newline."""
        return "\n".join(self.lines) + "\n"

    @property
    def filename(self) -> str:
        return f"audit-{self.day.isoformat()}.jsonl"


def export(ctx: Any, day: date, *, now: datetime) -> DayExport:
    """An auditor's export of ``day`` (Beijing; not a day still to come), audited as
    ``audit.export`` with the entries given out and whether the day's chains verified.

    ``ctx`` is the staff context (a ``StaffContext``): audit sits below staff, so it is taken
    as the trail takes any actor, by its fields.
    """
    if day > beijing_day(now):
        raise ValidationFailed("不能导出未来日期的审计记录", field="day")
    lines, count, broken = archive_lines(day, now)
    # Recorded before the answer leaves: an export that could not be audited is not given out.
    trail.record(ctx, "audit.export", f"audit-day:{day.isoformat()}", None,
                 {"entries": count, "verified": broken is None}, ctx.office, at=now)  # fmt: skip
    return DayExport(day=day, lines=lines, entries=count, verified=broken is None)


def _archived_digest(s3: Any, bucket: str, key: str) -> str | None:
    """The entries digest the archived object of ``key`` carries (None when there is none yet)."""
    try:
        existing = s3.head_object(Bucket=bucket, Key=key)
    except Exception as error:
        if aws.error_code(error) in _ABSENT:
            return None
        raise
    return existing.get("Metadata", {}).get("entries-sha256")


def export_day(day: date, *, retention_days: int | None = None) -> ArchiveResult:
    """Write one day's archive to ``ARCHIVE_BUCKET`` under Object Lock (compliance mode until
    now + ``retention_days``, ``AUDIT_RETENTION_DAYS`` or five years). Running it again for the
    same content writes nothing; late entries make a new object version, never an overwrite."""
    now = get_clock().now()
    days = retention_days or settings().audit_retention_days
    lines, count, broken = archive_lines(day, now)
    # The header's export time changes each run; the digest covers the entries only.
    entries_text = "\n".join(lines[1:])
    digest = hashlib.sha256(entries_text.encode("utf-8")).hexdigest()
    bucket, key = settings().value("ARCHIVE_BUCKET"), archive_key(day)
    s3 = aws.client("s3")
    if _archived_digest(s3, bucket, key) == digest:
        return ArchiveResult(bucket, key, count, digest, False, broken)
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
