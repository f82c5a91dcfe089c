"""What paid subscriptions send (R8): on the ``high`` lane as kind ``subscription``, which
publicity opt-outs do not touch.

- Each business event's data is kept as its subject's latest of that type; an item triggered by
  ``event`` sends to each subscription of the event's subject in its paid period.
- The daily run (``run_schedule``) sends the ``monthly`` items due that day, each filled from the
  subscriber's latest data of the item's linked type (or recorded as not sent when there is
  none), reminds subscribers seven days before a period ends and ends subscriptions whose
  period is over.

Every send's source id names the subscription and the event or day, and what each did is
recorded, so running twice sends nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict
from sms_platform.sending import recipient_groups
from sms_platform.sending.lanes import SmsKind
from sms_platform.sources import channel_sends, subscription_store, trigger_conditions
from sms_platform.sources.subscription_models import Item, in_period, monthly_send_due, reminder_due


def _subject_hash(kind: str, subject_id: str) -> str:
    return crypto.keyed_hash(f"{kind}:{subject_id}", purpose="id")


def remember_event_data(
    kind: str, subject_id: str, event_type: str, data: dict[str, Any], occurred_at: datetime
) -> None:
    """Keep the subject's latest data of this event type (an older event never overwrites it)."""
    subscription_store.put_latest_data(_subject_hash(kind, subject_id), event_type, data, occurred_at)


def _latest_data(subscription: dict[str, Any], event_type: str) -> dict[str, Any] | None:
    subject = crypto.decrypt(subscription["subscriber_token"])
    return subscription_store.latest_data(_subject_hash(subscription["subscriber_kind"], subject), event_type)


def _send_one(subscription: dict[str, Any], item: Item, context: dict[str, Any], source_id: str, now: datetime) -> int:
    template = channel_sends.active_template(item.template_id, now, category="subscription")
    if template is None:
        raise Conflict("订阅项目的模板未生效")
    values = channel_sends.check_values(template, trigger_conditions.fill_variables(item.variables, context))
    phone = crypto.decrypt(subscription["phone_token"])
    return channel_sends.send(SmsKind.SUBSCRIPTION, source_id, template, [(phone, values)],
                              **_listed(subscription, item, now))  # fmt: skip


def _listed(subscription: dict[str, Any], item: Item, now: datetime) -> dict[str, Any]:
    """Where staff find a subscription's message: among its item's recipients of the month."""
    who = recipient_groups.Who(name=subscription.get("subscriber_name") or "",
                               id_masked=subscription.get("subscriber_masked") or "")  # fmt: skip
    return {"recipient_group": recipient_groups.item_group(item.product_id, now), "who": who}


def send_on_event(event: Any, now: datetime) -> int:
    """Send each event-triggered subscription of the event's subject; returns messages queued."""
    found = subscription_store.subscriptions_of(_subject_hash(event.subject.kind, event.subject.id))
    sent = 0
    for subscription in found:
        if not in_period(subscription, now):
            continue
        item = subscription_store.get_item(subscription["product_id"])
        if item.trigger.kind != "event" or item.event_type != event.event_type:
            continue
        key = f"evt#{channel_sends.source_key(event.event_id)}"
        sent += _send_one(subscription, item, event.as_context(), f"sub#{subscription['subscription_id']}#{key}", now)
        subscription_store.record_run(subscription["subscription_id"], key, "queued", now)
    return sent


# ---------------------------------------------------------------- the daily run


def _monthly_send(subscription: dict[str, Any], item: Item, today: str, now: datetime) -> tuple[str, int]:
    """Today's send of a monthly item to one subscription: ``sent`` with the messages queued, or
    ``no_data`` when the subscriber has no data of the item's type yet."""
    subscription_id = subscription["subscription_id"]
    latest = _latest_data(subscription, item.event_type)
    if latest is None:
        subscription_store.record_run(subscription_id, today, "no_data", now,
                                      f"没有 {item.event_type} 业务数据，本期未发送")  # fmt: skip
        return "no_data", 1
    context = {"event_type": item.event_type, "occurred_at": latest["occurred_at"], "data": latest["data"]}
    sent = _send_one(subscription, item, context, f"sub#{subscription_id}#{today}", now)
    subscription_store.record_run(subscription_id, today, "queued", now)
    return "sent", sent


def _remind(subscription: dict[str, Any], item: Item, period_end: datetime, template_id: str, now: datetime) -> int:
    template = channel_sends.active_template(template_id, now, category="subscription")
    if template is None:
        return 0
    end_date = period_end.astimezone(BEIJING).date()
    values = channel_sends.check_values(template, {"product": item.name, "end_date": end_date.isoformat()})
    phone = crypto.decrypt(subscription["phone_token"])
    return channel_sends.send(SmsKind.SUBSCRIPTION, f"renew#{subscription['subscription_id']}#{end_date}",
                              template, [(phone, values)], **_listed(subscription, item, now))  # fmt: skip


def _run_member(member: dict[str, Any], item: Item, due: bool, reminder_template: str | None, now: datetime,
                counts: dict[str, int]) -> None:  # fmt: skip
    """One active member's part of the daily run, added to ``counts``."""
    subscription = subscription_store.subscription(member["subscription_id"])
    if not subscription or subscription["status"] != "active":
        return
    subscription_id = subscription["subscription_id"]
    period_end = datetime.fromisoformat(subscription["period_end"])
    if now >= period_end:
        subscription_store.mark_ended(subscription)
        counts["ended"] += 1
        return
    today = now.astimezone(BEIJING).date().isoformat()
    if due and not subscription_store.already_ran(subscription_id, today):
        outcome, number = _monthly_send(subscription, item, today, now)
        counts[outcome] += number
    reminder_key = f"reminder#{period_end.date().isoformat()}"
    remind = reminder_template and reminder_due(period_end, now)
    if remind and not subscription_store.already_ran(subscription_id, reminder_key):
        counts["reminders"] += _remind(subscription, item, period_end, reminder_template, now)
        subscription_store.record_run(subscription_id, reminder_key, "queued", now)


def run_schedule(now: datetime) -> dict[str, int]:
    """The daily run: monthly sends due today, and renewal reminders seven days before the end.

    Each send's source id names the subscription and the day, so running twice sends nothing more.
    """
    counts = {"sent": 0, "no_data": 0, "reminders": 0, "ended": 0}
    reminder_template = subscription_store.settings()["reminder_template_id"]
    for item in subscription_store.list_items():
        if item.status not in ("active", "withdrawn"):
            continue
        due = item.trigger.kind == "monthly" and monthly_send_due(item.trigger.day or 0, now)
        for member in subscription_store.members(item.product_id):
            _run_member(member, item, due, reminder_template, now, counts)
    return counts
