"""Reminder waves: a targeted notice tied to a deadline, sent in waves until the subject acts.

A request may declare ``reminder`` (``reminder_models.ReminderIn``): a deadline, the business
event type that means "done" (e.g. ``medical.paid``, CONTRACTS §3) and the days before the
deadline its waves go out (e.g. 7 and 2). Then:

- proposing: the waves are checked (2 to 5, before the deadline, none in the past; targeted
  notices to an address-book segment or list only) and the first wave's time becomes the send
  time, so the request is released like any other;
- approving (once, for all the waves): each later wave becomes an approved request of its own
  (its own messages, counts and recipients), released by the same schedule at its time, and the
  done-event type is watched from then on;
- the event intake records each watched done-event's subject (``record_done``); a later wave's
  fan-out leaves out the subjects whose done-event arrived since the approval (``without_done``)
  and counts them;
- cancelling or stopping the first wave cancels the waves still to come.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sms_platform.audit import trail
from sms_platform.contacts.chunks import Page
from sms_platform.foundation.errors import NotFound, ValidationFailed
from sms_platform.sources import reminder_store, send_request_store
from sms_platform.sources.reminder_models import Reminder, WaveOf, WaveView, plan, plan_problem
from sms_platform.sources.send_request_models import (
    CANCELLABLE,
    FINISHED_NAME,
    RELEASED,
    STATUS_NAMES,
    SendRequest,
    SendRequestIn,
    person,
)
from sms_platform.staff.context import StaffContext

WATCH_MARGIN = timedelta(days=1)


# ---------------------------------------------------------------------------- proposing


def plan_for(body: SendRequestIn, kind: str, request_id: str, *, now: datetime) -> Reminder | None:
    """The waves a proposed request declares (None: it declares none), or a refusal in Chinese."""
    wanted = body.reminder
    if wanted is None:
        return None
    if kind != "targeted":
        raise ValidationFailed("只有定向通知可以设置分轮提醒", field="reminder")
    if body.sheet_id:
        raise ValidationFailed("个性化名单发送不能设置分轮提醒", field="reminder")
    if body.send_at is not None:
        raise ValidationFailed("设置分轮提醒时，发送时间按截止日期和提前天数计算，请不要另填发送时间", field="send_at")
    problem = plan_problem(wanted, now)
    if problem:
        raise ValidationFailed(problem[1], field=problem[0])
    return plan(wanted, request_id)


# ---------------------------------------------------------------------------- approving


def schedule_waves(ctx: StaffContext, first: SendRequest, *, now: datetime) -> list[SendRequest]:
    """The later waves of an approved first wave, approved with it; safe to repeat."""
    reminder = first.reminder
    if reminder is None:
        return []
    reminder_store.watch(reminder.done_event, reminder.waves[-1].send_at + WATCH_MARGIN)
    created = []
    for wave in reminder.waves[1:]:
        later = first.model_copy(
            update={
                "request_id": wave.request_id,
                "reminder": None,
                "wave": WaveOf(first_request_id=first.request_id, number=wave.number, of=len(reminder.waves),
                               done_event=reminder.done_event, deadline=reminder.deadline, since=now),
                "send_at": wave.send_at,
                "status": "approved",
                "status_name": STATUS_NAMES["approved"],
                "created_at": now,
                "updated_at": now,
                "test_sends": 0,
            }
        )  # fmt: skip
        if send_request_store.create_once(later):
            trail.record_change(ctx, "send_request.wave_schedule", None, later, at=now)
            created.append(later)
    return created


# ---------------------------------------------------------------------------- cancelling


def later_waves(first: SendRequest) -> list[SendRequest]:
    """The later waves of a first wave as stored (none before its approval)."""
    found = []
    for wave in first.reminder.waves[1:] if first.reminder else []:
        try:
            found.append(send_request_store.load(wave.request_id))
        except NotFound:
            continue
    return found


def pending_waves(first: SendRequest) -> list[SendRequest]:
    return [w for w in later_waves(first) if w.status in CANCELLABLE]


def cancel_waves(
    ctx: StaffContext | None, first: SendRequest, *, now: datetime, reason: str | None = None
) -> list[str]:
    """Cancel the waves still to come of a first wave (cancelled or stopped); which were cancelled."""
    cancelled = []
    for wave in pending_waves(first):
        after = wave.model_copy(
            update={"status": "cancelled", "status_name": STATUS_NAMES["cancelled"], "updated_at": now,
                    "cancelled_by": person(ctx) if ctx else None, "cancel_reason": reason}
        )  # fmt: skip
        send_request_store.save(wave, after)
        trail.record_change(ctx, "send_request.cancel", wave, after, at=now)
        cancelled.append(after.request_id)
    return cancelled


# ---------------------------------------------------------------------------- done-events and fan-out


def record_done(kind: str, subject_id: str, event_type: str, *, now: datetime) -> bool:
    """Remember that this subject's done-event arrived, when reminder waves watch its type."""
    if not reminder_store.watched(event_type, now):
        return False
    # deferred: the address book's lookups are for watched events only (the intake's cold start)
    from sms_platform.contacts import lookups, record_items, repository

    normal = lookups.normalized_identifier(kind, subject_id)
    if normal is None:
        return False
    reminder_store.record_done(event_type, record_items.ref_of(kind, repository.id_hash_of(normal)), now)
    return True


def without_done(request: SendRequest, page: Page) -> tuple[Page, int]:
    """A later wave's page without the subjects whose done-event arrived since the waves were
    approved, and how many recipients were left out (a first wave, or any other send, as it is)."""
    wave = request.wave
    if wave is None or not page.recipients:
        return page, 0
    done = reminder_store.done_since(wave.done_event, [r.ref for r in page.recipients], wave.since)
    if not done:
        return page, 0
    keep = [i for i, r in enumerate(page.recipients) if r.ref not in done]
    extra = dict(page.extra)
    if extra.get("params") is not None:
        extra["params"] = [extra["params"][i] for i in keep]
    recipients = [page.recipients[i] for i in keep]
    return replace(page, recipients=recipients, extra=extra), len(page.recipients) - len(recipients)


# ---------------------------------------------------------------------------- what staff read


def first_of(request: SendRequest) -> SendRequest | None:
    """The first wave of the waves a request belongs to (None: it belongs to none)."""
    if request.reminder is not None:
        return request
    if request.wave is not None:
        try:
            return send_request_store.load(request.wave.first_request_id)
        except NotFound:
            return None
    return None


def waves_view(request: SendRequest, counts: Callable[[SendRequest], dict[str, Any]]) -> list[WaveView] | None:
    """Each wave of the waves ``request`` belongs to: its time, status and, once released, its
    counts (``counts`` of a released wave: ``expanded``, ``done``, ``sent``, ``delivered``,
    ``failed``, and ``finished``: whether it is over, as ``send_finishing`` decides it)."""
    first = first_of(request)
    if first is None or first.reminder is None:
        return None
    stored = {w.request_id: w for w in later_waves(first)} | {first.request_id: first}
    views = []
    for wave in first.reminder.waves:
        found = stored.get(wave.request_id)
        # A later wave exists from the approval on; before it, it shares the first wave's status.
        status = found.status if found else first.status
        view = WaveView(number=wave.number, days_before=wave.days_before, send_at=wave.send_at,
                        request_id=wave.request_id, status=status, status_name=STATUS_NAMES[status])  # fmt: skip
        if found is not None and found.status in RELEASED:
            got = counts(found)
            view.skipped_done = int(got.get("done", 0))
            view.targeted = int(got.get("expanded", 0)) + view.skipped_done
            view.sent, view.delivered, view.failed = (int(got.get(k, 0)) for k in ("sent", "delivered", "failed"))
            if got.get("finished"):
                view.status_name = FINISHED_NAME
        views.append(view)
    return views
