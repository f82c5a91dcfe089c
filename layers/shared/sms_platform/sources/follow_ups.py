"""Follow-up sends (对未送达人员再次发送): from a released send request, an operator of the office
that made it proposes a new request that reaches only the recipients the first did not reach.

Who they are is read from the first send's messages (its recipient group, ``recipient_groups``):
those that ended ``failed`` (the carrier reported a failure) or ``undeliverable`` (no usable
number, or a number held for verification), by the address-book record each message was for. The
follow-up keeps those records' references (``follow_up_store``) and its fan-out looks each record
up when its turn comes, so a number entered or verified since is the one sent to; a record still
without a usable number is skipped or held again, as in any send. Messages of a send that had no
record (a personalised list's own phone) cannot be followed: the preview counts them.

The follow-up is an ordinary send request from there on: another template or the same, its own
values, a send time, reviewed by the city office like any other (``send_requests.propose``), and
the reviewer sees which send it follows and how many it reaches.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from sms_platform.foundation.errors import Conflict, Forbidden, ValidationFailed
from sms_platform.sending import message_store, recipient_groups
from sms_platform.sources import follow_up_store, send_requests
from sms_platform.sources.follow_up_models import FOLLOWED_STATES, FollowUpIn, FollowUpOf, FollowUpPreview
from sms_platform.sources.send_request_models import RELEASED, STATUS_NAMES, AudienceIn, SendRequest, SendRequestIn
from sms_platform.staff.context import StaffContext

NOT_OWN_OFFICE = "只能对本单位的发送申请再次发送"
NOT_RELEASED = "该申请尚未开始发送，还没有未送达的人员"
NOTHING_MISSED = "该次发送没有可再次发送的未送达人员"


def _original(ctx: StaffContext, request_id: str) -> SendRequest:
    """The send a follow-up may follow: released, and of the operator's own office."""
    request = send_requests.get_visible(ctx, request_id)
    if request.office != ctx.office:
        raise Forbidden(NOT_OWN_OFFICE)
    if request.status not in RELEASED:
        raise Conflict(NOT_RELEASED)
    return request


def missed(request: SendRequest) -> tuple[list[str], FollowUpOf]:
    """The records the send did not reach (their references, each once, in the order its messages
    are listed) and what the follow-up tells of them."""
    group = recipient_groups.send_group(request.request_id)
    refs: dict[str, str] = {}
    not_in_book = 0
    for item in message_store.group_items(group, prefix=None, states=FOLLOWED_STATES):
        ref = str(item.get("rcp_ref") or "")
        if not ref:
            not_in_book += 1
        else:
            refs.setdefault(ref, str(item.get("state")))
    states = Counter(refs.values())
    summary = FollowUpOf(
        request_id=request.request_id,
        template_name=request.template_name,
        kind=request.audience.kind,
        recipients=len(refs),
        failed=states["failed"],
        undeliverable=states["undeliverable"],
        not_in_book=not_in_book,
    )
    return list(refs), summary


def preview(ctx: StaffContext, request_id: str) -> FollowUpPreview:
    """How many a follow-up of this send would reach, before the operator writes it."""
    original = _original(ctx, request_id)
    _, summary = missed(original)
    return FollowUpPreview(
        **summary.model_dump(),
        office=original.office.value,
        office_name=original.office_name,
        status=original.status,
        status_name=STATUS_NAMES[original.status],
    )


def propose(ctx: StaffContext, body: FollowUpIn, *, now: datetime) -> SendRequest:
    """A new send request to the recipients the send ``body.of`` did not reach, waiting for
    review like any other; audited as a submitted request that names the send it follows."""
    original = _original(ctx, body.of)
    refs, summary = missed(original)
    if not refs:
        raise ValidationFailed(NOTHING_MISSED, field="of")
    request_id = uuid.uuid4().hex
    # The recipients first: a request never exists without them (a failed proposal leaves only
    # references nobody reads).
    follow_up_store.save_refs(request_id, refs)
    proposal = SendRequestIn(
        template_id=body.template_id,
        values=body.values,
        # Whom the first send was for, as the reviewer reads it; the recipients are the stored ones.
        audience=AudienceIn(kind=summary.kind, districts=list(original.audience.districts)),
        send_at=body.send_at,
        note=body.note,
    )
    return send_requests.propose(ctx, proposal, now=now, follow_up=summary, request_id=request_id)
