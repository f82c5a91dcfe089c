"""When a record's number in use is on its district's worklist of numbers to verify (pure).

The platform marks a number for verification once it has failed permanently (空号, 停机) too
often (``sending.number_health``); every record using that number as its number in use then
carries a ``NumberCheck`` and shows on its district's worklist. The record leaves the worklist
when any channel that collects numbers (staff, the service channels, imports):

- brings a new number in use for it (the old number stays marked: it is still gone), or
- verifies the number: sends it as verified when it was not verified before, or with a
  verification time at or after the mark. The same verified number sent again as it was (the
  same data imported once more) is no news, and does not undo the mark. A verified number's
  own mark is lifted too, so its other records leave the worklist and sends reach it again.

A record that takes in a number already marked joins the worklist at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sms_platform.contacts.models import CheckFailure, Contact, NumberCheck, PhoneEntry


def mark_times(existing: Contact | None, marked: Mapping[str, NumberCheck]) -> dict[str, datetime]:
    """Since when each number this collection may touch has been marked."""
    since = {phone_hash: check.since for phone_hash, check in marked.items()}
    check = existing.number_check if existing else None
    if check is not None:
        since.setdefault(check.phone_hash, check.since)
    return since


def verifications(
    history: Iterable[PhoneEntry], collected: Iterable[PhoneEntry], since: Mapping[str, datetime]
) -> set[str]:
    """The numbers a collection verifies: collected as verified when the history held them
    unverified (or not at all), or verified at or after the time they were marked."""
    was_verified = {entry.hash for entry in history if entry.verified}
    found = set()
    for entry in collected:
        if not entry.verified:
            continue
        if entry.hash not in was_verified or (entry.hash in since and entry.collected_at >= since[entry.hash]):
            found.add(entry.hash)
    return found


def check_after(
    existing: NumberCheck | None, in_use: PhoneEntry | None, verified: set[str], marked: Mapping[str, NumberCheck]
) -> NumberCheck | None:
    """The record's check once a collection is merged: none without a number in use or when the
    number in use was just verified; kept while the same number stays in use; a new one when the
    number in use is marked."""
    if in_use is None or in_use.hash in verified:
        return None
    if existing is not None and existing.phone_hash == in_use.hash:
        return existing
    return marked.get(in_use.hash)


def cleared_numbers(
    existing: Contact | None, collected: Iterable[PhoneEntry], marked: Mapping[str, NumberCheck]
) -> set[str]:
    """The marked numbers a collection verifies: their marks are lifted once it is written."""
    since = mark_times(existing, marked)
    history = existing.phones if existing else []
    return verifications(history, collected, since) & set(since)


def check_of_mark(phone_hash: str, item: Mapping[str, Any]) -> NumberCheck:
    """A number's mark (``sending.number_health``'s state item) as a record's check."""
    failures = [
        CheckFailure(
            failed_at=datetime.fromisoformat(str(f["failed_at"])),
            source_id=str(f.get("source_id", "")),
            kind=str(f.get("kind", "")),
            error_code=str(f.get("error_code", "")),
        )
        for f in item.get("failures") or []
    ]
    return NumberCheck(
        phone_hash=phone_hash,
        phone_masked=str(item.get("phone_masked") or ""),
        since=datetime.fromisoformat(str(item["marked_at"])),
        failures=failures,
    )


def flagged(contact: Contact, check: NumberCheck) -> Contact:
    """The record put on its district's worklist for ``check``, if the marked number is still its
    number in use (else as it is)."""
    in_use = contact.current_phone
    if in_use is None or in_use.hash != check.phone_hash:
        return contact
    if contact.number_check is not None and contact.number_check.phone_hash == check.phone_hash:
        return contact  # already on the worklist for this number
    return contact.model_copy(update={"number_check": check, "version": contact.version + 1})


def unflagged(contact: Contact, phone_hash: str) -> Contact:
    """The record off the worklist when it is there for ``phone_hash`` (else as it is)."""
    if contact.number_check is None or contact.number_check.phone_hash != phone_hash:
        return contact
    return contact.model_copy(update={"number_check": None, "version": contact.version + 1})
