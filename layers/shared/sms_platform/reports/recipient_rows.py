"""The recipients of a send as staff read them (pure: no AWS here): the five states they filter
by, the row each message makes in the table and in the exports, the totals, the period a rule's,
item's or the desk's group covers, and which rows a staff member may see.

A district office sees its own district's rows only, whatever send it looks at: its rows are
read by the district's key prefix (``recipient_groups``), never read and then dropped. The city
office and the centres see every row.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.spreadsheets import safe_row
from sms_platform.reports import reasons
from sms_platform.reports.recipient_models import RecipientRow, RecipientTotals, RowState
from sms_platform.sending.recipient_groups import PERIOD_KINDS, GroupSource, district_prefix
from sms_platform.staff.context import OFFICE_NAMES, Office, StaffContext

STATE_NAMES: dict[RowState, str] = {
    RowState.delivered: "已送达",
    RowState.failed: "发送失败",
    RowState.undeliverable: "无法送达",
    RowState.suppressed: "未发送（已拦截）",
    RowState.sending: "发送中",
}
# The message states each row state covers (``sending.messages.MessageState``).
MESSAGE_STATES: dict[RowState, tuple[str, ...]] = {
    RowState.delivered: ("delivered",),
    RowState.failed: ("failed",),
    RowState.undeliverable: ("undeliverable", "expired"),
    RowState.suppressed: ("suppressed",),
    RowState.sending: ("queued", "sending", "sent"),
}
_ROW_OF = {message: row for row, messages in MESSAGE_STATES.items() for message in messages}

SOURCE_NAMES: dict[GroupSource, str] = {
    GroupSource.send: "发送申请",
    GroupSource.rule: "触发规则",
    GroupSource.item: "订阅项目",
    GroupSource.hotline: "12333挂机短信",
}

EXPORT_HEADER = (
    "手机号码（脱敏）", "姓名/单位名称", "证件号码（脱敏）", "区县", "状态", "原因", "原始错误码",
    "排队时间", "发送时间", "结果时间",
)  # fmt: skip

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


def row_state(message_state: str) -> RowState:
    """The row state of a message state (an unknown one counts as still sending)."""
    return _ROW_OF.get(message_state, RowState.sending)


def parse_states(values: str | Iterable[str] | None) -> list[RowState]:
    """The states asked for (comma-separated or a list), in their fixed order; empty for all.
    An unknown one is refused naming it and the choices."""
    if values is None:
        return []
    parts = values.split(",") if isinstance(values, str) else list(values)
    wanted: set[RowState] = set()
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        try:
            wanted.add(RowState(part))
        except ValueError:
            choices = "、".join(f"{STATE_NAMES[s]}（{s.value}）" for s in RowState)
            raise ValidationFailed(f"没有“{part[:20]}”这种状态，可选：{choices}", field="state") from None
    return [state for state in RowState if state in wanted]


def message_states(states: Iterable[RowState]) -> list[str]:
    """The message states to read for ``states`` (empty: every state, no filter)."""
    return [message for state in states for message in MESSAGE_STATES[state]]


def parse_period(source: GroupSource, period: str | None, today: date) -> str:
    """The Beijing day (``YYYY-MM-DD``) or month (``YYYY-MM``) a rule's, the desk's or an item's
    group covers (today or this month when not given); "" for a send request, which has none."""
    kind = PERIOD_KINDS[source]
    text = (period or "").strip()
    if not kind:
        if text:
            raise ValidationFailed("发送申请不按日期查询，请去掉日期", field="period")
        return ""
    if not text:
        return today.isoformat() if kind == "day" else today.isoformat()[:7]
    shape, example = (_DAY, "2025-03-03") if kind == "day" else (_MONTH, "2025-03")
    try:
        if not shape.fullmatch(text):
            raise ValueError(text)
        first = date.fromisoformat(text if kind == "day" else f"{text}-01")
    except ValueError:
        raise ValidationFailed(f"日期格式应为 {example}", field="period") from None
    if first > today:
        raise ValidationFailed("不能查询今后的日期", field="period")
    return text


def row_district(ctx: StaffContext) -> str | None:
    """The one district whose rows ``ctx`` may see (a district office), or None for every row."""
    return ctx.office.value if ctx.is_district else None


def key_prefix(district: str | None) -> str | None:
    """The sort-key prefix that reads one district's rows (None: every row)."""
    return district_prefix(district) if district else None


def district_name(code: str | None) -> str | None:
    if not code:
        return None
    return OFFICE_NAMES[Office(code)] if code in Office.__members__ else code


def to_row(item: Mapping[str, Any], id_masks: Mapping[str, str] | None = None) -> RecipientRow:
    """The row of one message of the group's index; ``id_masks``: masked IDs by address-book
    reference, for messages that recorded the reference only (a send request's)."""
    message_state = str(item.get("state") or "")
    state = row_state(message_state)
    reason, code = reasons.reason_of(item)
    district = str(item.get("rcp_district") or "") or None
    id_masked = item.get("rcp_id") or (id_masks or {}).get(str(item.get("rcp_ref") or ""))
    return RecipientRow(
        message_id=str(item.get("message_id") or str(item.get("pk", "")).removeprefix("msg#")),
        phone_masked=str(item.get("phone_masked") or "***"),
        name=item.get("rcp_name") or None,
        id_masked=id_masked or None,
        district=district,
        district_name=district_name(district),
        state=state,
        state_name=STATE_NAMES[state],
        message_state=message_state,
        reason=reason,
        reason_code=code,
        queued_at=item.get("created_at"),
        sent_at=item.get("sent_at"),
        final_at=item.get("final_at"),
    )


def totals(items: Iterable[Mapping[str, Any]]) -> RecipientTotals:
    """How many rows of each state, and the failures by category, over every row one may see."""
    states: Counter[RowState] = Counter()
    failures: Counter[str] = Counter()
    for item in items:
        message_state = str(item.get("state") or "")
        states[row_state(message_state)] += 1
        if message_state == "failed":
            failures[str(item.get("error_code") or "")] += 1
    return RecipientTotals(
        all=sum(states.values()),
        states={state: states.get(state, 0) for state in RowState},
        failure_categories=reasons.categories(failures),
    )


def beijing_time(value: str | None) -> str:
    """An ISO time as Beijing wall time, ``YYYY-MM-DD HH:MM:SS`` ("" when absent)."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        return at.strftime("%Y-%m-%d %H:%M:%S")
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def export_cells(row: RecipientRow) -> list[str]:
    """One row of an export, in ``EXPORT_HEADER``'s order, every cell safe to open in a
    spreadsheet (a value that would start a formula is neutralised)."""
    return safe_row(
        (
            row.phone_masked, row.name or "", row.id_masked or "", row.district_name or "", row.state_name,
            row.reason or "", row.reason_code or "", beijing_time(row.queued_at), beijing_time(row.sent_at),
            beijing_time(row.final_at),
        )  # fmt: skip
    )


def file_name(source: GroupSource, ident: str | None, period: str | None, fmt: str, at: datetime) -> str:
    """The name a downloaded export suggests: what it is of and when it was made, in ASCII (it
    travels in a header) and without anything personal."""
    parts = ["recipients", source.value, *(p for p in (ident, period) if p)]
    stamp = at.astimezone(BEIJING).strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts))[:80]
    return f"{safe}-{stamp}.{fmt}"
