"""A citizen's own request, taken by staff, to stop or resume publicity SMS to their number.

The choice itself is kept by ``sending.optouts`` (the sender honours it); here the number is
checked, the staff office is named as its source, and the request is audited with the masked
number and the reason, never the number itself.
"""

from __future__ import annotations

from datetime import datetime

from sms_platform.audit import trail
from sms_platform.contacts import validation
from sms_platform.contacts.views_models import OptOutChange
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sending import optouts
from sms_platform.staff.context import StaffContext


def opt_out(ctx: StaffContext, phone: str, reason: str, *, now: datetime) -> OptOutChange:
    """The number receives no more publicity SMS, at its owner's request."""
    return _change(ctx, phone, reason, opted_out=True, now=now)


def opt_in(ctx: StaffContext, phone: str, reason: str, *, now: datetime) -> OptOutChange:
    """The number receives publicity SMS again, at its owner's request."""
    return _change(ctx, phone, reason, opted_out=False, now=now)


def _change(ctx: StaffContext, phone: str, reason: str, *, opted_out: bool, now: datetime) -> OptOutChange:
    try:
        number = validation.mobile(phone)
    except ValueError as error:
        raise ValidationFailed(str(error), field="phone") from None
    text = reason.strip()
    change = optouts.opt_out if opted_out else optouts.opt_in
    applied = change(number, f"staff:{ctx.office.value}", text, now)
    masked = validation.mask_mobile(number)
    action = "contacts.opt_out" if opted_out else "contacts.opt_in"
    after = {"opted_out": opted_out, "reason": text, "applied": applied}
    trail.record(ctx, action, f"phone:{masked}", None, after, at=now)
    return OptOutChange(phone_masked=masked, opted_out=opted_out, changed_at=now.isoformat(), applied=applied)
