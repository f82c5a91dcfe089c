"""Filing templates with the carrier (R19) and the filing poller.

An approved version is filed at once (AddSmsTemplate). The poller (``poll_filings``, every five
minutes) retries a filing the carrier did not take, asks the carrier about filed versions
(QuerySmsTemplate), activates carrier-approved ones once their validity begins (retiring the
version they replace) and expires active ones when it ends. Every move is audited, with no
staff member as its actor, at the ``now`` of the approval or of the poller's round.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sms_platform.audit import trail
from sms_platform.carrier.client import Outcome, carrier_client_from_environment
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict
from sms_platform.templates import store
from sms_platform.templates.models import CARRIER_TEMPLATE_TYPES, POLLED, TemplateVersion, day_of, ended, moved

# The approval files its version itself, at once. The poller leaves a version approved less
# than this long ago to that filing: were both to file it, the carrier would hold the text
# twice and the approval would be answered with a conflict.
APPROVAL_FILES_ITSELF = timedelta(minutes=1)


def file_with_carrier(version: TemplateVersion, client: Any = None, *, now: datetime) -> TemplateVersion:
    """AddSmsTemplate for an approved version. The carrier's refusal ends the version as
    ``carrier_rejected`` with its message; a fault leaves it ``approved`` for the poller."""
    if version.status != "approved":
        return version
    client = client or carrier_client_from_environment()
    template_type = CARRIER_TEMPLATE_TYPES[version.category]
    result = client.add_sms_template(
        template_type, f"{version.name}-v{version.version}"[:30], version.text, version.remark
    )
    if result.outcome == Outcome.OK and result.data.get("TemplateCode"):
        after = moved(version, "filed", now, carrier_template_type=template_type,
                      carrier_code=str(result.data["TemplateCode"]), filed_at=now)  # fmt: skip
    elif result.outcome == Outcome.REJECTED:
        after = moved(version, "carrier_rejected", now, carrier_template_type=template_type,
                      carrier_reason=f"报备被拒：{result.message or result.code}", carrier_checked_at=now)  # fmt: skip
    else:
        return version  # not taken this time; the poller tries again
    try:
        store.save_version(version, after)
    except Conflict:
        # Someone else moved the version meanwhile (a poller's round): theirs is the state.
        return store.load(version.template_id).numbered(version.version)
    trail.record_change(None, "template.file", version, after, at=now)
    return after


def _ask_carrier(version: TemplateVersion, client: Any, now: datetime) -> TemplateVersion:
    result = client.query_sms_template(version.carrier_code)
    if result.outcome != Outcome.OK:
        return version
    status = str(result.data.get("TemplateStatus"))
    if status == "1":
        after = moved(version, "carrier_approved", now, carrier_checked_at=now)
    elif status == "2":
        reason = str(result.data.get("Reason") or "运营商未说明原因")
        after = moved(version, "carrier_rejected", now, carrier_reason=reason, carrier_checked_at=now)
    else:
        return version
    store.save_version(version, after)
    trail.record_change(None, f"template.{after.status}", version, after, at=now)
    return after


def _activate(version: TemplateVersion, now: datetime) -> TemplateVersion:
    """Make a carrier-approved version the template's active one (its validity has begun);
    the version it replaces is retired."""
    template = store.load(version.template_id)
    after = moved(version, "active", now, activated_at=now)
    replaced = retired = None
    if template.active_version and template.active_version != version.version:
        replaced = template.numbered(template.active_version)
        retired = ended(replaced, "retired", f"已由第 {version.version} 版取代", now)
    template.active_version = version.version
    store.save_activation(version, after, template, retired)
    trail.record_change(None, "template.activate", version, after, at=now)
    if replaced is not None:
        trail.record_change(None, "template.retire", replaced, retired, at=now)
    return after


def _expire(version: TemplateVersion, now: datetime) -> TemplateVersion:
    """End a version whose validity is over; an active one leaves its template with none."""
    after = ended(version, "expired", f"有效期已于 {version.valid_until.isoformat()} 结束", now)
    template = store.load(version.template_id)
    if template.active_version == version.version:
        template.active_version = None
        store.save_version(version, after, template)
    else:
        store.save_version(version, after)
    trail.record_change(None, "template.expire", version, after, at=now)
    return after


def _advance(version: TemplateVersion, now: datetime, client: Any) -> TemplateVersion:
    day = day_of(now)
    if version.valid_until < day:
        return _expire(version, now)
    if version.status == "approved":
        if now - version.updated_at < APPROVAL_FILES_ITSELF:
            return version
        return file_with_carrier(version, client or carrier_client_from_environment(), now=now)
    if version.status == "filed":
        version = _ask_carrier(version, client or carrier_client_from_environment(), now)
    if version.status == "carrier_approved" and version.valid_from <= day:
        return _activate(version, now)
    return version


def poll_filings(client: Any = None, *, now: datetime | None = None) -> dict[str, int]:
    """One round of the filing poller at ``now`` (by default the clock's): file what is
    approved, ask the carrier about what is filed, activate what the carrier approved once
    valid, expire what is past its validity. Returns how many versions moved to each status."""
    moves: dict[str, int] = {}
    now = now or get_clock().now()
    for status in POLLED:
        for version in store.versions_in(status):
            try:
                after = _advance(version, now, client)
            except Conflict:
                continue  # another poller moved it first
            if after.status != version.status:
                moves[after.status] = moves.get(after.status, 0) + 1
    return moves
