"""Auditors' searches of the trail: a time range, and optionally an operator, an office and a
template, a page at a time.

With an operator or an office the search reads that index (``gsi1``, ``gsi2``), sorted by time,
and its cursor is the index's place. Without either it walks each day's chains, merging their
shards by time; its cursor keeps the day and each shard's place in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sms_platform.audit import store
from sms_platform.audit.chain import SHARDS, beijing_day, chain_key, public_entry, time_key
from sms_platform.foundation import paging
from sms_platform.foundation.errors import ValidationFailed

MAX_SEARCH_DAYS = 366


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


def search(query: AuditQuery) -> AuditPage:
    """Entries in the time range, by operator (gsi1) or office (gsi2) when given, else by
    walking each day's chains; optionally only those about one template. Paged by cursor."""
    query.check()
    if query.operator or query.office:
        return _search_index(query)
    return _search_chains(query)


def _search_index(query: AuditQuery) -> AuditPage:
    # By operator, an office is a filter; by office alone, the index itself.
    by, value, office = ("operator", query.operator, query.office) if query.operator else ("office", query.office, None)
    items, last = store.index_page(
        by,
        str(value),
        start=time_key(query.start),
        end=time_key(query.end),
        template_id=query.template_id,
        office=office,
        limit=query.limit,
        cursor=query.cursor,
    )
    return AuditPage([public_entry(item) for item in items], paging.encode(last) if last else None)


# ---------------------------------------------------------------------------- walking the chains


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = beijing_day(start), beijing_day(end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _place(cursor: str | None, days: list[date]) -> tuple[int, dict[int, int]]:
    """Where a walk goes on: the index of its day in ``days``, and each shard's last sequence
    number read that day."""
    state = paging.decode(cursor) if cursor else {"d": days[0].isoformat(), "p": {}}
    if not isinstance(state, dict):
        raise paging.invalid()
    try:
        day_index = days.index(date.fromisoformat(str(state["d"])))
        positions = {int(k): int(v) for k, v in dict(state.get("p", {})).items()}
    except (KeyError, ValueError, TypeError, OverflowError) as error:  # OverflowError: int(Infinity)
        raise paging.invalid() from error
    return day_index, positions


def _day_entries(
    query: AuditQuery, day: date, positions: Mapping[int, int], wanted: int
) -> tuple[list[tuple[int, Mapping[str, Any]]], bool]:
    """Up to ``wanted`` entries of each of the day's chains after its position, as (shard,
    item) in time order; and whether every chain was read to its end."""
    found: list[tuple[int, Mapping[str, Any]]] = []
    exhausted = True
    for shard in range(SHARDS):
        items, read_all = store.chain_page(
            chain_key(day, shard),
            after=positions.get(shard, 0),
            start=time_key(query.start),
            end=time_key(query.end),
            template_id=query.template_id,
            limit=wanted,
        )
        exhausted = exhausted and read_all
        found.extend((shard, item) for item in items)
    found.sort(key=lambda pair: (pair[1]["at"], pair[0], int(pair[1]["seq"])))
    return found, exhausted


def _search_chains(query: AuditQuery) -> AuditPage:
    """Walk each day's chains, merging their shards by time; the cursor keeps each shard's place."""
    days = _days(query.start, query.end)
    day_index, positions = _place(query.cursor, days)
    page = AuditPage()
    for day in days[day_index:]:
        remaining = query.limit - len(page.entries)
        candidates, exhausted = _day_entries(query, day, positions, remaining)
        taken, left = candidates[:remaining], candidates[remaining:]
        for shard, item in taken:
            positions[shard] = int(item["seq"])
        page.entries.extend(public_entry(item) for _, item in taken)
        if left or not exhausted:
            page.cursor = paging.encode({"d": day.isoformat(), "p": {str(k): v for k, v in positions.items()}})
            return page
        positions = {}
        if len(page.entries) >= query.limit and day != days[-1]:
            page.cursor = paging.encode({"d": (day + timedelta(days=1)).isoformat(), "p": {}})
            return page
    return page
