"""Recipient groups: the sends staff look at recipient by recipient, and what each message tells
about its recipient (pure: no AWS here).

Staff ask "who did not get it, and why" of a send as they think of it, which is not always one
message source: a send request is one source, but a trigger rule sends for each event (one
source per event), a subscription item for each subscriber and day, the 12333 desk for each
call. So a message is recorded with the group it belongs to:

- ``rcp#send#<request id>``: a staff send request;
- ``rcp#rule#<rule id>#<YYYY-MM-DD>``: a trigger rule's notices of one Beijing day;
- ``rcp#item#<product id>#<YYYY-MM>``: a subscription item's sends of one Beijing month;
- ``rcp#hotline#<YYYY-MM-DD>``: the hang-up answers of one Beijing day.

The group is the messages table's ``gsi3`` partition (sparse: messages of no group, such as
verification codes and test sends, stay out of it). Its sort key starts with the recipient's
district, so a district office reads its own district's rows by key, never by filtering
others' rows out after reading them: ``<district or ->#<created>#<message id>``.

Beside the keys a message keeps who it was for, as staff may see it: the name, the ID number
masked, the district and the address-book reference (never the ID in clear).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sms_platform.foundation.clock import BEIJING

GROUP_PREFIX = "rcp#"
NO_DISTRICT = "-"  # sorts before every district code: rows of unknown district come first


class GroupSource(StrEnum):
    send = "send"
    rule = "rule"
    item = "item"
    hotline = "hotline"


# How long one group of each source lasts: one send; a Beijing day; a Beijing month.
PERIOD_KINDS: dict[GroupSource, str] = {
    GroupSource.send: "",
    GroupSource.rule: "day",
    GroupSource.item: "month",
    GroupSource.hotline: "day",
}


def period_of(source: GroupSource | str, at: datetime | date) -> str:
    """The period a message recorded at ``at`` falls in for ``source`` ("" for a send request)."""
    kind = PERIOD_KINDS[GroupSource(source)]
    day = at.astimezone(BEIJING).date() if isinstance(at, datetime) else at
    if kind == "day":
        return day.isoformat()
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return ""


def group_key(source: GroupSource | str, ident: str = "", period: str = "") -> str:
    """The ``gsi3pk`` of a group: its source, the request, rule or item, and the period."""
    parts = [str(GroupSource(source))]
    if ident:
        parts.append(ident)
    if period:
        parts.append(period)
    return GROUP_PREFIX + "#".join(parts)


def send_group(request_id: str) -> str:
    return group_key(GroupSource.send, request_id)


def rule_group(rule_id: str, at: datetime) -> str:
    return group_key(GroupSource.rule, rule_id, period_of(GroupSource.rule, at))


def item_group(product_id: str, at: datetime) -> str:
    return group_key(GroupSource.item, product_id, period_of(GroupSource.item, at))


def hotline_group(at: datetime) -> str:
    return group_key(GroupSource.hotline, "", period_of(GroupSource.hotline, at))


@dataclass(frozen=True)
class Who:
    """Whom a message was for, as staff may see it (masked; empty where unknown)."""

    name: str = ""
    id_masked: str = ""
    district: str = ""
    ref: str = ""  # the address book's opaque reference of the unit or person


def district_prefix(district: str | None) -> str:
    """The start of the sort keys of one district's rows."""
    return f"{district or NO_DISTRICT}#"


def index_fields(group: str, who: Who, created: str, message_id: str) -> dict[str, str]:
    """The attributes that put a message in ``group`` with what it tells about its recipient."""
    fields = {"gsi3pk": group, "gsi3sk": f"{district_prefix(who.district)}{created}#{message_id}"}
    for attribute, value in (
        ("rcp_name", who.name),
        ("rcp_id", who.id_masked),
        ("rcp_district", who.district),
        ("rcp_ref", who.ref),
    ):
        if value:
            fields[attribute] = value
    return fields
