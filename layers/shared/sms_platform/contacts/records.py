"""Pure rules of the address book: merging a collection into a record, the number in use, and
the index and counter keys a record belongs to.

No AWS here: the repository turns what these functions compute into writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

# ``current_phone`` lives with the models (a record answers it itself); it is named here too,
# with the other rules of a record's numbers.
from sms_platform.contacts import number_check_rules
from sms_platform.contacts.models import Contact, ContactIn, NumberCheck, PhoneEntry, current_phone

# Audience index partitions are sharded by the phone hash, so that a city-wide segment is
# read by many workers at once and a number shared by several records lands in one partition,
# next to its twins (its sort key starts with the phone hash).
AUDIENCE_SHARDS = 16
# Counter items are sharded by record so that parallel writers rarely touch the same item.
COUNTER_SHARDS = 8
# Older numbers stay in the history; beyond this many the oldest are dropped.
MAX_HISTORY = 20

ALL = "all"


def current_by_contact_person(phones: Iterable[PhoneEntry]) -> dict[str, PhoneEntry]:
    """A unit's number in use for each of its contact people ("" for a number without a name)."""
    by_person: dict[str, list[PhoneEntry]] = {}
    for entry in phones:
        by_person.setdefault(entry.contact_name or "", []).append(entry)
    chosen = {person: current_phone(entries) for person, entries in by_person.items()}
    return {person: entry for person, entry in chosen.items() if entry is not None}


def merge_phones(history: list[PhoneEntry], collected: list[PhoneEntry]) -> list[PhoneEntry]:
    """Add collected numbers to a history. A number already known for the same contact person is
    not added twice: it keeps its earliest source unless collected again later, becomes verified
    once any channel verified it, and its time is the latest collection."""
    merged: dict[tuple[str, str], PhoneEntry] = {(e.hash, e.contact_name or ""): e for e in history}
    for entry in collected:
        key = (entry.hash, entry.contact_name or "")
        known = merged.get(key)
        if known is None:
            merged[key] = entry
            continue
        newer = entry if entry.collected_at > known.collected_at else known
        merged[key] = known.model_copy(
            update={
                "verified": known.verified or entry.verified,
                "collected_at": newer.collected_at,
                "source": newer.source,
            }
        )
    ordered = sorted(merged.values(), key=lambda e: (e.collected_at, e.hash))
    keep = ordered[-MAX_HISTORY:]
    # The number in use is never dropped, however old it is.
    in_use = current_phone(ordered)
    if in_use is not None and in_use not in keep:
        keep = [in_use, *keep[1:]]
    return sorted(keep, key=lambda e: (e.collected_at, e.hash))


def in_use_after(history: list[PhoneEntry], collected: list[PhoneEntry]) -> dict[str, str]:
    """The hash of each contact person's number in use once ``collected`` joins ``history``."""
    return {person: entry.hash for person, entry in current_by_contact_person(merge_phones(history, collected)).items()}


def keep_held_times(history: list[PhoneEntry], collected: list[PhoneEntry], dated: list[bool]) -> list[PhoneEntry]:
    """The collected numbers, those sent without a time of their own (``dated`` False) that the
    history already holds taking their held time back, so the same record sent again changes
    nothing (answered ``unchanged``). Not when that would leave another number in use than a
    fresh collection sets: an older number sent again still becomes the one in use."""
    held = {(entry.hash, entry.contact_name or ""): entry for entry in history}
    quiet = [
        entry.model_copy(update={"collected_at": held[key].collected_at})
        if not was_dated and (key := (entry.hash, entry.contact_name or "")) in held
        else entry
        for entry, was_dated in zip(collected, dated, strict=True)
    ]
    return quiet if in_use_after(history, quiet) == in_use_after(history, collected) else collected


def merge(
    existing: Contact | None,
    incoming: ContactIn,
    *,
    id_hash: str,
    id_token: str,
    id_masked: str,
    collected: list[PhoneEntry],
    at: datetime,
    marked: Mapping[str, NumberCheck] | None = None,
) -> Contact:
    """The record after a collection: the latest details win, numbers join the history. With
    ``marked`` (numbers among the collected held for verification), its place on its district's
    worklist follows ``number_check_rules``."""
    history = existing.phones if existing else []
    phones = merge_phones(list(history), collected)
    marks = marked or {}
    verified = number_check_rules.verifications(history, collected, number_check_rules.mark_times(existing, marks))
    check = number_check_rules.check_after(
        existing.number_check if existing else None, current_phone(phones), verified, marks
    )
    return Contact(
        kind=incoming.kind,
        id_hash=id_hash,
        id_token=existing.id_token if existing else id_token,
        id_masked=id_masked,
        name=incoming.name,
        district=incoming.district,
        insurance_types=list(incoming.insurance_types),
        employer=incoming.employer,
        tags=list(incoming.tags),
        phones=phones,
        version=(existing.version if existing else 0) + 1,
        updated_at=at,
        number_check=check,
    )


def same_content(a: Contact | None, b: Contact) -> bool:
    """Whether a write would change anything a user can see (version and time aside)."""
    if a is None:
        return False
    ignore = {"version", "updated_at", "id_token"}
    return a.model_dump(exclude=ignore) == b.model_dump(exclude=ignore)


def dimensions(contact: Contact) -> list[str]:
    """The audience dimensions a record counts in: all, each insurance type, each tag, each pair."""
    types = [f"ins={t.value if hasattr(t, 'value') else t}" for t in contact.insurance_types]
    tags = [f"tag={tag}" for tag in contact.tags]
    pairs = [f"{t}&{g}" for t in types for g in tags]
    return [ALL, *types, *tags, *pairs]


def index_dimensions(contact: Contact) -> list[str]:
    """Dimensions with their own index entries (pairs are read through the tag's entries)."""
    return [dim for dim in dimensions(contact) if "&" not in dim]


def audience_shard(phone_hash: str) -> int:
    return int(phone_hash[:8], 16) % AUDIENCE_SHARDS


def audience_partition(district: str, kind: str, dimension: str, shard: int) -> str:
    return f"aud#{district}#{kind}#{dimension}#{shard:02d}"


def audience_sort_key(phone_hash: str, id_hash: str) -> str:
    return f"{phone_hash}#{id_hash}"


def counter_key(kind: str, dimension: str, district: str, shard: int) -> tuple[str, str]:
    return f"cnt#{kind}#{dimension}", f"{district}#{shard:02d}"


def counter_keys(contact: Contact | None) -> list[tuple[str, str]]:
    """The counter items a record adds one to; none while it has no number to reach."""
    if contact is None or contact.current_phone is None:
        return []
    shard = int(contact.id_hash[:8], 16) % COUNTER_SHARDS
    kind = contact.kind.value
    return [counter_key(kind, dim, contact.district, shard) for dim in dimensions(contact)]


def counter_deltas(before: Contact | None, after: Contact | None) -> dict[tuple[str, str], int]:
    """How a change moves a record between counters: -1 where it leaves, +1 where it joins."""
    deltas: Counter[tuple[str, str]] = Counter()
    for key in counter_keys(before):
        deltas[key] -= 1
    for key in counter_keys(after):
        deltas[key] += 1
    return {key: value for key, value in deltas.items() if value}


# Actions per transaction of a bulk write (DynamoDB allows 100). Larger groups keep their
# requests alive long enough to be promoted by Python's garbage collector, which then runs full
# collections over the whole chunk far more often: measured, 100 actions cost the import
# worker about 40% more CPU than 25, while 25 already cut its round trips five-fold.
MAX_TRANSACTION_ACTIONS = 25


def counter_group_key(kind: str, district: str, id_hash: str) -> tuple[str, str, int]:
    """Records with the same key move the same counter items (see ``counter_keys``): written
    together, one update per counter carries the whole group's change."""
    return kind, district, int(id_hash[:8], 16) % COUNTER_SHARDS


def pack_writes(
    writes: Iterable[tuple[int, Iterable[tuple[str, str]]]], limit: int = MAX_TRANSACTION_ACTIONS
) -> Iterator[list[int]]:
    """Pack record writes, in order, into transactions of at most ``limit`` actions.

    Each write is (its own item actions, the counter items it moves); a transaction spends one
    action per distinct counter item of its group, whatever the number of records moving it.
    A write too large to share a transaction gets one of its own. Yields each group's positions
    as soon as it is complete, having read at most one write past it (so a caller can prepare
    writes as it goes and hold one transaction's worth at a time)."""
    current: list[int] = []
    actions = 0
    counters: set[tuple[str, str]] = set()
    for position, (own, moved) in enumerate(writes):
        added = set(moved) - counters
        if current and actions + own + len(added) > limit:
            yield current
            current, actions, counters = [], 0, set()
            added = set(moved)
        current.append(position)
        actions += own + len(added)
        counters |= added
    if current:
        yield current


def sum_deltas(changes: Iterable[dict[tuple[str, str], int]]) -> dict[tuple[str, str], int]:
    """Several records' counter moves as one move per counter item (those that cancel out go)."""
    total: Counter[tuple[str, str]] = Counter()
    for change in changes:
        total.update(change)
    return {key: value for key, value in sorted(total.items()) if value}
