"""Delivery tracking (R16): a send's progress and report, the daily report, and the per-citizen
lookup a 12333 agent uses to answer "did my message arrive?".

A send's messages carry ``gsi2pk = "src#<source id>"`` (written by the fan-out), so its states
are counted from the messages table's sparse ``gsi2`` index, which holds only those few
attributes: the message store stays the one truth about each recipient. The fan-out's own
counts (expanded, queued, ...) come from its chunk items.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sms_platform.audit import trail
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.identifiers import mask_mobile, normalize_mobile
from sms_platform.reports import reasons
from sms_platform.reports.models import CitizenMessage, CitizenMessages, DailyDelivery, OfficeDelivery
from sms_platform.sending import message_store
from sms_platform.sending.messages import MessageState
from sms_platform.staff.context import OFFICE_NAMES, Office, StaffContext

STATE_NAMES = {
    "queued": "排队中",
    "sending": "发送中",
    "sent": "已发送，等待回执",
    "delivered": "已送达",
    "failed": "发送失败",
    "suppressed": "未发送（已拦截）",
    "undeliverable": "无可用号码",
    "expired": "已过期",
}


def _carrier_took(item: dict[str, Any]) -> bool:
    """Whether the carrier accepted the message (its parts are billed)."""
    state = item.get("state")
    return state in ("sent", "delivered") or (state == "failed" and bool(item.get("biz_id") or item.get("receipt_at")))


def summarize(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by state, delivery rate, failure and suppression reasons, parts used (pure)."""
    states = Counter(str(i.get("state")) for i in items)
    failures = Counter(str(i.get("error_code") or "UNKNOWN") for i in items if i.get("state") == "failed")
    suppressed = Counter(str(i.get("suppress_reason") or "") for i in items if i.get("state") == "suppressed")
    taken = [i for i in items if _carrier_took(i)]
    parts = sum(int(i.get("parts", 0)) for i in taken)
    delivered, failed = states.get("delivered", 0), states.get("failed", 0)
    settled = delivered + failed
    return {
        "messages": len(items),
        "sent": len(taken),  # taken by the carrier, whatever the receipt said later
        "states": {state.value: states.get(state.value, 0) for state in MessageState},
        "delivery_rate": round(delivered / settled, 4) if settled else None,
        "failure_reasons": dict(failures.most_common()),
        "failure_categories": reasons.categories(failures),
        "suppress_reasons": {reason: n for reason, n in suppressed.most_common()},
        "parts_used": parts,
    }


def send_report(request: Any) -> dict[str, Any]:
    """A send's delivery report, as reviewers and auditors read it."""
    # deferred: the fan-out (~75 ms with the contacts it reads) is for the send-requests area, which has it
    # loaded already; the operations area's citizen lookup and daily report load this module without it
    from sms_platform.sources import fanout

    summary = summarize(message_store.items_of_source(request.source_id))
    return {
        "request_id": request.request_id,
        "office": request.office.value,
        "kind": request.kind,
        "status": request.status,
        "audience_size": request.audience_size,
        "fanout": fanout.fanout_progress(request.request_id),
        **summary,
    }


def progress(request: Any) -> dict[str, Any]:
    """What GET /send-requests/{id} shows while a send runs.

    ``expanded`` recipients each end in exactly one of: not queued as a duplicate, or one
    message whose state is counted in ``states`` (queued and sending still on their way).
    """
    report = send_report(request)
    states = report["states"]
    return {
        "expanded": report["fanout"]["expanded"],
        "queued": report["fanout"]["queued"],
        "duplicates": report["fanout"]["duplicates"],
        "skipped": report["fanout"]["skipped"],
        "chunks": report["fanout"]["chunks"],
        "chunks_done": report["fanout"]["chunks_done"],
        "paused_until": report["fanout"]["paused_until"],
        "waiting": states["queued"] + states["sending"],
        "sent": report["sent"],
        "delivered": states["delivered"],
        "failed": states["failed"],
        "suppressed": states["suppressed"],
        "states": states,
        "delivery_rate": report["delivery_rate"],
        "parts_used": report["parts_used"],
        "failure_categories": report["failure_categories"],
    }


def daily_report(day: date | None, *, now: datetime) -> DailyDelivery:
    """Sends released on ``day`` (Beijing; yesterday by default), added up per office."""
    # deferred: the send-request store (~25 ms) is for this report, not the citizen lookup (see send_report)
    from sms_platform.sources import send_request_store

    day = day or now.astimezone(BEIJING).date() - timedelta(days=1)
    offices: dict[str, dict[str, Any]] = {}
    for request_id in send_request_store.sends_of_day(day):
        request = send_request_store.load(request_id)
        summary = summarize(message_store.items_of_source(request.source_id))
        office = offices.setdefault(
            request.office.value,
            {"office": request.office.value, "sends": 0, "messages": 0, "parts_used": 0,
             "states": Counter(), "failure_reasons": Counter()},
        )  # fmt: skip
        office["sends"] += 1
        office["messages"] += summary["messages"]
        office["parts_used"] += summary["parts_used"]
        office["states"].update(summary["states"])
        office["failure_reasons"].update(summary["failure_reasons"])
    rows = []
    for office in sorted(offices.values(), key=lambda o: o["office"]):
        delivered, failed = office["states"].get("delivered", 0), office["states"].get("failed", 0)
        rows.append(
            OfficeDelivery(
                **{
                    **office,
                    "states": {state.value: office["states"].get(state.value, 0) for state in MessageState},
                    "failure_reasons": dict(office["failure_reasons"].most_common()),
                    "failure_categories": reasons.categories(office["failure_reasons"]),
                    "delivery_rate": round(delivered / (delivered + failed), 4) if delivered + failed else None,
                }
            )
        )
    return DailyDelivery(day=day, offices=rows)


def _citizen_message(item: dict[str, Any]) -> CitizenMessage:
    state = str(item.get("state"))
    office = str(item.get("office", ""))
    reason, code = reasons.reason_of(item)
    return CitizenMessage(
        message_id=item["message_id"],
        kind=item.get("kind"),
        office=office,
        office_name=OFFICE_NAMES[Office(office)] if office in Office.__members__ else office,
        template_id=item.get("template_id"),
        state=state,
        state_name=STATE_NAMES.get(state, state),
        reason=reason,
        reason_code=code,
        created_at=item.get("created_at"),
        sent_at=item.get("sent_at"),
        final_at=item.get("final_at"),
        test=True if item.get("test") else None,  # never sent: the agent must not read it as delivered
    )


def citizen_messages(ctx: StaffContext, raw_phone: str, *, now: datetime, limit: int = 20) -> CitizenMessages:
    """A number's recent messages and their states, the number masked (for the 12333 desk).

    Looking a citizen up is audited (``messages.lookup``, the masked number and how many were found).
    """
    phone = normalize_mobile(raw_phone, field="phone")
    items = message_store.recent_for_phone(crypto.keyed_hash(phone), limit=limit)
    found = CitizenMessages(phone_masked=mask_mobile(phone), messages=[_citizen_message(item) for item in items])
    trail.record(ctx, "messages.lookup", f"phone:{found.phone_masked}", None, {"messages": len(found.messages)},
                 ctx.office, at=now)  # fmt: skip
    return found
