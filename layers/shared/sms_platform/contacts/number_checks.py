"""The district offices' worklists of numbers to verify (R10 ↔ R16).

A number that failed permanently too often is marked by ``sending.number_health`` while its
receipts are recorded; ``flag_numbers`` then puts every record using it as its number in use on
its district's worklist (``number_check_rules``; the record's ``m#check`` item). Each office sees
its own district's list (the city office any district's) with the masked number, name, masked
ID, the failures with their reasons in Chinese and since when, and counts per district for the
dashboard.

From the list, staff either confirm that the number is valid after all (they reached the person)
or enter the new number the person gave. Both go through the same collection as every other
channel (``upserts``), so they clear the record's place on the list the same way an import or a
service channel's verified number does; both are audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.carrier.failure_reasons import label
from sms_platform.contacts import channels, number_check_rules, repository, upserts, validation
from sms_platform.contacts.access import check_district, districts_of, visible
from sms_platform.contacts.models import DISTRICTS, ContactIn, PhoneIn, district_code
from sms_platform.contacts.models import KIND_NAMES as CONTACT_KINDS
from sms_platform.contacts.number_check_models import (
    KIND_NAMES,
    DistrictCount,
    FailureView,
    NumberCheckCounts,
    NumberCheckDone,
    NumberCheckEntry,
    NumberCheckPage,
)
from sms_platform.contacts.record_items import check_of, record_pk
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import Conflict, ValidationFailed
from sms_platform.foundation.observability import logger
from sms_platform.sending import number_health
from sms_platform.staff.context import StaffContext

SEND_REQUEST_SOURCE = "send:"  # sources.send_request_models.source_id_of


# ------------------------------------------------------------------ joining the worklist


def flag_numbers(phone_hashes: Iterable[str], *, now: datetime) -> int:
    """Put the records whose number in use is one of these marked numbers on their districts'
    worklists; how many joined. Safe to repeat (a record already there is left as it is)."""
    joined = 0
    for phone_hash in dict.fromkeys(phone_hashes):
        mark = number_health.state(phone_hash)
        if not mark or not mark.get("unverified"):
            continue  # verified again meanwhile
        check = number_check_rules.check_of_mark(phone_hash, mark)
        for contact in repository.find_by_phone_hash(phone_hash):
            pk = record_pk(contact.kind.value, contact.id_hash)
            status, _ = repository.save(
                pk, contact, lambda current, check=check: number_check_rules.flagged(current, check)
            )
            joined += status != "unchanged"
    if joined:
        logger().info("records joined the worklist of numbers to verify", extra={"records": joined})
    return joined


# ------------------------------------------------------------------ the worklist


def _failure(item: Any) -> FailureView:
    request = item.source_id[len(SEND_REQUEST_SOURCE) :] if item.source_id.startswith(SEND_REQUEST_SOURCE) else None
    return FailureView(
        failed_at=item.failed_at.isoformat(),
        reason=label(item.error_code),
        error_code=item.error_code,
        kind=item.kind,
        kind_name=KIND_NAMES.get(item.kind, item.kind),
        source_id=item.source_id,
        request_id=request,
    )


def entry_of(item: Mapping[str, Any]) -> NumberCheckEntry:
    """A worklist entry from a record's ``m#check`` item."""
    check = check_of(item["chk"])
    assert check is not None
    return NumberCheckEntry(
        ref=item["ref"],
        kind=item["kind"],
        kind_name=CONTACT_KINDS[item["kind"]],
        name=item["name"],
        id_masked=item["id_m"],
        district=item["district"],
        district_name=DISTRICTS[item["district"]],
        phone_masked=check.phone_masked,
        since=check.since.isoformat(),
        failures=[_failure(f) for f in check.failures],
    )


def _district(ctx: StaffContext, district: str | None) -> str:
    """The district asked for (a district office's own when none is named), checked."""
    if not district:
        if not ctx.is_district:
            raise ValidationFailed("请选择区县", field="district")
        return ctx.office.value
    try:
        code = district_code(district)
    except ValueError:
        raise ValidationFailed("区县代码无效", field="district") from None
    check_district(ctx, code)
    return code


def worklist(ctx: StaffContext, district: str | None, *, cursor: str | None, limit: int) -> NumberCheckPage:
    """A page of a district's records whose number needs verification, longest held first."""
    code = _district(ctx, district)
    items, next_cursor = repository.check_page(code, cursor=cursor, limit=limit)
    return NumberCheckPage(
        district=code, district_name=DISTRICTS[code], entries=[entry_of(i) for i in items], cursor=next_cursor
    )


def counts(ctx: StaffContext) -> NumberCheckCounts:
    """How many records await verification in each district the staff member works on."""
    allowed = districts_of(ctx)
    found = [
        DistrictCount(district=code, district_name=name, count=repository.check_count(code))
        for code, name in DISTRICTS.items()
        if allowed is None or code in allowed
    ]
    return NumberCheckCounts(total=sum(c.count for c in found), districts=found)


# ------------------------------------------------------------------ clearing from the worklist


def _flagged(ctx: StaffContext, ref: str) -> Any:
    contact = visible(ctx, repository.get_by_ref(ref))
    if contact.number_check is None or contact.current_phone is None:
        raise Conflict("这条记录的号码不在待核实名单中")
    return contact


def _collection(contact: Any, phone: PhoneIn) -> ContactIn:
    """The record as it stands, with one number collected: the shape every channel brings."""
    return ContactIn(
        kind=contact.kind,
        id=crypto.decrypt(contact.id_token),
        name=contact.name,
        district=contact.district,
        phones=[phone],
        insurance_types=list(contact.insurance_types),
        employer=contact.employer,
        tags=list(contact.tags),
    )


def _done(ctx: StaffContext, action: str, ref: str, saved: Any, previous: str, now: datetime) -> NumberCheckDone:
    phone = saved.current_phone
    masked = phone.masked if phone else ""
    trail.record(
        ctx,
        f"number_check.{action}",
        f"contact:{ref}",
        {"phone": previous},
        {"phone": masked, "district": saved.district},
        None,
        at=now,
    )
    return NumberCheckDone(
        ref=ref,
        action=action,  # type: ignore[arg-type]
        phone_masked=masked,
        previous_masked=previous if action == "replaced" else None,
        on_worklist=saved.number_check is not None,
    )


def confirm(ctx: StaffContext, ref: str, *, now: datetime) -> NumberCheckDone:
    """The staff reached the person on the number held for verification: it is verified now,
    which lifts its mark."""
    contact = _flagged(ctx, ref)
    phone = contact.current_phone
    collected = PhoneIn(
        number=crypto.decrypt(phone.token), source=phone.source, verified=True, collected_at=now,
        contact_name=phone.contact_name,
    )  # fmt: skip
    _, saved = upserts.upsert(_collection(contact, collected), at=now, existing=contact, districts=districts_of(ctx))
    return _done(ctx, "confirmed", contact.ref, saved, phone.masked, now)


def replace_number(ctx: StaffContext, ref: str, phone: str, source: str, *, now: datetime) -> NumberCheckDone:
    """The person gave a new number: it becomes the number in use, verified by the staff."""
    contact = _flagged(ctx, ref)
    try:
        number = validation.mobile(phone)
    except ValueError as error:
        raise ValidationFailed(str(error), field="phone") from None
    collected = PhoneIn(
        number=number, source=channels.source_channel(source), verified=True, collected_at=now,
        contact_name=contact.current_phone.contact_name,
    )  # fmt: skip
    if crypto.keyed_hash(number) == contact.current_phone.hash:
        raise ValidationFailed("新号码与待核实的号码相同；如号码有效，请选择“号码有效”", field="phone")
    _, saved = upserts.upsert(_collection(contact, collected), at=now, existing=contact, districts=districts_of(ctx))
    return _done(ctx, "replaced", contact.ref, saved, contact.current_phone.masked, now)
