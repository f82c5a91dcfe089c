"""Validated records merged into the address book, one or many at a time.

Each incoming record is merged over what is stored (``records.merge``): new numbers join its
history, a number already held keeps its ciphertext. A writer limited to some districts may
not touch a record in, or moving to, any other (``OutOfScope``). Writing the same records again
changes nothing: they come back ``unchanged``.

The incoming numbers held for verification are read first (``sending.number_health``), so that
a record taking in a marked number joins its district's worklist, and a collection that verifies
a marked number lifts the mark once written (``number_check_rules``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from sms_platform.contacts import number_check_rules, records, repository, validation
from sms_platform.contacts.models import Contact, ContactIn, NumberCheck, PhoneEntry, RecordResult
from sms_platform.contacts.record_items import record_pk
from sms_platform.foundation import crypto
from sms_platform.sending import number_health

OUT_OF_SCOPE = "只能维护本区县的通讯录"


class OutOfScope(Exception):
    """The record lies outside the districts the writer may change."""


def _collected(
    existing: Contact | None, incoming: ContactIn, at: datetime, hashes: list[str] | None = None
) -> list[PhoneEntry]:
    """The incoming numbers as history entries (``hashes``: their keyed hashes, when known); a
    number already held keeps its ciphertext."""
    tokens = {entry.hash: entry.token for entry in existing.phones} if existing else {}
    hashes = hashes or [crypto.keyed_hash(phone.number) for phone in incoming.phones]
    entries = []
    for phone, phone_hash in zip(incoming.phones, hashes, strict=True):
        entries.append(
            PhoneEntry(
                hash=phone_hash,
                token=tokens.get(phone_hash) or crypto.encrypt(phone.number),
                masked=validation.mask_mobile(phone.number),
                source=phone.source,
                collected_at=phone.collected_at or at,
                verified=phone.verified,
                contact_name=phone.contact_name,
            )
        )
    if existing is None:
        return entries
    # A number sent again without a time of its own is no news: it keeps the time it was held at.
    return records.keep_held_times(
        existing.phones, entries, [phone.collected_at is not None for phone in incoming.phones]
    )


class _Collection:
    """One validated record on its way in: its key, how it is rebuilt over what is stored, and
    where the writer may act (``districts``; None for everywhere)."""

    def __init__(self, incoming: ContactIn, *, at: datetime, districts: frozenset[str] | None) -> None:
        self.incoming = incoming
        self.at = at
        self.districts = districts
        self.kind = incoming.kind.value
        self.id_hash = repository.id_hash_of(incoming.id)
        self.pk = record_pk(self.kind, self.id_hash)
        self.id_masked = validation.mask_identifier(self.kind, incoming.id)
        self.phone_hashes = [crypto.keyed_hash(phone.number) for phone in incoming.phones]
        self.marked: Mapping[str, NumberCheck] = {}  # the batch's incoming numbers held for verification
        self.collected: list[PhoneEntry] = []  # the numbers as the last build took them in
        self._id_token: str | None = None

    def build(self, current: Contact | None) -> Contact:
        if current is None and self._id_token is None:
            self._id_token = crypto.encrypt(self.incoming.id)  # once, however often rebuilt
        self.collected = _collected(current, self.incoming, self.at, self.phone_hashes)
        return records.merge(
            current,
            self.incoming,
            id_hash=self.id_hash,
            id_token=current.id_token if current else self._id_token,  # type: ignore[arg-type]
            id_masked=self.id_masked,
            collected=self.collected,
            at=self.at,
            marked=self.marked,
        )

    def cleared(self, before: Contact | None) -> set[str]:
        """The marked numbers this record's write verified (to be lifted once written)."""
        return number_check_rules.cleared_numbers(before, self.collected, self.marked)

    def check(self, current: Contact | None, after: Contact) -> None:
        if self.districts is None:
            return
        if after.district not in self.districts or (current is not None and current.district not in self.districts):
            raise OutOfScope()


def upsert(
    incoming: ContactIn,
    *,
    at: datetime,
    existing: Contact | None | type[Ellipsis] = ...,
    districts: frozenset[str] | None = None,
) -> tuple[str, Contact]:
    """Add or update one validated record. ``districts``, when given, is where the writer may
    act: a record in or moving to any other district raises ``OutOfScope``."""
    collection = _Collection(incoming, at=at, districts=districts)
    collection.marked = _marks([collection])
    before = repository.get(collection.pk) if existing is ... else existing
    status, saved = repository.save(collection.pk, before, collection.build, check=collection.check)  # type: ignore[arg-type]
    if status != "unchanged":
        lift_marks(collection.cleared(before), at=at)  # type: ignore[arg-type]
    return status, saved


def _marks(collections: Iterable[_Collection]) -> dict[str, NumberCheck]:
    """The incoming numbers held for verification, as a record's check (one read per hundred)."""
    hashes = [phone_hash for collection in collections for phone_hash in collection.phone_hashes]
    found = number_health.marks_among(hashes)
    return {phone_hash: number_check_rules.check_of_mark(phone_hash, item) for phone_hash, item in found.items()}


def lift_marks(phone_hashes: Iterable[str], *, at: datetime) -> None:
    """Numbers a collection verified: their marks are lifted, and the other records using them
    leave their districts' worklists."""
    for phone_hash in sorted(set(phone_hashes)):
        number_health.clear(phone_hash, at=at)
        for contact in repository.find_by_phone_hash(phone_hash):
            if contact.number_check is None or contact.number_check.phone_hash != phone_hash:
                continue
            pk = record_pk(contact.kind.value, contact.id_hash)

            def unflag(current: Contact | None, phone_hash: str = phone_hash) -> Contact:
                return number_check_rules.unflagged(current, phone_hash) if current else current  # type: ignore[return-value]

            repository.save(pk, contact, unflag)


def _out_of_scope(index: int) -> RecordResult:
    return RecordResult(index=index, status="rejected", errors=[{"field": "district", "message": OUT_OF_SCOPE}])


# A record ready to be written in a group: its position, the record read and the one built, and
# the counter moves between them.
_Write = tuple[int, Contact | None, Contact, dict[tuple[str, str], int]]


class _Batch:
    """One ``upsert_many``: its records, what was read of them, and their results by position."""

    def __init__(self, incoming: list[tuple[int, ContactIn]], at: datetime, districts: frozenset[str] | None) -> None:
        self.incoming = incoming
        self.at = at
        self.collections = [_Collection(contact, at=at, districts=districts) for _, contact in incoming]
        self.existing: dict[str, Contact] = repository.get_many(c.pk for c in self.collections)
        marked = _marks(self.collections)
        for collection in self.collections:
            collection.marked = marked
        self.cleared: set[str] = set()  # marked numbers the written records verified
        self.occurrences = Counter(c.pk for c in self.collections)
        self.results: dict[int, RecordResult] = {}
        self.one_by_one: list[int] = []  # positions written alone after the groups
        self.reread: set[str] = set()  # records a cancelled group met: read again before writing
        # Records are built as the packing reads them and dropped once sent, and a group's requests
        # are made only when it is sent, so a chunk's worth never sits in memory at once.
        self.prepared: dict[int, _Write] = {}

    def _order(self) -> list[int]:
        """Positions sorted so that neighbours that move the same counters share transactions; a
        record's later occurrences sort with its first (the stable sort keeps their order)."""
        group_of: dict[str, tuple[str, str, int]] = {}
        for c in self.collections:
            group_of.setdefault(c.pk, records.counter_group_key(c.kind, c.incoming.district, c.id_hash))
        return sorted(range(len(self.collections)), key=lambda position: group_of[self.collections[position].pk])

    def _settle(self, position: int, status: str, saved: Contact) -> None:
        self.results[position] = RecordResult(index=self.incoming[position][0], status=status, ref=saved.ref)

    def _build(self, position: int) -> _Write | None:
        """The write a record needs over what was read of it; None when it needs none (unchanged,
        or out of the writer's districts), its result then settled."""
        collection = self.collections[position]
        before = self.existing.get(collection.pk)
        after = collection.build(before)
        try:
            collection.check(before, after)
        except OutOfScope:
            self.results[position] = _out_of_scope(self.incoming[position][0])
            return None
        if records.same_content(before, after):
            self._settle(position, "unchanged", after)
            return None
        return position, before, after, records.counter_deltas(before, after)

    def _prepare(self) -> Iterator[tuple[int, list[tuple[str, str]]]]:
        """Each record's first occurrence that needs a write, as the packing sees it (its number of
        actions and the counters it moves); later occurrences wait to be written one by one."""
        seen: set[str] = set()
        numbers = itertools.count()  # the packing names writes by their order
        for position in self._order():
            pk = self.collections[position].pk
            if pk in seen:
                self.one_by_one.append(position)
                continue
            seen.add(pk)
            write = self._build(position)
            if write is not None:
                _, before, after, moved = write
                self.prepared[next(numbers)] = write
                yield repository.record_op_count(before, after), list(moved)

    def _write_group(self, group: list[int]) -> None:
        """One transaction for a group; if another writer's change cancels it, its records are
        written one by one, each read again."""
        writes = [self.prepared.pop(member) for member in group]
        changes = [(before, after) for _, before, after, _ in writes]
        if not repository.write_records(changes, records.sum_deltas(moved for *_, moved in writes)):
            for position, *_ in writes:
                self.one_by_one.append(position)
                self.reread.add(self.collections[position].pk)
            return
        for position, before, after, _ in writes:
            pk = self.collections[position].pk
            if self.occurrences[pk] > 1:  # its later occurrences build on it
                self.existing[pk] = after
            self.cleared |= self.collections[position].cleared(before)
            self._settle(position, "created" if before is None else "updated", after)

    def _write_alone(self, position: int) -> None:
        collection = self.collections[position]
        if collection.pk in self.reread:
            self.reread.discard(collection.pk)
            before = repository.get(collection.pk)
        else:
            before = self.existing.get(collection.pk)
        try:
            status, saved = repository.save(collection.pk, before, collection.build, check=collection.check)
        except OutOfScope:
            self.results[position] = _out_of_scope(self.incoming[position][0])
            return
        self.existing[collection.pk] = saved
        if status != "unchanged":
            self.cleared |= collection.cleared(before)
        self._settle(position, status, saved)

    def preview(self) -> list[RecordResult]:
        """The results ``run`` would give against the records as they are, writing nothing: each
        record built over what was read of it, a later occurrence over the earlier one's result
        (as ``run`` writes them: first occurrences, then the later ones in order)."""
        for position in range(len(self.incoming)):
            write = self._build(position)
            if write is not None:
                _, before, after, _ = write
                self.existing[self.collections[position].pk] = after
                self._settle(position, "created" if before is None else "updated", after)
        return [self.results[position] for position in range(len(self.incoming))]

    def run(self) -> list[RecordResult]:
        for group in records.pack_writes(self._prepare()):
            self._write_group(group)
        for position in sorted(self.one_by_one):
            self._write_alone(position)
        if self.cleared:
            lift_marks(self.cleared, at=self.at)
        return [self.results[position] for position in range(len(self.incoming))]


def upsert_many(
    incoming: list[tuple[int, ContactIn]],
    *,
    at: datetime,
    districts: frozenset[str] | None = None,
) -> list[RecordResult]:
    """Upsert validated records (with their positions); one result each, in the given order.

    Existing records are read in batches. The changed ones are written many to a transaction,
    each conditioned on the version read (or on not existing yet), with one update per counter
    item a group moves. A group that meets a concurrent change is cancelled whole, and its
    records are then written one at a time, reading them again. A record given several times
    is written in order: its first occurrence with the others, the later ones one by one after.
    Writing the same records again changes nothing: they come back ``unchanged``.
    """
    if not incoming:
        return []
    return _Batch(incoming, at, districts).run()


def preview_many(
    incoming: list[tuple[int, ContactIn]],
    *,
    at: datetime,
    districts: frozenset[str] | None = None,
) -> list[RecordResult]:
    """What ``upsert_many`` would answer for these records, without writing anything: a test
    key's batch (CONTRACTS §7) is checked against the address book as it is and changes nothing."""
    if not incoming:
        return []
    return _Batch(incoming, at, districts).preview()
