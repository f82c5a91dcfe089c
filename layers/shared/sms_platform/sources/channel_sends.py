"""What the three intake channels (business events, 12333 hang-ups, subscriptions) need from the
rest of the platform, in one place: the active version of a template, a person's or unit's
current numbers, and queuing messages on the ``high`` lane.

Every message gets a source id the caller builds from its own deterministic facts (the event
and rule, the call and entry, the subscription and period), so a repeated request or a retried
invocation queues nothing twice: the outbox keeps one message per (source, number).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sms_platform.foundation import crypto, identifiers
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import NotFound, PlatformError
from sms_platform.sending import recipient_groups
from sms_platform.sending.recipient_groups import Who
from sms_platform.text import sms

# The modules of pydantic models (templates, contacts, templating, the outbox and message store) are
# imported where used: the hang-up webhook's cold import loads this module and holds no pydantic
# (~50 ms), and each costs the subscribe handlers 4 to 30 ms of theirs.


@dataclass(frozen=True)
class TemplateUse:
    """The one version of a template that may be sent now."""

    template_id: str
    version: int
    code: str  # the carrier's template code
    text: str
    office: str
    category: str
    sign_name: str
    variables: list[Any] = field(default_factory=list)  # templating.VariableSpec


def source_key(outside_id: str) -> str:
    """An outside system's id (event, call) as a part of a message source id: kept as it is when
    short and plain, else a digest of it, so source ids stay within the outbox's pattern."""
    if re.fullmatch(r"[A-Za-z0-9_.:-]{1,40}", outside_id):
        return outside_id
    return "h" + hashlib.sha256(outside_id.encode()).hexdigest()[:31]


def active_template(template_id: str, now: datetime, *, category: str | None = None) -> TemplateUse | None:
    """The template's active, carrier-approved version in force today, or None; with ``category``,
    also None when the template is of another category (a channel sends only its own kind)."""
    from sms_platform.templates import signatures, workflow  # deferred: see the note under the imports

    try:
        version = workflow.usable_version(template_id, category=category)
    except PlatformError:  # unknown, not active, of another category, or outside its validity
        return None
    return TemplateUse(
        template_id=version.template_id,
        version=version.version,
        code=version.carrier_code or "",
        text=version.text,
        office=str(version.office),
        category=str(version.category),
        sign_name=signatures.signature_for(version.office),
        variables=list(version.variables),
    )


def template_category(template_id: str) -> str | None:
    """The category of a template whatever the state of its versions, or None if there is none."""
    from sms_platform.templates import store  # deferred: see the note under the imports

    try:
        return str(store.load(template_id).category)
    except NotFound:
        return None


def check_values(template: TemplateUse, values: dict[str, str]) -> dict[str, str]:
    """The values in the form the template declares; ``ValidationFailed`` names a bad one."""
    from sms_platform.text import templating  # deferred: see the note under the imports

    return templating.validate_values(template.variables, values)


def subject_recipients(kind: str, subject_id: str) -> tuple[list[str], Any]:
    """A person's number in use, or each contact person's number in use for a unit; and whom
    they reach as staff see it among a send's recipients (``recipient_groups.Who``: the address
    book's name and district, the ID masked)."""
    from sms_platform.contacts import lookups  # deferred: see the note under the imports

    found = lookups.recipients_of(kind, subject_id)
    mask = identifiers.mask_id_number if kind == "person" else identifiers.mask_credit_code
    who = Who(id_masked=mask(subject_id))
    if found:
        who = Who(name=found[0].name, id_masked=who.id_masked, district=found[0].district, ref=found[0].ref)
    return [crypto.decrypt(r.phone_token) for r in found], who


def send(
    kind: str,
    source_id: str,
    template: TemplateUse,
    recipients: Iterable[tuple[str, dict[str, str] | None]],
    *,
    recipient_group: str | None = None,
    who: Any = None,
    caller: Any = None,
) -> int:
    """Queue one message per distinct number on the kind's lane; returns how many were queued.
    ``recipient_group`` and ``who``: where staff find the messages among a send's recipients
    (``sending.recipient_groups``); ``caller``: the event or call whose status lists them
    (``message_items.Caller``)."""
    # deferred: see the note under the imports
    from sms_platform.sending import outbox
    from sms_platform.text import templating

    recipients = list(recipients)
    if not recipients:
        return 0
    sample = recipients[0][1] or {}
    parts = sms.measure(templating.render(template.text, sample), template.sign_name).parts
    result = outbox.enqueue(
        kind,
        source_id,
        template.office,
        template.sign_name,
        template_code=template.code,
        template_id=template.template_id,
        template_version=template.version,
        parts=parts,
        recipients=recipients,
        recipient_group=recipient_group,
        who=who,
        caller=caller,
    )
    return result.queued


NO_NUMBER = "no-number"


def record_undeliverable(
    kind: str, source_id: str, template: TemplateUse, reason: str, *, recipient_group: str | None = None,
    who: Any = None, caller: Any = None,
) -> None:  # fmt: skip
    """Record that a message could not be made because its recipient has no usable number; it
    shows in reports as ``undeliverable`` (and among ``recipient_group``'s recipients, for
    ``who``). Recording twice keeps the first record."""
    # deferred: see the note under the imports
    from sms_platform.sending import message_items, message_store
    from sms_platform.sending.messages import MessageState, message_id

    message = message_items.NewMessage(
        message_id=message_id(source_id, NO_NUMBER), kind=str(kind), source_id=source_id, office=template.office,
        batch_id="", sign_name=template.sign_name, template_code=template.code,
        template_id=template.template_id, template_version=template.version, parts=0, phone_hash=NO_NUMBER,
        phone_masked="无可用号码",
    )  # fmt: skip
    now = get_clock().now()
    listed = caller.fields(message.message_id) if caller else {}
    if recipient_group:
        listed |= recipient_groups.index_fields(
            recipient_group, who or recipient_groups.Who(), message_items.iso(now), message.message_id
        )
    message_store.record(message, MessageState.UNDELIVERABLE, now, reason=reason, **listed)
