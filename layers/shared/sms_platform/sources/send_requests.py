"""Send requests (R5, R7): a targeted notice or a publicity send, proposed, reviewed, released.

A request names an active template version of category ``targeted`` or ``publicity`` owned by
the author's office, the values of its variables (one set for every recipient), an audience
(an address-book segment or an uploaded list) and a send time (empty: as soon as approved).
Its statuses are in ``send_request_models``; it is stored by ``send_request_store``.

Rules:

- A city reviewer who is not the author approves; a district office's request goes to the city
  office like the city's own (R7).
- Publicity goes out only from 08:00 to 21:00 Beijing time. A send time outside that window is
  refused with the next allowed time in the message (we do not move it silently: the author
  chose the time and should see the change). A request without a send time that is approved
  at night starts at the next 08:00, and a send still running at 21:00 pauses until 08:00.
- The reviewer sees a rendered sample, the audience size (from the address book's counters),
  the parts per message, the total parts and the timing.
- Before approval the author may send the text to their own phone, verified by a code sent to
  it first (``staff_phones``), through the ``high`` lane.
- A suspended office (R18) sends nothing: ``halt_office`` cancels its submitted and approved
  requests and stops its sends still being expanded, each with the reason 发送单位已被暂停 and
  audited. Reinstatement resumes none of them: the office proposes afresh, so nothing proposed
  before the suspension goes out without a new review. Messages already queued are held by the
  office's message hold (``office_suspension.suspend_office``). As a second guard, a request of a
  suspended office cannot be approved, and the release schedule cancels it instead of releasing.

Each step takes the ``now`` of the request (or of the schedule's tick) and audits itself at it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sms_platform.audit import trail
from sms_platform.contacts import audiences, lists
from sms_platform.contacts.audiences import Segment
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from sms_platform.sending import message_store, outbox
from sms_platform.sending.lanes import SmsKind
from sms_platform.sending.messages import in_publicity_window
from sms_platform.sources import fanout, reminders, send_finishing, send_request_store, staff_phones, value_sheets
from sms_platform.sources.follow_up_models import FollowUpOf
from sms_platform.sources.send_request_models import (
    CANCELLABLE,
    FINISHED_NAME,
    KIND_NAMES,
    MAX_TEST_SENDS,
    OFFICE_SUSPENDED,
    STATUS_NAMES,
    STOPPABLE,
    AudienceIn,
    HaltedRequests,
    ListedRequest,
    RequestDetail,
    RequestList,
    SendRequest,
    SendRequestIn,
    TestSendOut,
    cancel_refusal,
    person,
    review_refusal,
    stop_refusal,
    timing_of,
    timing_problem,
)
from sms_platform.sources.value_sheet_models import SheetRef
from sms_platform.staff import account_store
from sms_platform.staff.context import Office, StaffContext, can_see_office
from sms_platform.templates import signatures, workflow
from sms_platform.templates.models import TemplateVersion
from sms_platform.text import sms, templating


def get_visible(ctx: StaffContext, request_id: str) -> SendRequest:
    request = send_request_store.load(request_id)
    if not can_see_office(ctx, request.office):
        raise NotFound("没有这个发送申请")  # a district does not learn of other districts' sends
    return request


# ---------------------------------------------------------------------------- proposing


def _segment(ctx: StaffContext, audience: AudienceIn) -> Segment:
    """The address-book segment the author may send to: a district office reaches its own district."""
    data = audience.model_dump(exclude_none=True)
    if ctx.is_district:
        districts = set(audience.districts) or {ctx.office.value}
        if districts != {ctx.office.value}:
            raise Forbidden("区县只能向本辖区的对象发送")
        data["districts"] = [ctx.office.value]
    try:
        return Segment.model_validate(data)
    except ValueError as error:
        raise ValidationFailed("发送对象不符合要求，请检查区县、险种和标签", field="audience") from error


def _audience_size(ctx: StaffContext, segment: Segment) -> int:
    if segment.list_id:
        meta = lists.get(segment.list_id, kind=segment.kind.value)
        if meta.get("office") and not can_see_office(ctx, meta["office"]):
            raise NotFound("没有这个名单")
    return audiences.count(segment)


def _segment_audience(ctx: StaffContext, wanted: AudienceIn) -> tuple[int, AudienceIn]:
    """The size of an address-book segment or list the author may send to, and the audience as
    the request keeps it."""
    segment = _segment(ctx, wanted)
    size = _audience_size(ctx, segment)
    if size == 0:
        raise ValidationFailed("所选发送对象中没有可发送的号码", field="audience")
    return size, AudienceIn.model_validate(segment.model_dump(mode="json", exclude_none=True))


def _sheet_audience(ctx: StaffContext, body: SendRequestIn, version: TemplateVersion, request_id: str) -> SheetRef:
    """A personalised list as the audience: its people, each with their own values. Nothing else
    may narrow or widen it, and the values come from the list."""
    if version.category != "targeted":
        raise ValidationFailed("个性化名单只能用于定向通知类模板", field="sheet_id")
    if body.values:
        raise ValidationFailed("使用名单发送时，变量取值来自名单，请不要另填", field="values")
    if body.audience.model_dump(exclude_none=True, exclude={"kind", "districts"}) or body.audience.districts:
        raise ValidationFailed("使用名单发送时，发送对象就是名单中的人，不能再选择区县、险种、标签或名单",
                               field="audience")  # fmt: skip
    if value_sheets.kind_of(body.sheet_id or "") != body.audience.kind:
        raise ValidationFailed("名单的对象类型与所选对象类型不一致", field="audience.kind")
    return value_sheets.for_request(ctx, body.sheet_id or "", version, request_id)


def propose(
    ctx: StaffContext,
    body: SendRequestIn,
    *,
    now: datetime,
    follow_up: FollowUpOf | None = None,
    request_id: str | None = None,
) -> SendRequest:
    """A new request, waiting for a city reviewer: one set of values for an address-book segment
    or a list, or a personalised list (``value_sheets``) whose rows carry each person's values.
    A follow-up (``follow_ups``) names the send whose recipients not reached it reaches, stored
    under ``request_id``."""
    version = workflow.usable_version(body.template_id, now=now)
    if version.category not in ("targeted", "publicity"):
        raise ValidationFailed("发送申请只能使用定向通知类或宣传公告类模板", field="template_id")
    if version.office != ctx.office:
        raise Forbidden("只能使用本单位的模板发送（短信签名须为本单位）")
    sign_name = signatures.signature_for(version.office)
    problem = timing_problem(version.category, body.send_at, now)
    if problem:
        raise ValidationFailed(problem, field="send_at")
    request_id = request_id or uuid.uuid4().hex
    if follow_up is not None and body.reminder is not None:
        raise ValidationFailed("对未送达人员再次发送不能设置分轮提醒", field="reminder")
    reminder = reminders.plan_for(body, version.category, request_id, now=now)
    sheet = None
    if body.sheet_id:
        sheet = _sheet_audience(ctx, body, version, request_id)
        values, audience = {}, AudienceIn(kind=body.audience.kind)
        size, parts, total = sheet.accepted, sheet.max_parts, sheet.total_parts
    else:
        values = templating.validate_values(version.variables, body.values, under="values")
        parts = sms.measure(templating.render(version.text, values), sign_name).parts
        if follow_up is not None:  # the recipients an earlier send did not reach
            size, audience = follow_up.recipients, body.audience
        else:
            size, audience = _segment_audience(ctx, body.audience)
        total = parts * size
    request = SendRequest(
        request_id=request_id,
        kind=version.category,
        kind_name=KIND_NAMES[version.category],
        office=ctx.office,
        office_name=ctx.office_name,
        author=person(ctx),
        template_id=version.template_id,
        template_version=version.version,
        template_name=version.name,
        carrier_code=version.carrier_code or "",
        sign_name=sign_name,
        text=version.text,
        values=values,
        audience=audience,
        sheet=sheet,
        follow_up=follow_up,
        reminder=reminder,
        audience_size=size,
        parts=parts,
        total_parts=total,
        send_at=reminder.waves[0].send_at if reminder else body.send_at,
        note=body.note,
        status="submitted",
        status_name=STATUS_NAMES["submitted"],
        created_at=now,
        updated_at=now,
    )
    send_request_store.create(request)
    trail.record_change(ctx, "send_request.submit", None, request, at=now)
    return request


def review_view(
    ctx: StaffContext,
    request_id: str,
    *,
    now: datetime,
    progress: Callable[[SendRequest], dict[str, Any]] | None = None,
) -> RequestDetail:
    """What a reviewer decides on; once released, with the send's ``progress`` (which the
    delivery reports above this package count)."""
    request = get_visible(ctx, request_id)
    if request.sheet is not None:
        return _sheet_review(request, now, progress)
    text = templating.render(request.text, request.values)
    length = sms.measure(text, request.sign_name)
    size = request.audience_size
    if request.status in ("submitted", "approved") and request.follow_up is None:  # a follow-up's are kept
        size = audiences.count(Segment.model_validate(request.audience.model_dump(exclude_none=True)))
    return RequestDetail(
        request=request,
        sample=sms.full_text(text, request.sign_name),
        characters=length.characters,
        audience_size=size,
        parts=length.parts,
        total_parts=length.parts * size,
        timing=timing_of(request, now),
        **send_finishing.progress_and_finished(request, now, progress),
        waves=_waves(request, now, progress),
    )


def _waves(request: SendRequest, now: datetime, progress: Callable[[SendRequest], dict[str, Any]] | None) -> Any:
    """Reminder waves (None for any other send), each released wave with its counts: the
    send's progress, the subjects its fan-out left out as done, and whether it is over (as its
    own page decides it)."""
    if request.reminder is None and request.wave is None:
        return None

    def counts(wave: SendRequest) -> dict[str, Any]:
        counted = progress(wave) if progress else None
        done = fanout.fanout_progress(wave.request_id)["done"]
        return {**(counted or {}), "done": done, "finished": send_finishing.finished_now(wave, now, counted)}

    return reminders.waves_view(request, counts)


def _sheet_review(
    request: SendRequest, now: datetime, progress: Callable[[SendRequest], dict[str, Any]] | None
) -> RequestDetail:
    """A personalised send: its first message as the sample, the longest message's length and
    parts, the list's total parts, and the list itself (messages, parts, rejected rows)."""
    sheet = value_sheets.review(request.sheet.sheet_id) if request.sheet else None
    shown = (sheet.longest or (sheet.preview[0] if sheet.preview else None)) if sheet else None
    return RequestDetail(
        request=request,
        sample=sheet.preview[0].text if sheet and sheet.preview else "（名单数据已按保留期限删除）",
        characters=shown.characters if shown else 0,
        audience_size=request.audience_size,
        parts=request.parts,
        total_parts=request.total_parts,
        timing=timing_of(request, now),
        sheet=sheet,
        **send_finishing.progress_and_finished(request, now, progress),
    )


def list_requests(ctx: StaffContext, status: str | None = None, *, now: datetime) -> RequestList:
    statuses = [status] if status else list(STATUS_NAMES)
    found = [r for s in statuses for r in send_request_store.by_status(s) if can_see_office(ctx, r.office)]
    return RequestList(requests=[_listed(r, now) for r in sorted(found, key=lambda r: r.created_at, reverse=True)])


def _listed(request: SendRequest, now: datetime) -> ListedRequest:
    """A send as the list shows it: 已发送完毕 exactly when the send's page says so."""
    data = request.model_dump()
    if send_finishing.finished_now(request, now):
        data.update(finished=True, status_name=FINISHED_NAME)
    return ListedRequest.model_validate(data)


# ---------------------------------------------------------------------------- reviewing


def _move(ctx: StaffContext | None, before: SendRequest, action: str, now: datetime, **changes: Any) -> SendRequest:
    status = changes.get("status", before.status)
    after = before.model_copy(update={**changes, "status_name": STATUS_NAMES[status], "updated_at": now})
    send_request_store.save(before, after)
    trail.record_change(ctx, action, before, after, at=now)
    return after


def _reviewable(ctx: StaffContext, request_id: str) -> SendRequest:
    """A submitted request ``ctx`` may approve or reject."""
    request = get_visible(ctx, request_id)
    refusal = review_refusal(ctx, request.author.account_id)
    if refusal:
        raise Forbidden(refusal)
    if request.status != "submitted":
        raise Conflict(f"该申请{request.status_name}，不在待审核状态")
    return request


def approve(ctx: StaffContext, request_id: str, *, now: datetime) -> SendRequest:
    request = _reviewable(ctx, request_id)
    if account_store.office_suspended(request.office):
        raise Conflict(f"{request.office_name}已被暂停，不能批准其发送申请")
    # A send time that passed while waiting is released at the next tick of the schedule.
    after = _move(ctx, request, "send_request.approve", now, status="approved", reviewer=person(ctx), reviewed_at=now)
    reminders.schedule_waves(ctx, after, now=now)  # approved once, every wave
    return after


def reject(ctx: StaffContext, request_id: str, reason: str, *, now: datetime) -> SendRequest:
    request = _reviewable(ctx, request_id)
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写不通过的原因", field="reason")
    return _move(ctx, request, "send_request.reject", now, status="rejected", reviewer=person(ctx),
                 reviewed_at=now, reject_reason=reason)  # fmt: skip


def cancel(ctx: StaffContext, request_id: str, *, now: datetime) -> SendRequest:
    """Cancel a request before it is released; a reminder's first wave cancels, with it or after
    its release, the waves still to come."""
    request = get_visible(ctx, request_id)
    if request.reminder is not None and request.status not in CANCELLABLE and reminders.pending_waves(request):
        refusal = cancel_refusal(ctx, request.author.account_id, "approved")  # who may, whatever the status
        if refusal:
            raise Forbidden(refusal)
        reminders.cancel_waves(ctx, request, now=now)
        return request
    refusal = cancel_refusal(ctx, request.author.account_id, request.status)
    if refusal:
        raise Conflict(refusal) if request.status not in CANCELLABLE else Forbidden(refusal)
    after = _move(ctx, request, "send_request.cancel", now, status="cancelled", cancelled_by=person(ctx))
    reminders.cancel_waves(ctx, after, now=now)
    return after


def stop(ctx: StaffContext, request_id: str, reason: str, *, now: datetime) -> SendRequest:
    """Stop a send under way: the fan-out records everyone not yet queued as suppressed, and the
    dispatcher suppresses every queued message of the send (a hold on its source)."""
    request = get_visible(ctx, request_id)
    refusal = stop_refusal(ctx, request.status)
    if refusal:
        raise Forbidden(refusal) if request.status in STOPPABLE else Conflict(refusal)
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写停止发送的原因", field="reason")
    # The hold first: from this moment no queued message of the send goes to the carrier.
    message_store.place_hold("source", request.source_id, reason, now)
    after = _move(ctx, request, "send_request.stop", now, status="stopped", stopped_by=person(ctx), stop_reason=reason)
    reminders.cancel_waves(ctx, after, now=now, reason=reason)  # a stopped reminder sends no more waves
    return after


# ---------------------------------------------------------------------------- test sends


def send_test(ctx: StaffContext, request_id: str, *, now: datetime) -> TestSendOut:
    """One SMS of the request's text to the author's verified phone, on the ``high`` lane."""
    request = get_visible(ctx, request_id)
    if request.author.account_id != ctx.account_id:
        raise Forbidden("只有申请人可以发送测试短信")
    if request.status != "submitted":
        raise Conflict("只有待审核的申请可以发送测试短信")
    if request.test_sends >= MAX_TEST_SENDS:
        raise RateLimited(f"每个申请最多发送 {MAX_TEST_SENDS} 条测试短信")
    found = staff_phones.verified_number(ctx.account_id)
    if not found:
        raise Conflict("请先验证用于接收测试短信的手机号")
    phone, masked = found
    number = send_request_store.count_test_send(request_id)
    result = outbox.enqueue(
        SmsKind.SYSTEM,
        f"sendtest:{request_id}:{number}",
        request.office.value,
        request.sign_name,
        template_code=request.carrier_code,
        template_id=request.template_id,
        template_version=request.template_version,
        parts=request.parts,
        recipients=[(phone, None)],
        # A personalised send's test carries the first accepted row's values.
        shared_params=value_sheets.first_values(request.sheet.sheet_id) if request.sheet else request.values,
    )
    return TestSendOut(queued=result.queued, phone_masked=masked, test_sends=number)


# ---------------------------------------------------------------------------- suspended offices


def _halt(ctx: StaffContext | None, request: SendRequest, now: datetime) -> str | None:
    """Cancel or stop one request of a suspended office; what was done (None: nothing to do)."""
    if request.status in CANCELLABLE:
        _move(ctx, request, "send_request.cancel", now, status="cancelled", cancel_reason=OFFICE_SUSPENDED,
              cancelled_by=person(ctx) if ctx else None)  # fmt: skip
        return "cancelled"
    if request.status == "sending":
        # As in ``stop``: the hold first, then the fan-out records the rest suppressed.
        message_store.place_hold("source", request.source_id, OFFICE_SUSPENDED, now)
        _move(ctx, request, "send_request.stop", now, status="stopped", stop_reason=OFFICE_SUSPENDED,
              stopped_by=person(ctx) if ctx else None)  # fmt: skip
        return "stopped"
    return None  # finished, or fanned out: its queued messages are under the office's message hold


def _halt_retrying(ctx: StaffContext | None, request: SendRequest, now: datetime) -> tuple[str | None, SendRequest]:
    """``_halt``, reading the request again when someone else moved it between our read and our
    write (three tries); what was done and the request as last read."""
    for _ in range(3):
        try:
            return _halt(ctx, request, now), request
        except Conflict:
            request = send_request_store.load(request.request_id)
    raise Conflict("发送申请正在被他人处理，请稍后重试暂停")


def halt_office(ctx: StaffContext | None, office: Office | str, *, now: datetime) -> HaltedRequests:
    """Stop everything pending of a suspended office (R18); safe to repeat.

    Submitted and approved requests are cancelled, sends being expanded are stopped. The
    statuses are read in the order requests move through them, so a request that moves on while
    this runs is met again further on; a request moved by someone else between our read and our
    write is read again.
    """
    office = Office(office)
    done: dict[str, list[str]] = {"cancelled": [], "stopped": []}
    for status in ("submitted", "approved", "sending"):
        for request in send_request_store.by_status(status):
            if request.office != office:
                continue
            outcome, request = _halt_retrying(ctx, request, now)
            if outcome and request.request_id not in done[outcome]:
                done[outcome].append(request.request_id)
    return HaltedRequests(**done)


# ---------------------------------------------------------------------------- release


def _release(request: SendRequest, now: datetime, suspended: dict[Office, bool]) -> SendRequest | None:
    """Move one due request to ``sending`` and plan its fan-out; None when it is not released
    (publicity at night, an office suspended, or moved by someone else meanwhile)."""
    if request.kind == "publicity" and not in_publicity_window(now):
        return None
    if request.office not in suspended:
        suspended[request.office] = account_store.office_suspended(request.office)
    if suspended[request.office]:
        with suppress(Conflict):  # someone else moved it meanwhile
            _halt(None, request, now)  # approved before the suspension took effect: never released
        return None
    try:
        after = _move(None, request, "send_request.release", now, status="sending", released_at=now)
    except Conflict:
        return None  # cancelled or released by someone else meanwhile
    fanout.plan(after)
    return after


def release_due(*, now: datetime) -> list[str]:
    """Release every approved request whose time has come (the one-minute schedule calls this).

    Publicity approved outside the window waits for 08:00 here, so nothing is planned at night.
    Releasing is idempotent: the status move is conditional, chunk items are created only once,
    and a release that stopped half-way (planned flag missing) is finished on the next tick.
    """
    suspended: dict[Office, bool] = {}
    released = []
    for request in send_request_store.by_status("approved", due_before=now):
        after = _release(request, now, suspended)
        if after is not None:
            released.append(after.request_id)
    for request in send_request_store.by_status("sending"):
        item = send_request_store.load_item(request.request_id)
        if not item.get("planned") and request.released_at and now - request.released_at > timedelta(minutes=2):
            fanout.plan(request)
    return released
