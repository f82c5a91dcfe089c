"""The number-health rules (R10 ↔ R16), pure: when a number's permanent delivery failures mark it
as needing verification, and which numbers a send holds back.

A number fails *permanently* when the carrier says it is gone (空号, 停机:
``carrier.failure_reasons.PERMANENT``); sending to it again would fail again and still be billed.
Each message fails at most once for the platform (a repeated receipt is the same failure), and a
source sends a number one message, so the failures counted are the number's failures across
sends. Only messages made after the mark was last cleared count: a number verified (or entered
anew) starts afresh, and a late receipt of a message made before does not undo the verification.

Two holds keep a number from the carrier:

- ``blocked``: staff put it on the block list (黑名单). Nothing is sent to it, whatever the source;
  its messages end ``suppressed``.
- ``unverified``: marked for verification. Its messages end ``undeliverable`` (号码待核实), except
  a 12333 hang-up answer (the caller has just called from that number, so it lives) and the
  platform's own messages such as verification codes (which are how a number is verified again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sms_platform.sending.lanes import SmsKind

BLOCKED_LABEL = "号码已列入黑名单"
UNVERIFIED_LABEL = "号码待核实"
MIN_BLOCK_REASON = 2
MAX_BLOCK_REASON = 200

# Kinds a number's verification mark does not hold back (a block still does).
UNCHECKED_KINDS = frozenset({SmsKind.HANGUP, SmsKind.SYSTEM})


class Hold(StrEnum):
    BLOCKED = "blocked"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Failure:
    """One permanent failure of a number: which message (and so which send), when, which code."""

    message_id: str
    source_id: str
    kind: str
    template_id: str
    error_code: str
    failed_at: datetime
    made_at: datetime  # when the message was made: failures of messages made before a clearing don't count

    def to_item(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "source_id": self.source_id,
            "kind": self.kind,
            "template_id": self.template_id,
            "error_code": self.error_code,
            "failed_at": self.failed_at.isoformat(),
            "made_at": self.made_at.isoformat(),
        }

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Failure:
        return cls(
            message_id=str(item["message_id"]),
            source_id=str(item.get("source_id", "")),
            kind=str(item.get("kind", "")),
            template_id=str(item.get("template_id", "")),
            error_code=str(item.get("error_code", "")),
            failed_at=datetime.fromisoformat(str(item["failed_at"])),
            made_at=datetime.fromisoformat(str(item["made_at"])),
        )


def failure_of_message(item: Mapping[str, Any], at: datetime) -> Failure:
    """The failure a failed message item stands for (``at``: when its failure was learnt)."""
    made = item.get("created_at") or item.get("sending_at")
    return Failure(
        message_id=str(item["message_id"]),
        source_id=str(item.get("source_id", "")),
        kind=str(item.get("kind", "")),
        template_id=str(item.get("template_id", "")),
        error_code=str(item.get("error_code") or item.get("receipt_code") or ""),
        failed_at=at,
        made_at=datetime.fromisoformat(str(made)) if made else at,
    )


def counted(failures: Iterable[Failure], cleared_at: datetime | None) -> list[Failure]:
    """The failures that count towards a mark, oldest first: one per message, of messages made
    after the last clearing."""
    seen: dict[str, Failure] = {}
    for failure in failures:
        if cleared_at is not None and failure.made_at <= cleared_at:
            continue
        seen.setdefault(failure.message_id, failure)
    return sorted(seen.values(), key=lambda f: (f.failed_at, f.message_id))


def needs_mark(failures: Iterable[Failure], cleared_at: datetime | None, threshold: int) -> bool:
    """Whether these failures mark the number for verification."""
    return len(counted(failures, cleared_at)) >= max(1, threshold)


def hold_of(state: Mapping[str, Any] | None, kind: SmsKind | str) -> Hold | None:
    """What keeps a message of ``kind`` from a number in this state, if anything."""
    if not state:
        return None
    if state.get("blocked"):
        return Hold.BLOCKED
    if state.get("unverified") and SmsKind(kind) not in UNCHECKED_KINDS:
        return Hold.UNVERIFIED
    return None


def check_reason(reason: str | None) -> str | None:
    """The reason of a block or an unblock, trimmed; None when it is missing or out of bounds."""
    text = (reason or "").strip()
    return text if MIN_BLOCK_REASON <= len(text) <= MAX_BLOCK_REASON else None
