"""When a record is on its district's worklist of numbers to verify, without AWS: a marked number
in use puts it there; a new number in use or a verification through any channel takes it off;
the same data sent again does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.contacts import number_check_rules, records
from sms_platform.contacts.models import CheckFailure, Contact, ContactIn, NumberCheck, PhoneEntry
from sms_platform.contacts.record_items import from_item, member_keys, to_items

from tests.contacts_support import id_number

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
MARKED_AT = T0 + timedelta(days=10)
OLD, NEW = "a" * 64, "b" * 64


def entry(phone_hash: str, *, days: int, verified: bool = True) -> PhoneEntry:
    return PhoneEntry(
        hash=phone_hash, token=f"tok-{phone_hash[:4]}", masked=f"139****{phone_hash[:4]}", source="service_hall",
        collected_at=T0 + timedelta(days=days), verified=verified,
    )  # fmt: skip


def check(phone_hash: str = OLD) -> NumberCheck:
    failures = [
        CheckFailure(failed_at=T0 + timedelta(days=d), source_id=f"send:r{d}", kind="targeted", error_code="DB:0101")
        for d in (4, 9)
    ]
    return NumberCheck(
        phone_hash=phone_hash, phone_masked=f"139****{phone_hash[:4]}", since=MARKED_AT, failures=failures
    )


def stored(*phones: PhoneEntry, flagged: NumberCheck | None = None) -> Contact:
    return Contact(
        kind="person", id_hash="c" * 64, id_token="tok-id", id_masked="371002********0011", name="参保人1",
        district="wendeng", phones=list(phones), version=3, number_check=flagged,
    )  # fmt: skip


INCOMING = ContactIn.model_validate(
    {"kind": "person", "id": id_number(1), "name": "参保人1", "district": "wendeng",
     "phones": [{"number": "13900000001", "source": "service_hall"}]}
)  # fmt: skip


def merged(existing: Contact | None, *collected: PhoneEntry, marked: dict | None = None) -> Contact:
    return records.merge(
        existing, INCOMING, id_hash="c" * 64, id_token="tok-id", id_masked="371002********0011",
        collected=list(collected), at=T0 + timedelta(days=20), marked=marked,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("existing", "collected", "marked", "on_list", "lifted"),
    [
        # A new record whose number is marked joins the worklist.
        (None, [entry(OLD, days=20, verified=False)], {OLD: check()}, OLD, set()),
        # A record taking in a marked number as its number in use joins it too.
        (stored(entry(NEW, days=1)), [entry(OLD, days=20)], {OLD: check()}, None, {OLD}),
        (stored(entry(NEW, days=1, verified=False)), [entry(OLD, days=20, verified=False)], {OLD: check()}, OLD, set()),
        # On the list: the same number sent again as it was (the same import once more) changes nothing.
        (stored(entry(OLD, days=1), flagged=check()), [entry(OLD, days=1)], {OLD: check()}, OLD, set()),
        (
            stored(entry(OLD, days=1, verified=False), flagged=check()),
            [entry(OLD, days=1, verified=False)],
            {OLD: check()},
            OLD,
            set(),
        ),
        # ... verified now (before: not verified) takes it off and lifts the mark.
        (
            stored(entry(OLD, days=1, verified=False), flagged=check()),
            [entry(OLD, days=1)],
            {OLD: check()},
            None,
            {OLD},
        ),
        # ... verified again at a time after the mark takes it off; at a time before does not.
        (stored(entry(OLD, days=1), flagged=check()), [entry(OLD, days=20)], {OLD: check()}, None, {OLD}),
        (stored(entry(OLD, days=1), flagged=check()), [entry(OLD, days=9)], {OLD: check()}, OLD, set()),
        # ... a new number in use takes it off; the old number stays marked (it is still gone).
        (stored(entry(OLD, days=1), flagged=check()), [entry(NEW, days=20)], {OLD: check()}, None, set()),
        (
            stored(entry(OLD, days=1, verified=False), flagged=check()),
            [entry(NEW, days=20, verified=False)],
            {},
            None,
            set(),
        ),
        # ... a second number that does not become the number in use changes nothing.
        (stored(entry(OLD, days=1), flagged=check()), [entry(NEW, days=20, verified=False)], {}, OLD, set()),
        # The record's own check counts even when the batch did not read the mark (lifted elsewhere).
        (stored(entry(OLD, days=1), flagged=check()), [entry(OLD, days=20)], {}, None, {OLD}),
        # Nothing marked: nothing on the list.
        (stored(entry(OLD, days=1)), [entry(NEW, days=20)], {}, None, set()),
    ],
)
def test_a_collection_puts_a_record_on_the_worklist_or_takes_it_off(existing, collected, marked, on_list, lifted):
    after = merged(existing, *collected, marked=marked)

    assert (after.number_check.phone_hash if after.number_check else None) == on_list
    assert number_check_rules.cleared_numbers(existing, collected, marked) == lifted


def test_a_record_already_on_the_list_keeps_its_first_mark():
    first = check()
    later = first.model_copy(update={"since": MARKED_AT + timedelta(days=5)})
    after = merged(stored(entry(OLD, days=1), flagged=first), entry(OLD, days=1), marked={OLD: later})
    assert after.number_check == first


@pytest.mark.parametrize(
    ("contact", "changed"),
    [
        (stored(entry(OLD, days=1)), True),
        (stored(entry(OLD, days=1), flagged=check()), False),  # already there
        (stored(entry(NEW, days=1)), False),  # its number in use is another one
        (stored(entry(OLD, days=1), entry(NEW, days=2)), False),  # the marked number is no longer in use
        (stored(), False),
    ],
)
def test_a_marked_number_flags_the_records_using_it(contact, changed):
    after = number_check_rules.flagged(contact, check())
    assert (after != contact) is changed
    if changed:
        assert after.number_check == check() and after.version == contact.version + 1


def test_unflagging_takes_off_only_a_check_for_that_number():
    on_list = stored(entry(OLD, days=1), flagged=check())
    assert number_check_rules.unflagged(on_list, NEW) is on_list
    off = number_check_rules.unflagged(on_list, OLD)
    assert off.number_check is None and off.version == on_list.version + 1


def test_a_flagged_record_is_stored_with_its_worklist_entry_and_read_back():
    contact = stored(entry(OLD, days=1), flagged=check())
    main, members = to_items(contact)
    entry_item = members["m#check"]

    assert from_item(main) == contact
    assert entry_item["gsi1pk"] == "chk#wendeng"
    assert entry_item["gsi1sk"].startswith(MARKED_AT.isoformat())
    assert {entry_item[k] for k in ("name", "id_m", "ref")} == {"参保人1", "371002********0011", contact.ref}
    assert "m#check" in member_keys(contact) and "m#check" not in member_keys(stored(entry(OLD, days=1)))


def test_a_mark_of_the_number_store_becomes_a_records_check():
    item = {
        "unverified": True, "marked_at": MARKED_AT.isoformat(), "phone_masked": "139****0001",
        "failures": [{"failed_at": (T0 + timedelta(days=4)).isoformat(), "source_id": "send:r4", "kind": "targeted",
                      "error_code": "DB:0101", "message_id": "m", "template_id": "t", "made_at": T0.isoformat()}],
    }  # fmt: skip
    found = number_check_rules.check_of_mark(OLD, item)
    assert (found.phone_hash, found.phone_masked, found.since) == (OLD, "139****0001", MARKED_AT)
    assert [(f.source_id, f.error_code) for f in found.failures] == [("send:r4", "DB:0101")]
