"""How a record of the address book lies in ``CONTACTS_TABLE`` (pure: no AWS here).

Items of one record (``pk = "c#<kind>#<keyed hash of the ID>"``):

- ``sk = "rec"``: the record: encrypted ID and phone history, masked values for display, the
  number in use (``cur_h`` hash, ``cur_t`` encrypted, ``cur_m`` masked). ``gsi1`` puts it in
  its district's audience index (``aud#<district>#<kind>#all#<shard>``, sorted by phone hash);
  ``gsi2`` finds it by the number in use (``ph#<phone hash>``); ``gsi3`` lists its district's
  records of its kind in pinyin order of the name (``byname#<district>#<kind>``,
  ``name_sort_key``), whatever its numbers, for staff to browse page after page in one order.
- ``sk = "m#ins=<type>"`` / ``"m#tag=<tag>"``: the same recipient fields in the index of each
  insurance type and tag it belongs to.
- ``sk = "m#check"``, while its number in use is held for verification: what its district's
  worklist shows, in ``gsi1`` under ``chk#<district>`` sorted by the time it was held.

Records are read and written with the low-level client in DynamoDB's wire form (``wire`` and
``plain``): boto3's general serializer costs several times more, and imports write thousands.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sms_platform.contacts import records
from sms_platform.contacts.models import CheckFailure, Contact, NumberCheck, PhoneEntry

RECORD_SK = "rec"
CHECK_SK = "m#check"


def record_pk(kind: str, id_hash: str) -> str:
    return f"c#{kind}#{id_hash}"


def ref_of(kind: str, id_hash: str) -> str:
    return f"{kind}-{id_hash}"


def pk_of_ref(ref: str) -> str | None:
    kind, _, id_hash = ref.partition("-")
    if kind not in ("person", "unit") or len(id_hash) != 64 or not all(c in "0123456789abcdef" for c in id_hash):
        return None
    return record_pk(kind, id_hash)


# ------------------------------------------------------------------ item <-> record


def _phone_map(entry: PhoneEntry) -> dict[str, Any]:
    item = {
        "h": entry.hash,
        "t": entry.token,
        "m": entry.masked,
        "src": entry.source.value,
        "at": entry.collected_at.isoformat(),
        "v": entry.verified,
    }
    if entry.contact_name:
        item["who"] = entry.contact_name
    return item


def _phone_entry(item: dict[str, Any]) -> PhoneEntry:
    return PhoneEntry(
        hash=item["h"],
        token=item["t"],
        masked=item["m"],
        source=item["src"],
        collected_at=datetime.fromisoformat(item["at"]),
        verified=bool(item["v"]),
        contact_name=item.get("who"),
    )


def _check_map(check: NumberCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    failures = [
        {"at": f.failed_at.isoformat(), "src": f.source_id, "kind": f.kind, "code": f.error_code}
        for f in check.failures
    ]
    return {"h": check.phone_hash, "m": check.phone_masked, "since": check.since.isoformat(), "f": failures}


def check_of(item: dict[str, Any] | None) -> NumberCheck | None:
    """A record's (or its worklist entry's) ``chk`` map as the model."""
    if not item:
        return None
    failures = [
        CheckFailure(
            failed_at=datetime.fromisoformat(f["at"]), source_id=f["src"], kind=f["kind"], error_code=f["code"]
        )
        for f in item.get("f") or []
    ]
    return NumberCheck(
        phone_hash=item["h"], phone_masked=item["m"], since=datetime.fromisoformat(item["since"]), failures=failures
    )


def name_partition(district: str, kind: str) -> str:
    """The ``gsi3`` partition of a district's records of one kind, in name order."""
    return f"byname#{district}#{kind}"


# Below every character a key part may hold (names with control characters are refused on the
# way in), so a part sorts before any longer part it begins ("wang" before "wang wei"): DynamoDB
# compares key strings by their UTF-8 bytes, which is the order of their Unicode code points.
NAME_SEPARATOR = "\x1f"

# A sort key is at most 1024 bytes of UTF-8. A name is at most 100 characters (400 bytes) and a
# ref 71: the pinyin gets what is left, with room to spare. Only names alike in their first 70
# or so syllables meet the cut, and then the name itself decides.
_PINYIN_BYTES = 512


def name_pinyin(name: str) -> str:
    """How a name is read for ordering: its pinyin without tones, a space between syllables;
    Latin letters and digits kept as written, in lower case (full-width ones made plain), so
    "Li Ming", "李明" and "李 明" read alike. Characters without a reading stay as they are."""
    # pypinyin costs about 130 ms to import (its dictionaries): imported on the first write of a
    # record, never at a handler's cold start, which most invocations would pay for nothing.
    from pypinyin import lazy_pinyin

    reading = unicodedata.normalize("NFKC", " ".join(lazy_pinyin(name))).lower()
    return " ".join(reading.split()).encode()[:_PINYIN_BYTES].decode(errors="ignore")


def name_sort_key(name: str, ref: str) -> str:
    """A record's place in its district's name order: pinyin order of the name (syllable by
    syllable, a shorter reading first), then the name itself for equal readings (同音不同字),
    then the ref for equal names, so the order is total and stable."""
    return NAME_SEPARATOR.join((name_pinyin(name), name, ref))


def name_keys(contact: Contact) -> dict[str, str]:
    """The ``gsi3`` keys of a record (written with every write of it)."""
    return {
        "gsi3pk": name_partition(contact.district, contact.kind.value),
        "gsi3sk": name_sort_key(contact.name, contact.ref),
    }


def check_partition(district: str) -> str:
    """The ``gsi1`` partition of a district's worklist of numbers to verify."""
    return f"chk#{district}"


def _check_member(contact: Contact, pk: str) -> dict[str, Any]:
    check = contact.number_check
    assert check is not None
    return {
        "pk": pk,
        "sk": CHECK_SK,
        "gsi1pk": check_partition(contact.district),
        "gsi1sk": f"{check.since.isoformat()}#{contact.kind.value}#{contact.id_hash}",
        "ref": contact.ref,
        "kind": contact.kind.value,
        "name": contact.name,
        "district": contact.district,
        "id_m": contact.id_masked,
        "chk": _check_map(check),
    }


def _recipient_fields(contact: Contact) -> dict[str, Any]:
    phone = contact.current_phone
    fields: dict[str, Any] = {
        "ref": contact.ref,
        "kind": contact.kind.value,
        "name": contact.name,
        "district": contact.district,
        "ins": [t.value for t in contact.insurance_types],
        "tags": list(contact.tags),
    }
    if phone is not None:
        fields.update(cur_h=phone.hash, cur_t=phone.token, cur_m=phone.masked)
    return fields


def to_items(contact: Contact) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The record item and its index items by sort key."""
    pk = record_pk(contact.kind.value, contact.id_hash)
    base = _recipient_fields(contact)
    main: dict[str, Any] = {
        "pk": pk,
        "sk": RECORD_SK,
        **base,
        **name_keys(contact),
        "id_hash": contact.id_hash,
        "id_t": contact.id_token,
        "id_m": contact.id_masked,
        "employer": contact.employer,
        "phones": [_phone_map(entry) for entry in contact.phones],
        "version": contact.version,
        "updated_at": contact.updated_at.isoformat() if contact.updated_at else None,
        "chk": _check_map(contact.number_check),
    }
    main = {key: value for key, value in main.items() if value is not None}
    members: dict[str, dict[str, Any]] = {}
    phone = contact.current_phone
    if phone is None:
        return main, members
    if contact.number_check is not None:
        members[CHECK_SK] = _check_member(contact, pk)
    shard = records.audience_shard(phone.hash)
    sort_key = records.audience_sort_key(phone.hash, contact.id_hash)
    kind = contact.kind.value
    for dim in records.index_dimensions(contact):
        keys = {
            "gsi1pk": records.audience_partition(contact.district, kind, dim, shard),
            "gsi1sk": sort_key,
        }
        if dim == records.ALL:
            main.update(keys, gsi2pk=f"ph#{phone.hash}", gsi2sk=pk)
        else:
            members[f"m#{dim}"] = {"pk": pk, "sk": f"m#{dim}", **base, **keys}
    return main, members


def member_keys(contact: Contact | None) -> set[str]:
    """Sort keys of a record's index items (as ``to_items`` makes them)."""
    if contact is None or contact.current_phone is None:
        return set()
    found = {f"m#{dim}" for dim in records.index_dimensions(contact) if dim != records.ALL}
    if contact.number_check is not None:
        found.add(CHECK_SK)
    return found


def from_item(item: dict[str, Any]) -> Contact:
    return Contact(
        kind=item["kind"],
        id_hash=item["id_hash"],
        id_token=item["id_t"],
        id_masked=item["id_m"],
        name=item["name"],
        district=item["district"],
        insurance_types=list(item.get("ins") or []),
        employer=item.get("employer"),
        tags=list(item.get("tags") or []),
        phones=[_phone_entry(p) for p in item.get("phones") or []],
        version=int(item.get("version", 0)),
        updated_at=datetime.fromisoformat(item["updated_at"]) if item.get("updated_at") else None,
        number_check=check_of(item.get("chk")),
    )


# ------------------------------------------------------------------ wire form


def _value(value: Any) -> dict[str, Any]:
    """One attribute in DynamoDB's wire form; records hold only these few types."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_value(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: _value(item) for key, item in value.items()}}
    raise TypeError(f"unsupported attribute type {type(value).__name__}")


def wire(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's wire form."""
    return {key: _value(value) for key, value in item.items()}


_deserializer: Any = None


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item read in DynamoDB's wire form, with plain values."""
    global _deserializer
    if _deserializer is None:
        # boto3 loads on the first read, not with a handler's cold import.
        from boto3.dynamodb.types import TypeDeserializer

        _deserializer = TypeDeserializer()
    return {key: _deserializer.deserialize(value) for key, value in item.items()}
