"""What staff see of the address book, and the one way to see a full number.

Views hold masked values only. ``reveal`` decrypts the number in use for a staff member who
holds the ``phone_reveal`` role and can see the record's district, asks for a reason and writes
the reveal to the audit trail (with the masked number, never the number itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.contacts import records
from sms_platform.contacts.models import DISTRICTS, INSURANCE_NAMES, KIND_NAMES, SOURCE_NAMES, Contact
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import Forbidden, NotFound, ValidationFailed
from sms_platform.foundation.observability import logger

MIN_REASON = 4
MAX_REASON = 200


def districts_of(staff: Any) -> frozenset[str] | None:
    """Where a staff member may look and write: their own district for a district office,
    everywhere (None) for the city office and the centres."""
    if getattr(staff, "is_district", False):
        return frozenset({str(staff.office.value if hasattr(staff.office, "value") else staff.office)})
    return None


def check_district(staff: Any, district: str) -> None:
    allowed = districts_of(staff)
    if allowed is not None and district not in allowed:
        raise Forbidden("只能查看和维护本区县的通讯录")


def visible(staff: Any, contact: Contact | None) -> Contact:
    """The record if the staff member may see it; a record of another district is answered as
    not found, so its existence is not disclosed either."""
    allowed = districts_of(staff)
    if contact is None or (allowed is not None and contact.district not in allowed):
        raise NotFound("没有这条通讯录记录")
    return contact


def summary(contact: Contact) -> dict[str, Any]:
    phone = contact.current_phone
    return {
        "ref": contact.ref,
        "kind": contact.kind.value,
        "kind_name": KIND_NAMES[contact.kind.value],
        "id_masked": contact.id_masked,
        "name": contact.name,
        "district": contact.district,
        "district_name": DISTRICTS[contact.district],
        "phone_masked": phone.masked if phone else None,
        "phone_verified": bool(phone and phone.verified),
    }


def detail(contact: Contact, opted_out: bool | None = None) -> dict[str, Any]:
    # A person has one number in use; a unit one per contact person.
    if contact.kind.value == "unit":
        chosen = list(records.current_by_contact_person(contact.phones).values())
    else:
        chosen = [contact.current_phone] if contact.current_phone else []
    in_use = {(entry.hash, entry.contact_name) for entry in chosen}
    return {
        **summary(contact),
        "insurance_types": [t.value for t in contact.insurance_types],
        "insurance_names": [INSURANCE_NAMES[t.value] for t in contact.insurance_types],
        "employer": contact.employer,
        "tags": list(contact.tags),
        "opted_out": opted_out,
        "updated_at": contact.updated_at.isoformat() if contact.updated_at else None,
        "phones": [
            {
                "phone_masked": entry.masked,
                "source": entry.source.value,
                "source_name": SOURCE_NAMES[entry.source.value],
                "collected_at": entry.collected_at.isoformat(),
                "verified": entry.verified,
                "contact_name": entry.contact_name,
                "in_use": (entry.hash, entry.contact_name) in in_use,
            }
            for entry in reversed(contact.phones)
        ],
    }


def check_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise ValidationFailed(f"请填写查看完整号码的事由（{MIN_REASON}-{MAX_REASON} 个字）", field="reason")
    return text


def reveal(staff: Any, contact: Contact, reason: str, at: datetime) -> dict[str, Any]:
    """The full number in use, for a staff member with the right; audited with its reason."""
    text = check_reason(reason)
    phone = contact.current_phone
    if phone is None:
        raise NotFound("这条记录没有可用的号码")
    number = crypto.decrypt(phone.token)
    trail.record(
        staff,
        "contact.reveal",
        f"contact:{contact.ref}",
        None,
        {"phone": phone.masked, "reason": text, "district": contact.district},
        None,
    )
    logger().info("number revealed", extra={"ref": contact.ref, "phone": phone.masked, "actor": staff.account_id})
    return {"ref": contact.ref, "phone": number, "phone_masked": phone.masked, "revealed_at": at.isoformat()}
