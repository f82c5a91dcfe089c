"""Where a staff member may look and write in the address book: a district office its own
district, the city office and the centres everywhere. A record of another district is answered
as not found, so that its existence is not disclosed either."""

from __future__ import annotations

from sms_platform.contacts.models import Contact
from sms_platform.foundation.errors import Forbidden, NotFound
from sms_platform.staff.context import StaffContext


def districts_of(ctx: StaffContext) -> frozenset[str] | None:
    """The districts a staff member works on: their own for a district office, everywhere
    (None) for the city office and the centres."""
    if ctx.is_district:
        return frozenset({ctx.office.value})
    return None


def check_district(ctx: StaffContext, district: str) -> None:
    allowed = districts_of(ctx)
    if allowed is not None and district not in allowed:
        raise Forbidden("只能查看和维护本区县的通讯录")


def visible(ctx: StaffContext, contact: Contact | None) -> Contact:
    """The record if the staff member may see it (NotFound otherwise, as if it did not exist)."""
    allowed = districts_of(ctx)
    if contact is None or (allowed is not None and contact.district not in allowed):
        raise NotFound("没有这条通讯录记录")
    return contact
