"""One fan-out worker's share of an audience and the pages it reads it in.

A share (``ChunkSpec``) is either ranges of the audience index (a partition and a range of phone
hash prefixes, ``KeyRange``) or a byte range of an uploaded list. It is stored with the send as
a small dict. Each ``Page`` of recipients carries the cursor to resume after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sms_platform.contacts.models import Recipient


@dataclass(frozen=True)
class KeyRange:
    partition: str
    low: str  # inclusive prefix of the phone hash
    high: str  # inclusive upper bound

    def as_list(self) -> list[str]:
        return [self.partition, self.low, self.high]


@dataclass(frozen=True)
class ChunkSpec:
    """One worker's share of an audience: index key ranges, or a byte range of an uploaded list."""

    ranges: tuple[KeyRange, ...] = ()
    list_start: int | None = None
    list_end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.list_start is not None:
            return {"list": [self.list_start, self.list_end]}
        return {"ranges": [r.as_list() for r in self.ranges]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkSpec:
        if "list" in data:
            start, end = data["list"]
            return cls(list_start=int(start), list_end=int(end))
        return cls(ranges=tuple(KeyRange(*r) for r in data["ranges"]))


@dataclass
class Page:
    recipients: list[Recipient]
    cursor: dict[str, Any] | None  # where to resume after this page; None when the chunk is done
    skipped: int = 0  # identifiers of a list not in the address book or without a number
    extra: dict[str, Any] = field(default_factory=dict)
