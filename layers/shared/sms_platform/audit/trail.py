"""The append-only, tamper-evident audit trail (R14): the one way anything is audited.

Every staff action (``record``, or ``record_change`` for a versioned record) and every queued
send batch (``record_send``) becomes one entry of a hash chain (``chain``), sharded per day and
shard, in ``AUDIT_TABLE`` (``store``). An append reads its chain's head and writes the next
sequence number on condition that nobody took it first, retrying on the new head when someone
did. Phone numbers never reach the trail in clear: values pass the log redaction first and send
batches carry masked numbers only.

``verify`` finds a day's first broken entry; auditors search the trail (``search``), and a
nightly job archives each day (``archive``). Command line: ``python -m sms_platform.audit
verify|export --day YYYY-MM-DD``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sms_platform.audit import store
from sms_platform.audit.chain import (
    SHARDS,
    AuditActor,
    BrokenLink,
    actor_of,
    beijing_day,
    chain_key,
    check_chain,
    first_break,
    next_item,
    public_entry,
    shard_of,
    stored_snapshot,
    template_of,
    time_key,
)
from sms_platform.foundation.clock import get_clock

MAX_APPEND_ATTEMPTS = 25


def _append(
    actor: AuditActor,
    action: str,
    target: str,
    *,
    office: str,
    template_id: str | None,
    before: str | None,
    after: str | None,
    shard_key: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    if not action or not target:
        raise ValueError("an audit entry needs an action and a target")
    at = at or get_clock().now()
    chain = chain_key(beijing_day(at), shard_of(shard_key))
    content = {
        "chain": chain, "at": time_key(at), "actor": actor.as_dict(), "action": action, "target": target,
        "office": office, "template_id": template_id, "before": before, "after": after,
    }  # fmt: skip
    for attempt in range(MAX_APPEND_ATTEMPTS):
        item = next_item(store.head(chain), content)
        if store.add(item):
            return public_entry(item)
        # Another writer took this sequence number: read the new head and try again.
        time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise RuntimeError(f"audit chain {chain} stayed busy after {MAX_APPEND_ATTEMPTS} attempts")


def record(
    actor: Any,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    office: str | None = None,
    *,
    template_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Append a staff action: who (``actor``: a StaffContext, None for the platform), what
    (``action`` such as ``template.approve``), on what (``target`` such as ``template:T1:v2``),
    the state before and after, and the office it concerns (the actor's by default). ``at`` is
    the service's ``now``, so the entry bears the time of the change it records."""
    who = actor_of(actor)
    return _append(
        who,
        action,
        target,
        office=office or who.office,
        template_id=template_id or template_of(target),
        before=stored_snapshot(before),
        after=stored_snapshot(after),
        shard_key=f"{who.account_id}#{target}",
        at=at,
    )


def record_change(actor: Any, action: str, before: Any, after: Any, *, at: datetime | None = None) -> dict[str, Any]:
    """A staff action on a versioned record (a template version, a send request) that names its
    own ``target``, ``office`` and ``template_id`` and gives its ``summary()``."""
    return record(
        actor,
        action,
        after.target,
        before=before.summary() if before else None,
        after=after.summary(),
        office=after.office.value,
        template_id=after.template_id,
        at=at,
    )


def record_send(
    *,
    batch_id: str,
    source: str,
    office: str,
    template_id: str,
    template_version: int | None = None,
    lane: str | None = None,
    signature: str | None = None,
    recipients: Sequence[str] = (),
    recipient_count: int | None = None,
    actor: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one queued batch (not one entry per recipient): what was sent, from which source
    (e.g. ``broadcast:B1``), for which office and template, and to whom, masked."""
    summary = {
        "source": source,
        "template_id": template_id,
        "template_version": template_version,
        "lane": lane,
        "signature": signature,
        "recipient_count": recipient_count if recipient_count is not None else len(recipients),
        # Masked with the rest of the entry (``stored_snapshot``): one pass over the text, not one per number.
        "recipients": list(recipients),
        **dict(extra or {}),
    }
    return _append(
        actor_of(actor),
        "send.queued",
        f"batch:{batch_id}",
        office=office,
        template_id=template_id,
        before=None,
        after=stored_snapshot(summary),
        shard_key=f"batch#{batch_id}",
    )


def verify(day: date) -> BrokenLink | None:
    """The first broken entry of that day's chains (earliest in time), or None when all hold.

    Limit: a chain's newest entries, removed together, leave no gap behind; the daily archive
    in the Object Lock bucket is the record to compare with for days already exported.
    """
    chains = [chain_key(day, shard) for shard in range(SHARDS)]
    return first_break(check_chain(chain, store.chain_items(chain)) for chain in chains)
