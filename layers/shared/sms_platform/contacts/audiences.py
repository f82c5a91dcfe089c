"""Audiences: who a send reaches, counted at once and expanded in parallel chunks.

A segment is a kind (units or persons) with optional districts, an insurance type and a tag, or
an uploaded list of ID numbers or credit codes.

- ``count(segment)`` adds up the audience counters (a few dozen items), never the records;
  ``count_for(ctx, segment)`` is that count for staff, held to the districts they work on.
- ``plan_chunks(segment, n)`` cuts the segment's index into ``n`` pieces of similar size:
  each district's partitions are sharded by phone hash, and a shard can be cut further by
  ranges of that hash, so any number of workers can expand one audience at the same time.
- ``iter_chunk(segment, chunk)`` yields the recipients of one piece through the index, a page
  at a time, so memory stays flat whatever the audience's size. Records sharing a number sit
  side by side in the index and yield one recipient; a number shared across districts is
  caught by the message id (send id + phone hash) that every send keys its messages by.

Recipients carry the number encrypted: the dispatcher decrypts it just before sending.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.contacts import lists, records
from sms_platform.contacts.access import check_district, districts_of
from sms_platform.contacts.chunks import ChunkSpec, KeyRange, Page
from sms_platform.contacts.models import DISTRICTS, InsuranceType, Kind, Recipient, Tag, district_code
from sms_platform.contacts.views_models import AudienceCount
from sms_platform.foundation.settings import settings
from sms_platform.foundation.validation_messages import labels
from sms_platform.staff.context import StaffContext

_PROJECTION = "#r, kind, #n, district, cur_h, cur_t, cur_m"
_NAMES = {"#r": "ref", "#n": "name"}
# Two hex characters of the phone hash: up to 256 ranges per shard.
_PREFIXES = 256
# A line of an uploaded list holds one ID number or code; longer lines are not identifiers.
MAX_LIST_LINE = 64


class Segment(BaseModel):
    """Whom a send is for. ``districts`` empty means the whole city."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        field_title_generator=labels(
            {"kind": "对象类型", "districts": "区县", "insurance_type": "险种", "list_id": "名单", "tag": "标签"}
        ),
    )

    kind: Kind
    districts: tuple[str, ...] = ()
    insurance_type: InsuranceType | None = None
    tag: Tag | None = None
    list_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")

    @field_validator("districts", mode="before")
    @classmethod
    def _districts(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(sorted({district_code(str(item)) for item in value}))
        return value

    @property
    def district_codes(self) -> tuple[str, ...]:
        return self.districts or tuple(DISTRICTS)

    @property
    def index_dimension(self) -> str:
        if self.tag:
            return f"tag={self.tag}"
        if self.insurance_type:
            return f"ins={self.insurance_type.value}"
        return records.ALL

    @property
    def count_dimension(self) -> str:
        if self.tag and self.insurance_type:
            return f"ins={self.insurance_type.value}&tag={self.tag}"
        return self.index_dimension


def _table_name() -> str:
    return settings().value("CONTACTS_TABLE")


# ------------------------------------------------------------------ counting


def count(segment: Segment) -> int:
    """The audience's size from the counters (a list's size is its number of valid identifiers)."""
    if segment.list_id:
        return lists.get(segment.list_id, kind=segment.kind.value)["count"]
    wanted = set(segment.district_codes)
    pk = f"cnt#{segment.kind.value}#{segment.count_dimension}"
    counters = queries.items(
        aws.client("dynamodb").query,
        TableName=_table_name(),
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": pk}},
    )
    return sum(int(item["n"]["N"]) for item in counters if item["sk"]["S"].split("#", 1)[0] in wanted)


def count_for(ctx: StaffContext, segment: Segment) -> AudienceCount:
    """The count a staff member may see: a district office asks about its own district only
    (refused when it names another), whatever districts it leaves out, and of its own lists."""
    allowed = districts_of(ctx)
    if allowed is not None:
        for district in segment.districts:
            check_district(ctx, district)
        if segment.list_id:
            lists.check_office(segment.list_id, ctx.office.value)
        segment = segment.model_copy(update={"districts": tuple(sorted(allowed))})
    return AudienceCount(count=count(segment))


# ------------------------------------------------------------------ planning


def _hash_ranges(parts: int) -> list[tuple[str, str]]:
    """``parts`` contiguous ranges of two-hex-character prefixes covering all phone hashes."""
    parts = max(1, min(parts, _PREFIXES))
    bounds = [round(i * _PREFIXES / parts) for i in range(parts + 1)]
    return [(f"{bounds[i]:02x}", f"{bounds[i + 1] - 1:02x}~") for i in range(parts)]


def plan_chunks(segment: Segment, n: int) -> list[ChunkSpec]:
    """Cut the segment into at most ``n`` chunks of similar size for parallel workers."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if segment.list_id:
        size = lists.get(segment.list_id, kind=segment.kind.value)["size"]
        n = max(1, min(n, size // 1024 or 1))
        bounds = [round(i * size / n) for i in range(n + 1)]
        return [ChunkSpec(list_start=bounds[i], list_end=bounds[i + 1]) for i in range(n)]
    partitions = [
        records.audience_partition(district, segment.kind.value, segment.index_dimension, shard)
        for district in segment.district_codes
        for shard in range(records.AUDIENCE_SHARDS)
    ]
    per_partition = math.ceil(n / len(partitions))
    ranges = [KeyRange(p, low, high) for p in partitions for low, high in _hash_ranges(per_partition)]
    chunks = min(n, len(ranges))
    return [ChunkSpec(ranges=tuple(ranges[i::chunks])) for i in range(chunks)]


# ------------------------------------------------------------------ expansion


def _recipient(item: dict[str, Any]) -> Recipient:
    return Recipient(
        item["ref"]["S"],
        item["kind"]["S"],
        item["name"]["S"],
        item["district"]["S"],
        item["cur_h"]["S"],
        item["cur_t"]["S"],
        item["cur_m"]["S"],
    )


def _range_pages(
    key_range: KeyRange, start_key: dict[str, Any] | None, segment: Segment
) -> Iterator[tuple[list[Recipient], dict[str, Any] | None]]:
    """Each page of one key range of the index: its recipients (one per number) and the key to
    resume after it (None after the range's last page)."""
    values: dict[str, Any] = {
        ":p": {"S": key_range.partition},
        ":lo": {"S": key_range.low},
        ":hi": {"S": key_range.high},
    }
    args: dict[str, Any] = {}
    if segment.tag and segment.insurance_type:
        args["FilterExpression"] = "contains(ins, :ins)"
        values[":ins"] = {"S": segment.insurance_type.value}
    if start_key:
        args["ExclusiveStartKey"] = start_key
    last_hash = None
    answers = queries.pages(
        aws.client("dynamodb").query,
        TableName=_table_name(),
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p AND gsi1sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues=values,
        ProjectionExpression=_PROJECTION,
        ExpressionAttributeNames=_NAMES,
        **args,
    )
    for answer in answers:
        recipients = []
        for item in answer.get("Items", ()):
            phone_hash = item["cur_h"]["S"]
            if phone_hash == last_hash:
                continue  # the same number as the record before: one message per number
            last_hash = phone_hash
            recipients.append(_recipient(item))
        yield recipients, answer.get("LastEvaluatedKey")


def _index_pages(segment: Segment, chunk: ChunkSpec, cursor: dict[str, Any] | None) -> Iterator[Page]:
    position = int(cursor["range"]) if cursor else 0
    start_key = cursor.get("key") if cursor else None
    for index in range(position, len(chunk.ranges)):
        for recipients, resume in _range_pages(chunk.ranges[index], start_key, segment):
            if resume:
                yield Page(recipients, {"range": index, "key": resume})
            else:
                done = index + 1 >= len(chunk.ranges)
                yield Page(recipients, None if done else {"range": index + 1, "key": None})
        start_key = None


def iter_pages(segment: Segment, chunk: ChunkSpec, cursor: dict[str, Any] | None = None) -> Iterator[Page]:
    """The chunk's recipients page by page, each page with the cursor to resume after it."""
    if segment.list_id:
        yield from lists.pages(segment.list_id, segment.kind.value, chunk, cursor)
        return
    yield from _index_pages(segment, chunk, cursor)


def iter_chunk(segment: Segment, chunk: ChunkSpec) -> Iterator[Recipient]:
    """Every recipient of one chunk."""
    for page in iter_pages(segment, chunk):
        yield from page.recipients
