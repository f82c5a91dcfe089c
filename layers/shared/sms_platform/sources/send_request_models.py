"""Send requests as values: their statuses, what an author proposes, what a reviewer sees, and
the pure rules (send times and the publicity window, who may review, cancel or stop, how many
fan-out chunks).

    submitted → approved → sending → fanned_out        (released by the schedule at its time)
    submitted → rejected | cancelled
    approved → cancelled                                (until it is released)
    sending | fanned_out → stopped                      (recipients not yet sent end suppressed)

Nothing here reads or writes a table: ``send_request_store`` keeps requests, ``send_requests``
moves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.sending.messages import in_publicity_window, next_publicity_opening
from sms_platform.sources.follow_up_models import FollowUpOf
from sms_platform.sources.reminder_models import Reminder, ReminderIn, WaveOf, WaveView
from sms_platform.sources.value_sheet_models import SHEET_ID, SheetRef, SheetView
from sms_platform.staff.context import Office, Role, StaffContext

SendKind = Literal["targeted", "publicity"]
Status = Literal["submitted", "rejected", "approved", "cancelled", "sending", "fanned_out", "stopped"]

STATUS_NAMES: dict[str, str] = {
    "submitted": "待审核",
    "rejected": "审核未通过",
    "approved": "已批准，待发送",
    "cancelled": "已取消",
    "sending": "发送中",
    "fanned_out": "发送中",  # every recipient queued; messages still on their way (see ``finished``)
    "stopped": "已停止",
}
FINISHED_NAME = "已发送完毕"  # a fanned-out send whose every message has its final state
# A message state that is not final: waiting to go out, or sent and waiting for its receipt.
ON_THE_WAY = frozenset({"queued", "sending", "sent"})
# Carriers push a receipt within three days of sending (Alibaba keeps undelivered receipts for
# 72 hours): a message sent longer ago without one will not get one, and no longer holds its
# send open.
RECEIPT_WAIT = timedelta(hours=72)
KIND_NAMES = {"targeted": "定向通知", "publicity": "宣传公告"}
RELEASED = frozenset({"sending", "fanned_out", "stopped"})
CANCELLABLE = frozenset({"submitted", "approved"})
STOPPABLE = frozenset({"sending", "fanned_out"})

PAST_TOLERANCE = timedelta(minutes=1)
MAX_TEST_SENDS = 5
STOP_REASON = "stopped_send"  # messages.SuppressReason.STOPPED_SEND
OFFICE_SUSPENDED = "发送单位已被暂停"


# ---------------------------------------------------------------------------- pure rules


def source_id_of(request_id: str) -> str:
    """The message source id of a send: one message per number and send."""
    return f"send:{request_id}"


def on_the_way(item: Mapping[str, Any], now: datetime) -> bool:
    """Whether a message still holds its send open: waiting to go out, or sent and still within
    the time its receipt may take (``RECEIPT_WAIT``)."""
    state = item.get("state")
    if state != "sent":
        return state in ON_THE_WAY
    sent_at = item.get("sending_at")
    return not sent_at or datetime.fromisoformat(str(sent_at)) > now - RECEIPT_WAIT


def timing_problem(kind: str, send_at: datetime | None, now: datetime) -> str | None:
    """Why this send time cannot be accepted (None when it can)."""
    if send_at is not None and send_at < now - PAST_TOLERANCE:
        return "发送时间已过，请重新选择"
    if kind == "publicity" and send_at is not None and not in_publicity_window(send_at):
        suggestion = next_publicity_opening(send_at).astimezone(BEIJING)
        return (
            f"宣传类短信只能在每天 08:00 至 21:00（北京时间）之间发送，请改在该时段内，例如 {suggestion:%Y-%m-%d %H:%M}"
        )
    return None


def starts_at(kind: str, send_at: datetime | None, now: datetime) -> datetime:
    """When sending actually begins: the send time (or now), moved to 08:00 for publicity at night."""
    at = max(send_at or now, now)
    return next_publicity_opening(at) if kind == "publicity" else at


def review_refusal(ctx: StaffContext, author_id: str) -> str | None:
    """Why ``ctx`` may not approve or reject a request written by ``author_id`` (None if they may)."""
    if not (ctx.has(Role.city_reviewer) and ctx.office == Office.city):
        return "只有市社保中心的审核员可以审核发送申请"
    if ctx.account_id == author_id:
        return "不能审核自己提交的发送申请，请由其他审核员审核"
    return None


def cancel_refusal(ctx: StaffContext, author_id: str, status: str) -> str | None:
    if status not in CANCELLABLE:
        return f"该申请{STATUS_NAMES.get(status, status)}，已不能取消" + (
            "，可以停止发送" if status in STOPPABLE else ""
        )
    if ctx.account_id != author_id and not (ctx.has(Role.city_reviewer) and ctx.office == Office.city):
        return "只有申请人或市社保中心的审核员可以取消"
    return None


def stop_refusal(ctx: StaffContext, status: str) -> str | None:
    if not (ctx.has(Role.city_reviewer) and ctx.office == Office.city):
        return "只有市社保中心的审核员可以停止发送"
    if status not in STOPPABLE:
        return f"该申请{STATUS_NAMES.get(status, status)}，不在发送中"
    return None


def chunk_count(audience_size: int, per_chunk: int = 5000, most: int = 50) -> int:
    """How many parallel fan-out chunks an audience is cut into."""
    return max(1, min(most, -(-audience_size // per_chunk)))


# ---------------------------------------------------------------------------- models


class AudienceIn(BaseModel):
    """An address-book segment (kind, districts, insurance type, tag) or an uploaded list."""

    model_config = ConfigDict(
        extra="forbid",
        field_title_generator=labels(
            {"kind": "对象类型", "districts": "区县", "insurance_type": "险种", "list_id": "名单", "tag": "标签"}
        ),
    )

    kind: Literal["person", "unit"]
    districts: list[str] = Field(default_factory=list, max_length=8)
    insurance_type: Literal["pension", "medical", "unemployment", "work_injury", "maternity"] | None = None
    tag: Annotated[str | None, Visible("标签")] = Field(default=None, max_length=20)
    list_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class SendRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        field_title_generator=labels(
            {"template_id": "模板", "audience": "发送对象", "values": "变量取值", "sheet_id": "个性化名单"}
        ),
    )

    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    values: dict[str, Annotated[str, Visible("变量的值")]] = Field(default_factory=dict)
    audience: AudienceIn
    sheet_id: str | None = Field(
        default=None, pattern=SHEET_ID, description="已检查的个性化名单：每人的变量取值来自名单，对象为名单中的人"
    )
    send_at: datetime | None = Field(default=None, description="发送时间；不填则审核通过后立即发送")
    note: Annotated[str | None, Visible("申请说明", multiline=True)] = Field(
        default=None, max_length=300, description="申请说明"
    )
    reminder: ReminderIn | None = Field(
        default=None,
        description="分轮提醒：截止日期前分几轮发送，已办理（收到完成事件）的对象不再提醒；发送时间由此计算",
    )


class PersonOut(BaseModel):
    account_id: str
    real_name: str


class Timing(BaseModel):
    send_at: datetime | None
    starts_at: datetime
    window: str | None = None  # publicity only
    note: str


class SendRequest(BaseModel):
    request_id: str
    kind: SendKind
    kind_name: str
    office: Office
    office_name: str
    author: PersonOut
    template_id: str
    template_version: int
    template_name: str
    carrier_code: str
    sign_name: str
    text: str
    values: dict[str, str]
    audience: AudienceIn
    sheet: SheetRef | None = None  # a personalised list: each recipient's own values
    follow_up: FollowUpOf | None = None  # the send whose recipients not reached it reaches (follow_ups)
    reminder: Reminder | None = None  # the first wave of reminder waves: all the waves (reminders)
    wave: WaveOf | None = None  # a later wave of reminder waves: which, and of which first wave
    audience_size: int
    parts: int
    total_parts: int
    send_at: datetime | None = None
    note: str | None = None
    status: Status
    status_name: str
    created_at: datetime
    updated_at: datetime
    reviewer: PersonOut | None = None
    reviewed_at: datetime | None = None
    reject_reason: str | None = None
    cancelled_by: PersonOut | None = None
    cancel_reason: str | None = None
    stopped_by: PersonOut | None = None
    stop_reason: str | None = None
    released_at: datetime | None = None
    finished_at: datetime | None = None  # when the send was first seen over (``send_requests.finished_now``)
    test_sends: int = 0

    @property
    def source_id(self) -> str:
        return source_id_of(self.request_id)

    @property
    def target(self) -> str:
        return f"send_request:{self.request_id}"

    def summary(self) -> dict[str, Any]:
        keep = ("status", "template_id", "template_version", "audience_size", "send_at", "reject_reason",
                "cancel_reason", "stop_reason", "sheet", "follow_up", "reminder", "wave")  # fmt: skip
        return self.model_dump(mode="json", include=set(keep))


def person(ctx: StaffContext) -> PersonOut:
    return PersonOut(account_id=ctx.account_id, real_name=ctx.real_name)


class ReviewView(BaseModel):
    """What a reviewer decides on."""

    request: SendRequest
    sample: str  # the message as the phone shows it, signature included
    characters: int
    audience_size: int  # counted now from the address book's counters
    parts: int
    total_parts: int
    timing: Timing
    sheet: SheetView | None = None  # a personalised list: its messages, longest, parts and rejected rows
    waves: list[WaveView] | None = None  # reminder waves: each wave's time, status and counts


# The answers below have no docstrings: pydantic would put them into the OpenAPI document.


class RequestDetail(ReviewView):
    progress: dict[str, Any] | None = None  # the send's progress once released (``reports``)
    finished: bool = False  # every message has its final state (``send_requests.finished_now``)


class ListedRequest(SendRequest):
    # A send as the list shows it, read as its own page reads it: ``finished`` once every
    # message of a fanned-out send has its final state, its status name then 已发送完毕.
    finished: bool = False


class RequestList(BaseModel):
    requests: list[ListedRequest]


class TestSendOut(BaseModel):
    __test__ = False  # not a test class, whatever pytest makes of its name

    queued: int
    phone_masked: str
    test_sends: int


class HaltedRequests(BaseModel):
    # A suspended office's requests ``halt_office`` cancelled and stopped, by id.
    cancelled: list[str] = Field(default_factory=list)
    stopped: list[str] = Field(default_factory=list)


def timing_of(request: SendRequest, now: datetime) -> Timing:
    begin = request.released_at or starts_at(request.kind, request.send_at, now)
    if request.kind == "publicity":
        window = "08:00-21:00"
        note = f"宣传类短信仅在每天 {window}（北京时间）发送，21:00 未发完的部分暂停，次日 08:00 继续"
    else:
        window = None
        note = "定向通知不受时段限制"
    if request.send_at is None and request.released_at is None:
        note = "审核通过后立即发送；" + note
    return Timing(send_at=request.send_at, starts_at=begin, window=window, note=note)
