"""Numbers staff put on the block list (黑名单) by hand, with a reason, and take off it again.

Apart from opt-outs (publicity only, at the citizen's word) and the marks of dead numbers, a block
stops every SMS to the number whatever sends it: the dispatcher suppresses its messages
(``sending.number_health``). A number is named in the request body, or by the address-book record
whose number in use it is, so staff can block from the worklist without seeing the number.

Who: the city office's operators may block or unblock any number; a district office's operators
a number in use by a record of their own district, and unblock only what their office blocked.
Every block and unblock is audited with the masked number and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.contacts import repository, validation
from sms_platform.contacts.access import visible
from sms_platform.contacts.number_check_models import BlockIn, BlockPage, NumberBlock
from sms_platform.foundation import crypto
from sms_platform.foundation.errors import Forbidden, NotFound, ValidationFailed
from sms_platform.sending import number_health
from sms_platform.sending.number_health_rules import check_reason
from sms_platform.staff.context import OFFICE_NAMES, Office, StaffContext

BLOCK_OTHER_DISTRICT = "只能将本区县通讯录中的号码列入黑名单"
UNBLOCK_OTHER_OFFICE = "只能解除本单位列入黑名单的号码"


def block_refusal(ctx: StaffContext, districts_of_number: Iterable[str]) -> str | None:
    """Why ``ctx`` may not block a number whose records lie in these districts (None: they may)."""
    if not ctx.is_district:
        return None
    return None if ctx.office.value in set(districts_of_number) else BLOCK_OTHER_DISTRICT


def unblock_refusal(ctx: StaffContext, blocked_office: str | None) -> str | None:
    """Why ``ctx`` may not lift a block placed by ``blocked_office`` (None: they may)."""
    if not ctx.is_district:
        return None
    return None if blocked_office == ctx.office.value else UNBLOCK_OTHER_OFFICE


def _number(ctx: StaffContext, body: BlockIn) -> tuple[str, str, list[str]]:
    """The number's keyed hash, its masked form, and the districts of the records using it."""
    if body.ref:
        contact = visible(ctx, repository.get_by_ref(body.ref))
        phone = contact.current_phone
        if phone is None:
            raise NotFound("这条记录没有可用的号码")
        return phone.hash, phone.masked, [contact.district]
    try:
        number = validation.mobile(body.phone or "")
    except ValueError as error:
        raise ValidationFailed(str(error), field="phone") from None
    phone_hash = crypto.keyed_hash(number)
    districts = [contact.district for contact in repository.find_by_phone_hash(phone_hash)]
    return phone_hash, validation.mask_mobile(number), districts


def _reason(body: BlockIn) -> str:
    reason = check_reason(body.reason)
    if reason is None:
        raise ValidationFailed("请填写原因（2-200 个字）", field="reason")
    return reason


def _view(item: dict[str, Any], masked: str, applied: bool) -> NumberBlock:
    office = item.get("blocked_office")
    return NumberBlock(
        phone_masked=item.get("phone_masked") or masked,
        blocked=bool(item.get("blocked")),
        reason=item.get("block_reason"),
        blocked_at=item.get("blocked_at"),
        blocked_by=item.get("blocked_by_name"),
        office=office,
        office_name=OFFICE_NAMES.get(Office(office)) if office in Office.__members__ else None,
        applied=applied,
    )


def block(ctx: StaffContext, body: BlockIn, *, now: datetime) -> NumberBlock:
    """Put a number on the block list: nothing is sent to it any more."""
    reason = _reason(body)
    phone_hash, masked, districts = _number(ctx, body)
    refusal = block_refusal(ctx, districts)
    if refusal:
        raise Forbidden(refusal)
    applied = number_health.block(
        phone_hash, masked, reason, by=ctx.account_id, by_name=ctx.real_name, office=ctx.office.value, at=now
    )
    if applied:
        trail.record(ctx, "number.block", f"phone:{masked}", None, {"reason": reason, "blocked": True}, at=now)
    return _view(number_health.state(phone_hash) or {}, masked, applied)


def unblock(ctx: StaffContext, body: BlockIn, *, now: datetime) -> NumberBlock:
    """Take a number off the block list: it is sent to again."""
    reason = _reason(body)
    phone_hash, masked, _ = _number(ctx, body)
    current = number_health.state(phone_hash) or {}
    if not current.get("blocked"):
        return _view(current, masked, False)
    refusal = unblock_refusal(ctx, current.get("blocked_office"))
    if refusal:
        raise Forbidden(refusal)
    before = number_health.unblock(
        phone_hash, reason, by=ctx.account_id, by_name=ctx.real_name, office=ctx.office.value, at=now
    )
    if before is not None:
        trail.record(
            ctx,
            "number.unblock",
            f"phone:{masked}",
            {"blocked": True, "reason": before.get("block_reason"), "office": before.get("blocked_office")},
            {"blocked": False, "reason": reason},
            at=now,
        )
    return _view(number_health.state(phone_hash) or {}, masked, before is not None)


def blocks(ctx: StaffContext, *, cursor: str | None, limit: int) -> BlockPage:
    """The numbers on the block list: a district office sees those it blocked, the city office all."""
    office = ctx.office.value if ctx.is_district else None
    items, next_cursor = number_health.blocks_page(office, cursor=cursor, limit=limit)
    return BlockPage(blocks=[_view(item, "", True) for item in items], cursor=next_cursor)
