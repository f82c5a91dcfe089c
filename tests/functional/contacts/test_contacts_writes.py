"""Bulk writes of the address book on moto: records written many to a transaction, a record
given twice in one batch, and a group that meets a concurrent change falling back record by
record, with the audience counters right in every case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sms_platform.contacts import audiences, collection, lookups, repository
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import FixedClock, set_clock

from tests.contacts_support import mobile, person

NOW = datetime(2024, 6, 3, 1, 30, tzinfo=UTC)


@pytest.fixture
def book(aws):
    crypto.reset()
    set_clock(FixedClock(NOW))
    yield
    set_clock(None)
    crypto.reset()


def count(**segment) -> int:
    return audiences.count(audiences.Segment(kind="person", **segment))


def test_many_records_share_transactions_and_every_counter_is_right(book, monkeypatch):
    client = repository._client()
    transactions = []

    class Counting:
        def __getattr__(self, name):
            return getattr(client, name)

        def transact_write_items(self, **request):
            transactions.append(len(request["TransactItems"]))
            return client.transact_write_items(**request)

    monkeypatch.setattr(repository, "_client", Counting)
    batch = [person(i, insurance_types=["pension", "medical"], tags=["退休"]) for i in range(12)]

    results = collection.upsert_batch(batch, at=NOW)

    assert [r.status for r in results] == ["created"] * 12
    assert 1 < len(transactions) < 12 and max(transactions) <= 25
    assert count() == 12
    assert count(insurance_type="medical") == 12
    assert count(tag="退休", insurance_type="pension") == 12
    assert count(districts=["rushan"]) == 0
    chunks = audiences.plan_chunks(audiences.Segment(kind="person"), 3)
    found = {r.phone_masked for chunk in chunks for r in audiences.iter_chunk(audiences.Segment(kind="person"), chunk)}
    assert found == {f"139****{i:04d}" for i in range(12)}


def test_a_record_given_twice_in_one_batch_is_written_in_order(book):
    second_number = {"number": mobile(77), "source": "kiosk", "verified": True,
                     "collected_at": "2024-06-03T09:00:00+08:00"}  # fmt: skip
    batch = [person(1), person(2), person(1, name="改名后", phones=[second_number])]

    results = collection.upsert_batch(batch, at=NOW)

    assert [r.status for r in results] == ["created", "created", "updated"]
    saved = lookups.find("person", person(1)["id"])
    assert saved.name == "改名后"
    assert sorted(p.masked for p in saved.phones) == ["139****0001", "139****0077"]
    assert count() == 2


def test_a_group_meeting_a_concurrent_write_falls_back_record_by_record(book, monkeypatch):
    collection.upsert_batch([person(1)], at=NOW)
    # Another writer created person 1 after this batch read the table: the batch's read is stale.
    real_get_many = repository.get_many
    stale = iter([{}])
    monkeypatch.setattr(repository, "get_many", lambda pks: next(stale, None) or real_get_many(pks))

    results = collection.upsert_batch([person(1, name="改名后"), person(2), person(3)], at=NOW)

    assert [r.status for r in results] == ["updated", "created", "created"]
    assert lookups.find("person", person(1)["id"]).name == "改名后"
    assert count() == 3  # person 1 counted once, not again as new
