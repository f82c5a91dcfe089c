"""Finding a unit or person in the address book by its ID number or credit code, and whom to text
about it."""

from __future__ import annotations

from collections.abc import Iterable

from sms_platform.contacts import records, repository, validation
from sms_platform.contacts.models import Contact, Kind, Recipient
from sms_platform.contacts.record_items import pk_of_ref, record_pk


def normalized_identifier(kind: str, identifier: str) -> str | None:
    """The ID number or credit code in its one stored form, or None when it is not valid."""
    try:
        return validation.id_number(identifier) if kind == "person" else validation.credit_code(identifier)
    except ValueError:
        return None


def find(kind: str, identifier: str) -> Contact | None:
    """A record by its ID number or credit code (None for an invalid one)."""
    normal = normalized_identifier(kind, identifier)
    return repository.get(record_pk(kind, repository.id_hash_of(normal))) if normal else None


def recipients_of(kind: str, identifier: str) -> list[Recipient]:
    """Whom to text about one unit or person: a person's number in use; each contact person's
    number in use for a unit (one message per number)."""
    contact = find(kind, identifier)
    if contact is None:
        return []
    if contact.kind is Kind.person:
        phones = [contact.current_phone] if contact.current_phone else []
    else:
        phones = list(records.current_by_contact_person(contact.phones).values())
    seen: set[str] = set()
    chosen = []
    for phone in phones:
        if phone is not None and phone.hash not in seen:
            seen.add(phone.hash)
            chosen.append(
                Recipient(
                    contact.ref,
                    contact.kind.value,
                    contact.name,
                    contact.district,
                    phone.hash,
                    phone.token,
                    phone.masked,
                )
            )
    return chosen


def recipients_by_refs(refs: Iterable[str]) -> tuple[list[Recipient], int]:
    """Whom to text of these records (by their references), each at its number in use as it is
    now (one recipient per number), and how many could not be reached (gone, or no number)."""
    pks = [pk_of_ref(ref) for ref in dict.fromkeys(refs)]
    found = repository.get_many(pk for pk in pks if pk)
    chosen: list[Recipient] = []
    seen: set[str] = set()
    skipped = 0
    for pk in pks:
        contact = found.get(pk) if pk else None
        phone = contact.current_phone if contact else None
        if contact is None or phone is None:
            skipped += 1
        elif phone.hash not in seen:
            seen.add(phone.hash)
            chosen.append(Recipient.of(contact, phone))
    return chosen, skipped
