"""What the three intake channels (business events, 12333 hang-ups, subscriptions) need from the
rest of the platform, in one place: the active version of a template, a person's or unit's
current numbers, and queuing messages on the ``high`` lane.

Every message gets a source id the caller builds from its own deterministic facts (the event
and rule, the call and entry, the subscription and period), so a repeated request or a retried
invocation queues nothing twice: the outbox keeps one message per (source, number).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


def active_template(template_id: str, now: datetime) -> TemplateUse | None:
    """The template's active, carrier-approved version in force at ``now``, or None."""
    from sms_platform import signatures, templates

    version = templates.active_version(template_id, now=now)
    if version is None:
        return None
    return TemplateUse(
        template_id=version.template_id,
        version=version.version,
        code=version.carrier_code,
        text=version.text,
        office=version.office,
        category=str(version.category),
        sign_name=signatures.signature_of(version.office),
        variables=list(version.variables),
    )


def check_values(template: TemplateUse, values: dict[str, str]) -> dict[str, str]:
    """The values in the form the template declares; ``ValidationFailed`` names a bad one."""
    from sms_platform import templating

    return templating.validate_values(template.variables, values)


def person_phone(id_number: str) -> str | None:
    """The person's current verified mobile number, or None."""
    from sms_platform.contacts import lookup

    return lookup.person_phone(id_number)


def unit_phones(credit_code: str) -> list[str]:
    """The mobile numbers of the unit's contact people (deduplicated)."""
    from sms_platform.contacts import lookup

    return list(dict.fromkeys(lookup.unit_phones(credit_code)))


def subject_phones(kind: str, subject_id: str) -> list[str]:
    if kind == "person":
        phone = person_phone(subject_id)
        return [phone] if phone else []
    return unit_phones(subject_id)


def send(
    kind: str, source_id: str, template: TemplateUse, recipients: Iterable[tuple[str, dict[str, str] | None]]
) -> int:
    """Queue one message per distinct number on the kind's lane; returns how many were queued."""
    from sms_platform import outbox

    result = outbox.enqueue(
        kind=kind,
        source_id=source_id,
        office=template.office,
        sign_name=template.sign_name,
        template_id=template.template_id,
        template_version=template.version,
        template_code=template.code,
        template_text=template.text,
        recipients=list(recipients),
    )
    return _count(result)


def record_undeliverable(kind: str, source_id: str, template: TemplateUse | None, reason: str) -> None:
    """Record that a message could not be made because its recipient has no usable number."""
    from sms_platform import outbox

    outbox.record_undeliverable(
        kind=kind,
        source_id=source_id,
        office=template.office if template else "city",
        template_id=template.template_id if template else None,
        reason=reason,
    )


def _count(result: Any) -> int:
    if isinstance(result, int):
        return result
    for name in ("queued", "messages", "count"):
        value = getattr(result, name, None)
        if isinstance(value, int):
            return value
        if isinstance(value, list):
            return len(value)
    return len(result)
