"""Suspending an office (R18) and letting it work again.

A suspension bites everywhere at once: its staff are refused from their next request (the
suspension record, ``staff.account_store``), its queued messages are held (the dispatcher ends them
``suppressed`` as ``suspended_office``) and its pending send requests are cancelled or stopped
(``send_requests.halt_office``). Reinstatement lifts the record and the hold; nothing suppressed
or cancelled meanwhile is resumed. Both are audited, and answer with the office as staff see it.
"""

from __future__ import annotations

from datetime import datetime

from sms_platform.audit import trail
from sms_platform.foundation.errors import Forbidden
from sms_platform.sending import message_store
from sms_platform.staff import account_store
from sms_platform.staff.account_views import OfficeOut
from sms_platform.staff.context import Office, StaffContext


def suspend_office(ctx: StaffContext, office: Office, reason: str, *, now: datetime) -> OfficeOut:
    # deferred: send_requests (~120 ms of pydantic models) is for suspending; reinstating does without it
    from sms_platform.sources import send_requests

    office = Office(office)
    if ctx.office == office:
        raise Forbidden("不能暂停本人所在单位")
    # The hold first: should a step below fail, a retry finds the office not yet suspended and
    # takes every step again (each is repeatable), while no queued message has gone out meanwhile.
    message_store.place_hold("office", office.value, reason, now)
    send_requests.halt_office(ctx, office, now=now)
    account_store.put_office_suspension(office, reason, by=ctx.username, at=now)
    after = {"suspended": True, "reason": reason}
    trail.record(ctx, "office.suspend", f"office:{office.value}", {"suspended": False}, after, office.value, at=now)
    return OfficeOut.of(office, suspended=True, reason=reason, suspended_at=now)


def reinstate_office(ctx: StaffContext, office: Office, *, now: datetime) -> OfficeOut:
    office = Office(office)
    try:
        old = account_store.delete_office_suspension(office)
    finally:
        # Lifted whether or not a record was there: a retry after a fault between the two steps
        # finds the office no longer suspended, and no hold may remain.
        message_store.lift_hold("office", office.value)
    before = {"suspended": True, "reason": old.get("reason", "")}
    trail.record(ctx, "office.reinstate", f"office:{office.value}", before, {"suspended": False}, office.value,
                 at=now)  # fmt: skip
    return OfficeOut.of(office, suspended=False)
