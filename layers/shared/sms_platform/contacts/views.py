"""What staff see of the address book, and the one way to see a full number.

Views hold masked values only, within the districts the staff member works on
(``access``). ``reveal`` decrypts the number in use for a staff member who holds the
``phone_reveal`` role and can see the record's district, asks for a reason and writes the reveal
to the audit trail (with the masked number, never the number itself).
"""

from __future__ import annotations

from datetime import datetime

from sms_platform.audit import trail
from sms_platform.contacts import audiences, lookups, records, repository, validation
from sms_platform.contacts.access import check_district, districts_of, visible
from sms_platform.contacts.models import DISTRICTS, INSURANCE_NAMES, KIND_NAMES, SOURCE_NAMES, Contact, district_code
from sms_platform.contacts.views_models import (
    ContactDetail,
    ContactPage,
    ContactSearch,
    ContactSummary,
    PhoneView,
    RevealedPhone,
)
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import NotFound, ValidationFailed
from sms_platform.foundation.observability import logger
from sms_platform.sending import optouts
from sms_platform.staff.context import StaffContext

MIN_REASON = 4
MAX_REASON = 200


def summary(contact: Contact) -> ContactSummary:
    phone = contact.current_phone
    return ContactSummary(
        ref=contact.ref,
        kind=contact.kind.value,
        kind_name=KIND_NAMES[contact.kind.value],
        id_masked=contact.id_masked,
        name=contact.name,
        district=contact.district,
        district_name=DISTRICTS[contact.district],
        phone_masked=phone.masked if phone else None,
        phone_verified=bool(phone and phone.verified),
    )


def detail(contact: Contact, opted_out: bool | None = None) -> ContactDetail:
    # A person has one number in use; a unit one per contact person.
    if contact.kind.value == "unit":
        chosen = list(records.current_by_contact_person(contact.phones).values())
    else:
        chosen = [contact.current_phone] if contact.current_phone else []
    in_use = {(entry.hash, entry.contact_name) for entry in chosen}
    return ContactDetail(
        **summary(contact).model_dump(),
        insurance_types=[t.value for t in contact.insurance_types],
        insurance_names=[INSURANCE_NAMES[t.value] for t in contact.insurance_types],
        employer=contact.employer,
        tags=list(contact.tags),
        opted_out=opted_out,
        updated_at=contact.updated_at.isoformat() if contact.updated_at else None,
        phones=[
            PhoneView(
                phone_masked=entry.masked,
                source=entry.source.value,
                source_name=SOURCE_NAMES[entry.source.value],
                collected_at=entry.collected_at.isoformat(),
                verified=entry.verified,
                contact_name=entry.contact_name,
                in_use=(entry.hash, entry.contact_name) in in_use,
            )
            for entry in reversed(contact.phones)
        ],
    )


# ------------------------------------------------------------------ looking up


def page(ctx: StaffContext, kind: str, district: str, *, cursor: str | None, limit: int) -> ContactPage:
    """A page of one district's records (its code or its Chinese name) in name order, with how
    many the district holds: its audience counter, which counts every record (each holds a
    number in use, a collection needs one), read without walking the list."""
    try:
        code = district_code(district)
    except ValueError:
        raise ValidationFailed("区县代码无效", field="district") from None
    check_district(ctx, code)
    found, next_cursor = repository.list_page(kind, code, cursor=cursor, limit=limit)
    total = audiences.count(audiences.Segment(kind=kind, districts=(code,)))
    return ContactPage(contacts=[summary(c) for c in found], total=total, cursor=next_cursor)


def search(ctx: StaffContext, *, phone: str | None, kind: str | None, identifier: str | None) -> ContactSearch:
    """Records by their number in use, or by their ID number or credit code; records of other
    districts are left out."""
    if phone:
        try:
            normal = validation.mobile(phone)
        except ValueError as error:
            raise ValidationFailed(str(error), field="phone") from None
        found = repository.find_by_phone(normal)
    elif identifier and kind:
        contact = lookups.find(kind, identifier)
        found = [contact] if contact else []
    else:
        raise ValidationFailed("请提供手机号码，或对象类型和证件号码", field="body")
    allowed = districts_of(ctx)
    return ContactSearch(contacts=[summary(c) for c in found if allowed is None or c.district in allowed])


def contact(ctx: StaffContext, ref: str) -> ContactDetail:
    """One record with its number history and whether its number in use opted out."""
    found = visible(ctx, repository.get_by_ref(ref))
    phone = found.current_phone
    return detail(found, optouts.is_opted_out(phone.hash) if phone else None)


# ------------------------------------------------------------------ the reveal


def check_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise ValidationFailed(f"请填写查看完整号码的事由（{MIN_REASON}-{MAX_REASON} 个字）", field="reason")
    return text


def reveal(ctx: StaffContext, ref: str, reason: str, *, now: datetime) -> RevealedPhone:
    """The full number in use, for a staff member with the right; audited with its reason."""
    found = visible(ctx, repository.get_by_ref(ref))
    text = check_reason(reason)
    phone = found.current_phone
    if phone is None:
        raise NotFound("这条记录没有可用的号码")
    number = crypto.decrypt(phone.token)
    trail.record(
        ctx,
        "contact.reveal",
        f"contact:{found.ref}",
        None,
        {"phone": phone.masked, "reason": text, "district": found.district},
        None,
        at=now,
    )
    logger().info("number revealed", extra={"ref": found.ref, "phone": phone.masked, "actor": ctx.account_id})
    return RevealedPhone(ref=found.ref, phone=number, phone_masked=phone.masked, revealed_at=now.isoformat())
