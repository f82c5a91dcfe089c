"""Who a send reached and who it did not, recipient by recipient (R16): a send request, a trigger
rule's notices of a day, a subscription item's sends of a month, or the 12333 desk's hang-up
answers of a day, listed by state with the reason in Chinese, paged, with totals.

Who may look is who may read that kind of send's reports (``READERS``); a send request is
looked up as its detail is (a district office sees only its own), and a district office sees
its own district's rows of any send. The rows come from the messages table's recipient index
(``sending.recipient_groups``); the masked ID of a send request's recipient comes from the
address book, which the message names by its reference only.

Opening the first page of a send's recipients is audited (``recipients.view``: which send,
which states), as a citizen lookup is; the rows themselves never reach the trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.foundation import paging
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.reports import recipient_rows
from sms_platform.reports.recipient_models import RecipientPage, RowState
from sms_platform.sending import message_store
from sms_platform.sending.recipient_groups import GroupSource, group_key
from sms_platform.staff.context import ROLE_NAMES, Role, StaffContext

# Who may list each kind of send's recipients: those who read its reports today (a send
# request's readers; the rules' and items' city staff; the 12333 centre's manager for its
# answers), and auditors, who check what was sent to whom.
READERS: dict[GroupSource, frozenset[Role]] = {
    GroupSource.send: frozenset({Role.city_operator, Role.district_operator, Role.city_reviewer, Role.auditor}),
    GroupSource.rule: frozenset({Role.city_operator, Role.city_reviewer, Role.auditor}),
    GroupSource.item: frozenset({Role.city_operator, Role.city_reviewer, Role.auditor}),
    GroupSource.hotline: frozenset({Role.hotline_manager, Role.city_reviewer, Role.auditor}),
}
ALL_READERS: tuple[Role, ...] = tuple(sorted(frozenset().union(*READERS.values())))
_IDENT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class Group:
    """One send's recipients as one staff member may read them."""

    source: GroupSource
    ident: str | None
    period: str | None
    key: str  # the recipient index's partition
    title: str
    district: str | None  # the one district whose rows the reader sees (None: all)

    @property
    def target(self) -> str:
        """How the audit trail names the group (no personal data)."""
        return self.key.removeprefix("rcp#")


def may_read(ctx: StaffContext, source: GroupSource) -> bool:
    return ctx.has(*READERS[source])


def _ident(source: GroupSource, ident: str | None) -> str | None:
    text = (ident or "").strip()
    if source is GroupSource.hotline:
        if text:
            raise ValidationFailed("12333挂机短信按日期查询，不需要编号", field="id")
        return None
    if not text:
        raise ValidationFailed(f"请指明要查看的{recipient_rows.SOURCE_NAMES[source]}", field="id")
    if not _IDENT.fullmatch(text):
        raise ValidationFailed("编号格式不正确", field="id")
    return text


def _title(ctx: StaffContext, source: GroupSource, ident: str | None, period: str) -> str:
    """The send's name as staff know it; an unknown one (or another district's) is refused."""
    # deferred: only the send's own kind of source loads, not all three with the recipients area's cold
    # request (send_requests ~195 ms, trigger_rules and subscription_store ~20 ms each)
    if source is GroupSource.send:
        from sms_platform.sources import send_requests

        request = send_requests.get_visible(ctx, str(ident))
        return f"{request.kind_name}：{request.template_name}"
    if source is GroupSource.rule:
        from sms_platform.sources import trigger_rules

        return f"触发规则：{trigger_rules.get(str(ident)).name}（{period}）"
    if source is GroupSource.item:
        from sms_platform.sources import subscription_store

        return f"订阅项目：{subscription_store.get_item(str(ident)).name}（{period}）"
    return f"12333挂机短信（{period}）"


def resolve(ctx: StaffContext, source: GroupSource | str, ident: str | None, period: str | None, *,
            now: datetime) -> Group:  # fmt: skip
    """The group ``ctx`` asks for, checked: the right to read it, its id and period, that it
    exists and that ``ctx`` may see it."""
    try:
        source = GroupSource(source)
    except ValueError:
        raise ValidationFailed("发送类别应为 send、rule、item 或 hotline 之一", field="source") from None
    if not may_read(ctx, source):
        names = "、".join(ROLE_NAMES[role] for role in sorted(READERS[source]))
        raise Forbidden(f"无权查看{recipient_rows.SOURCE_NAMES[source]}的收件人明细，需要以下角色之一：{names}")
    ident = _ident(source, ident)
    period = recipient_rows.parse_period(source, period, now.astimezone(BEIJING).date())
    title = _title(ctx, source, ident, period)
    return Group(
        source=source,
        ident=ident,
        period=period or None,
        key=group_key(source, ident or "", period),
        title=title,
        district=recipient_rows.row_district(ctx),
    )


def masked_ids(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Masked ID numbers, by address-book reference, of the messages that recorded only the
    reference (a send request's): one batch read of the address book for a page of rows."""
    # deferred: the address book's modules (~35 ms) load with the first page of rows, not for an export's
    # request or status polls (the recipients area's other cold requests)
    from sms_platform.contacts import record_items, repository

    refs = {str(i["rcp_ref"]) for i in items if i.get("rcp_ref") and not i.get("rcp_id")}
    pks = {pk: ref for ref in refs if (pk := record_items.pk_of_ref(ref))}
    if not pks:
        return {}
    found = repository.get_many(pks)
    return {pks[pk]: contact.id_masked for pk, contact in found.items()}


def start_key(group: Group, cursor: str | None) -> dict[str, Any] | None:
    """Where a page starts, from a cursor this group's pages gave (else 400)."""
    start = paging.start_key(cursor, names=set(message_store.GROUP_KEY_NAMES), fixed={"gsi3pk": group.key})
    prefix = recipient_rows.key_prefix(group.district)
    if start is not None and prefix and not str(start["gsi3sk"]).startswith(prefix):
        raise paging.invalid()  # a cursor into another district's rows
    return start


def page(
    ctx: StaffContext,
    source: GroupSource | str,
    ident: str | None,
    period: str | None,
    states: str | Iterable[str] | None,
    *,
    cursor: str | None = None,
    limit: int = recipient_rows.PAGE_SIZE,
    now: datetime,
) -> RecipientPage:
    """One page of a send's recipients in the chosen states (all when none), with the totals
    over every row ``ctx`` may see on the first page."""
    group = resolve(ctx, source, ident, period, now=now)
    wanted = recipient_rows.parse_states(states)
    if not 1 <= limit <= recipient_rows.MAX_PAGE_SIZE:
        raise ValidationFailed(f"每页行数应为 1-{recipient_rows.MAX_PAGE_SIZE}", field="limit")
    prefix = recipient_rows.key_prefix(group.district)
    items, last = message_store.group_page(
        group.key, prefix=prefix, states=recipient_rows.message_states(wanted), limit=limit,
        start=start_key(group, cursor),
    )  # fmt: skip
    ids = masked_ids(items)
    totals = None
    if not cursor:
        totals = recipient_rows.totals(message_store.group_outcomes(group.key, prefix=prefix))
        trail.record(ctx, "recipients.view", group.target, None, {"states": [s.value for s in wanted],
                     "district": group.district}, ctx.office, at=now)  # fmt: skip
    return RecipientPage(
        source=group.source, id=group.ident, period=group.period, title=group.title, district=group.district,
        states=wanted, totals=totals, rows=[recipient_rows.to_row(item, ids) for item in items],
        cursor=paging.encode(last) if last else None,
    )  # fmt: skip


def count(group: Group, states: list[RowState]) -> int:
    """How many rows of ``states`` (all when none) the group's reader may see."""
    totals = recipient_rows.totals(
        message_store.group_outcomes(group.key, prefix=recipient_rows.key_prefix(group.district))
    )
    return totals.all if not states else sum(totals.states[state] for state in states)
