"""What an outside system's API key may do, in one place: the event types a business system may
send (``trigger_rules``) and the address-book sources a channel may collect for
(``contacts.channels``), both kept by the key's id.

API Gateway cannot change a key's value, so rotating a key issues a replacement with an id of
its own (``python -m infra.keys rotate``); ``carry_over`` gives it every grant of the key it
replaces, each audited as IT operations granting it, so the system's calls go on being allowed
whichever of the two keys it sends until the old one is revoked.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sms_platform.contacts import channels
from sms_platform.sources import trigger_rules
from sms_platform.staff.context import StaffContext


class KeyGrants(BaseModel):
    api_key_id: str
    event_types: list[str]
    sources: list[str]


def grants_of(api_key_id: str) -> KeyGrants:
    return KeyGrants(
        api_key_id=api_key_id,
        event_types=trigger_rules.grants(api_key_id).event_types,
        sources=channels.sources_of(api_key_id),
    )


def carry_over(ctx: StaffContext, from_key_id: str, to_key_id: str, *, now: datetime) -> KeyGrants:
    """Grant ``to_key_id`` everything ``from_key_id`` has (what it has already stays); its grants after."""
    held = grants_of(from_key_id)
    present = grants_of(to_key_id)
    for event_type in sorted(set(held.event_types) - set(present.event_types)):
        trigger_rules.grant(ctx, to_key_id, event_type, now=now)
    for source in sorted(set(held.sources) - set(present.sources)):
        channels.grant(ctx, to_key_id, source, now=now)
    return grants_of(to_key_id)
