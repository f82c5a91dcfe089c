"""Send requests (R5, R7): a targeted notice or a publicity send, proposed, reviewed, released.

A request names an active template version of category ``targeted`` or ``publicity`` owned by
the author's office, the values of its variables (one set for every recipient), an audience
(an address-book segment or an uploaded list) and a send time (empty: as soon as approved).

    submitted → approved → sending → fanned_out        (released by the schedule at its time)
    submitted → rejected | cancelled
    approved → cancelled                                (until it is released)
    sending | fanned_out → stopped                      (recipients not yet sent end suppressed)

Rules:

- A city reviewer who is not the author approves; a district office's request goes to the city
  office like the city's own (R7).
- Publicity goes out only from 08:00 to 21:00 Beijing time. A send time outside that window is
  refused with the next allowed time in the message (we do not move it silently: the author
  chose the time and should see the change). A request without a send time that is approved
  at night starts at the next 08:00, and a send still running at 21:00 pauses until 08:00.
- The reviewer sees a rendered sample, the audience size (from the address book's counters),
  the parts per message, the total parts and the timing.
- Before approval the author may send the text to their own phone, verified by a code sent to
  it first (the platform's verification-code template), through the ``high`` lane.
- A suspended office (R18) sends nothing: ``halt_office`` cancels its submitted and approved
  requests and stops its sends still being expanded, each with the reason 发送单位已被暂停 and
  audited. Reinstatement resumes none of them: the office proposes afresh, so nothing proposed
  before the suspension goes out without a new review. Messages already queued are held by the
  office's message hold (``office_suspension.suspend_office``). As a second guard, a request of a
  suspended office cannot be approved, and the release schedule cancels it instead of releasing.

Storage in ``SENDS_TABLE``: ``pk="send#<id>"`` holds ``sk="request"`` (``gsi1`` by status and
due time, so the release schedule and the review queue find their work) and ``sk="chunk#NNNN"``
(one per fan-out chunk: its cursor and counts). ``pk="sends-day#<date>"`` lists the sends
released that day (the daily report). ``pk="testphone#<account>"`` holds an author's verified
test number (encrypted) and a pending code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sms_platform import aws
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from sms_platform.foundation.text_rules import Visible
from sms_platform.sending.messages import in_publicity_window, next_publicity_opening
from sms_platform.staff.context import OFFICE_NAMES, Office, Role, StaffContext, can_see_office

TABLE_ENV = "SENDS_TABLE"
SendKind = Literal["targeted", "publicity"]
Status = Literal["submitted", "rejected", "approved", "cancelled", "sending", "fanned_out", "stopped"]

STATUS_NAMES: dict[str, str] = {
    "submitted": "待审核",
    "rejected": "审核未通过",
    "approved": "已批准，待发送",
    "cancelled": "已取消",
    "sending": "发送中",
    "fanned_out": "已全部排队发送",
    "stopped": "已停止",
}
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

    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "unit"]
    districts: list[str] = Field(default_factory=list, max_length=8)
    insurance_type: Literal["pension", "medical", "unemployment", "work_injury", "maternity"] | None = None
    tag: Annotated[str | None, Visible("标签")] = Field(default=None, max_length=20)
    list_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class SendRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    values: dict[str, Annotated[str, Visible("变量的值")]] = Field(default_factory=dict)
    audience: AudienceIn
    send_at: datetime | None = Field(default=None, description="发送时间；不填则审核通过后立即发送")
    note: Annotated[str | None, Visible("申请说明", multiline=True)] = Field(
        default=None, max_length=300, description="申请说明"
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
    test_sends: int = 0

    @property
    def source_id(self) -> str:
        return source_id_of(self.request_id)

    @property
    def target(self) -> str:
        return f"send_request:{self.request_id}"

    def summary(self) -> dict[str, Any]:
        keep = ("status", "template_id", "template_version", "audience_size", "send_at", "reject_reason",
                "cancel_reason", "stop_reason")  # fmt: skip
        return self.model_dump(mode="json", include=set(keep))


def _person(ctx: StaffContext) -> PersonOut:
    return PersonOut(account_id=ctx.account_id, real_name=ctx.real_name)


# ---------------------------------------------------------------------------- storage


def _table() -> Any:
    return aws.table(TABLE_ENV)


def _key(request_id: str) -> dict[str, str]:
    return {"pk": f"send#{request_id}", "sk": "request"}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _due_key(request: SendRequest) -> str:
    return (request.send_at or request.created_at).astimezone(BEIJING).isoformat()


def _item(request: SendRequest) -> dict[str, Any]:
    item = request.model_dump(mode="json", exclude_none=True, exclude={"status_name", "kind_name", "office_name"})
    item.update(
        _key(request.request_id),
        gsi1pk=f"send-status#{request.status}",
        gsi1sk=f"{_due_key(request)}#{request.request_id}",
    )
    return item


def _from_item(item: Mapping[str, Any]) -> SendRequest:
    data = {k: _plain(v) for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk") and k in _FIELDS}
    data["status_name"] = STATUS_NAMES[data["status"]]
    data["kind_name"] = KIND_NAMES[data["kind"]]
    data["office_name"] = OFFICE_NAMES[Office(data["office"])]
    return SendRequest.model_validate(data)


_FIELDS = frozenset(SendRequest.model_fields)


def load_item(request_id: str) -> dict[str, Any]:
    item = _table().get_item(Key=_key(request_id), ConsistentRead=True).get("Item")
    if not item:
        raise NotFound("没有这个发送申请")
    return item


def load(request_id: str) -> SendRequest:
    return _from_item(load_item(request_id))


def get_visible(ctx: StaffContext, request_id: str) -> SendRequest:
    request = load(request_id)
    if not can_see_office(ctx, request.office):
        raise NotFound("没有这个发送申请")  # a district does not learn of other districts' sends
    return request


def _save(before: SendRequest, after: SendRequest) -> None:
    """Store a new state if nobody moved the request meanwhile (the status is the guard)."""
    # An update, not a put: the fan-out's counters on the same item must survive.
    item = {k: v for k, v in _item(after).items() if k not in ("pk", "sk")}
    names = {f"#f{i}": name for i, name in enumerate(item)}
    values = {f":v{i}": value for i, value in enumerate(item.values())}
    names["#s"] = "status"
    values.update({":s": before.status, ":u": before.model_dump(mode="json")["updated_at"]})
    try:
        _table().update_item(
            Key=_key(after.request_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(item))),
            ConditionExpression="#s = :s AND updated_at = :u",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("发送申请已被他人处理，请刷新后重试") from error
        raise


def _audit(ctx: Any, action: str, before: SendRequest | None, after: SendRequest) -> None:
    from sms_platform.audit import trail

    trail.record_change(ctx, action, before, after)


def _query_all(**kwargs: Any) -> list[dict[str, Any]]:
    table, items = _table(), []
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def by_status(status: str, *, due_before: datetime | None = None) -> list[SendRequest]:
    condition = "gsi1pk = :p"
    values: dict[str, Any] = {":p": f"send-status#{status}"}
    if due_before is not None:
        condition += " AND gsi1sk <= :d"
        values[":d"] = f"{due_before.astimezone(BEIJING).isoformat()}~"
    return [_from_item(i) for i in _query_all(IndexName="gsi1", KeyConditionExpression=condition,
                                              ExpressionAttributeValues=values)]  # fmt: skip


# ---------------------------------------------------------------------------- proposing


def _segment(ctx: StaffContext, audience: AudienceIn) -> Any:
    """The address-book segment the author may send to: a district office reaches its own district."""
    from sms_platform.contacts.audiences import Segment

    data = audience.model_dump(exclude_none=True)
    if ctx.is_district:
        districts = set(audience.districts) or {ctx.office.value}
        if districts != {ctx.office.value}:
            raise Forbidden("区县只能向本辖区的对象发送")
        data["districts"] = [ctx.office.value]
    try:
        return Segment.model_validate(data)
    except ValueError as error:
        raise ValidationFailed("发送对象不符合要求，请检查区县、险种和标签", field="audience") from error


def _audience_size(ctx: StaffContext, segment: Any) -> int:
    from sms_platform.contacts import audiences, lists

    if segment.list_id:
        meta = lists.get(segment.list_id, kind=segment.kind.value)
        if meta.get("office") and not can_see_office(ctx, meta["office"]):
            raise NotFound("没有这个名单")
    return audiences.count(segment)


def propose(ctx: StaffContext, body: SendRequestIn) -> SendRequest:
    """A new request, waiting for a city reviewer."""
    from sms_platform.templates import signatures, workflow
    from sms_platform.text import sms, templating

    version = workflow.usable_version(body.template_id)
    if version.category not in ("targeted", "publicity"):
        raise ValidationFailed("发送申请只能使用定向通知类或宣传公告类模板", field="template_id")
    if version.office != ctx.office:
        raise Forbidden("只能使用本单位的模板发送（短信签名须为本单位）")
    values = templating.validate_values(version.variables, body.values)
    text = templating.render(version.text, values)
    sign_name = signatures.signature_for(version.office)
    parts = sms.measure(text, sign_name).parts
    now = get_clock().now()
    problem = timing_problem(version.category, body.send_at, now)
    if problem:
        raise ValidationFailed(problem, field="send_at")
    segment = _segment(ctx, body.audience)
    size = _audience_size(ctx, segment)
    if size == 0:
        raise ValidationFailed("所选发送对象中没有可发送的号码", field="audience")
    request = SendRequest(
        request_id=uuid.uuid4().hex,
        kind=version.category,
        kind_name=KIND_NAMES[version.category],
        office=ctx.office,
        office_name=ctx.office_name,
        author=_person(ctx),
        template_id=version.template_id,
        template_version=version.version,
        template_name=version.name,
        carrier_code=version.carrier_code or "",
        sign_name=sign_name,
        text=version.text,
        values=values,
        audience=AudienceIn.model_validate(segment.model_dump(mode="json", exclude_none=True)),
        audience_size=size,
        parts=parts,
        total_parts=parts * size,
        send_at=body.send_at,
        note=body.note,
        status="submitted",
        status_name=STATUS_NAMES["submitted"],
        created_at=now,
        updated_at=now,
    )
    _table().put_item(Item=_item(request), ConditionExpression="attribute_not_exists(pk)")
    _audit(ctx, "send_request.submit", None, request)
    return request


class ReviewView(BaseModel):
    """What a reviewer decides on."""

    request: SendRequest
    sample: str  # the message as the phone shows it, signature included
    characters: int
    audience_size: int  # counted now from the address book's counters
    parts: int
    total_parts: int
    timing: Timing


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


def review_view(ctx: StaffContext, request_id: str) -> ReviewView:
    from sms_platform.text import sms, templating

    request = get_visible(ctx, request_id)
    text = templating.render(request.text, request.values)
    length = sms.measure(text, request.sign_name)
    size = request.audience_size
    if request.status in ("submitted", "approved"):
        from sms_platform.contacts.audiences import Segment, count

        size = count(Segment.model_validate(request.audience.model_dump(exclude_none=True)))
    return ReviewView(
        request=request,
        sample=sms.full_text(text, request.sign_name),
        characters=length.characters,
        audience_size=size,
        parts=length.parts,
        total_parts=length.parts * size,
        timing=timing_of(request, get_clock().now()),
    )


def list_requests(ctx: StaffContext, status: str | None = None) -> list[SendRequest]:
    statuses = [status] if status else list(STATUS_NAMES)
    found = [r for s in statuses for r in by_status(s) if can_see_office(ctx, r.office)]
    return sorted(found, key=lambda r: r.created_at, reverse=True)


# ---------------------------------------------------------------------------- reviewing


def _move(ctx: Any, before: SendRequest, action: str, **changes: Any) -> SendRequest:
    now = get_clock().now()
    status = changes.get("status", before.status)
    after = before.model_copy(update={**changes, "status_name": STATUS_NAMES[status], "updated_at": now})
    _save(before, after)
    _audit(ctx, action, before, after)
    return after


def approve(ctx: StaffContext, request_id: str) -> SendRequest:
    request = get_visible(ctx, request_id)
    refusal = review_refusal(ctx, request.author.account_id)
    if refusal:
        raise Forbidden(refusal)
    if request.status != "submitted":
        raise Conflict(f"该申请{request.status_name}，不在待审核状态")
    if _office_suspended(request.office):
        raise Conflict(f"{request.office_name}已被暂停，不能批准其发送申请")
    now = get_clock().now()
    # A send time that passed while waiting is released at the next tick of the schedule.
    return _move(ctx, request, "send_request.approve", status="approved", reviewer=_person(ctx), reviewed_at=now)


def reject(ctx: StaffContext, request_id: str, reason: str) -> SendRequest:
    request = get_visible(ctx, request_id)
    refusal = review_refusal(ctx, request.author.account_id)
    if refusal:
        raise Forbidden(refusal)
    if request.status != "submitted":
        raise Conflict(f"该申请{request.status_name}，不在待审核状态")
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写不通过的原因", field="reason")
    return _move(ctx, request, "send_request.reject", status="rejected", reviewer=_person(ctx),
                 reviewed_at=get_clock().now(), reject_reason=reason)  # fmt: skip


def cancel(ctx: StaffContext, request_id: str) -> SendRequest:
    request = get_visible(ctx, request_id)
    refusal = cancel_refusal(ctx, request.author.account_id, request.status)
    if refusal:
        raise Conflict(refusal) if request.status not in CANCELLABLE else Forbidden(refusal)
    return _move(ctx, request, "send_request.cancel", status="cancelled", cancelled_by=_person(ctx))


def stop(ctx: StaffContext, request_id: str, reason: str) -> SendRequest:
    """Stop a send under way: the fan-out records everyone not yet queued as suppressed, and the
    dispatcher suppresses every queued message of the send (a hold on its source)."""
    from sms_platform.sending import message_store

    request = get_visible(ctx, request_id)
    refusal = stop_refusal(ctx, request.status)
    if refusal:
        raise Forbidden(refusal) if request.status in STOPPABLE else Conflict(refusal)
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写停止发送的原因", field="reason")
    # The hold first: from this moment no queued message of the send goes to the carrier.
    message_store.place_hold("source", request.source_id, reason, get_clock().now())
    return _move(ctx, request, "send_request.stop", status="stopped", stopped_by=_person(ctx), stop_reason=reason)


# ---------------------------------------------------------------------------- suspended offices


def _office_suspended(office: Office) -> bool:
    from sms_platform.staff import account_store

    return account_store.office_suspended(office)


def _halt(ctx: Any, request: SendRequest) -> str | None:
    """Cancel or stop one request of a suspended office; what was done (None: nothing to do)."""
    if request.status in CANCELLABLE:
        _move(ctx, request, "send_request.cancel", status="cancelled", cancel_reason=OFFICE_SUSPENDED,
              cancelled_by=_person(ctx) if ctx else None)  # fmt: skip
        return "cancelled"
    if request.status == "sending":
        from sms_platform.sending import message_store

        # As in ``stop``: the hold first, then the fan-out records the rest suppressed.
        message_store.place_hold("source", request.source_id, OFFICE_SUSPENDED, get_clock().now())
        _move(ctx, request, "send_request.stop", status="stopped", stop_reason=OFFICE_SUSPENDED,
              stopped_by=_person(ctx) if ctx else None)  # fmt: skip
        return "stopped"
    return None  # finished, or fanned out: its queued messages are under the office's message hold


def halt_office(ctx: StaffContext | None, office: Office | str) -> dict[str, list[str]]:
    """Stop everything pending of a suspended office (R18); safe to repeat.

    Submitted and approved requests are cancelled, sends being expanded are stopped. The
    statuses are read in the order requests move through them, so a request that moves on while
    this runs is met again further on; a request moved by someone else between our read and our
    write is read again.
    """
    office = Office(office)
    done: dict[str, list[str]] = {"cancelled": [], "stopped": []}
    for status in ("submitted", "approved", "sending"):
        for request in by_status(status):
            if request.office != office:
                continue
            for _ in range(3):
                try:
                    outcome = _halt(ctx, request)
                except Conflict:
                    request = load(request.request_id)
                    continue
                if outcome and request.request_id not in done[outcome]:
                    done[outcome].append(request.request_id)
                break
            else:
                raise Conflict("发送申请正在被他人处理，请稍后重试暂停")
    return done


# ---------------------------------------------------------------------------- test sends


def _phone_key(account_id: str, what: str) -> dict[str, str]:
    return {"pk": f"testphone#{account_id}", "sk": what}


def verified_phone(ctx: StaffContext) -> dict[str, Any] | None:
    item = _table().get_item(Key=_phone_key(ctx.account_id, "phone"), ConsistentRead=True).get("Item")
    return {"phone_masked": item["phone_masked"], "verified_at": item["verified_at"]} if item else None


def verified_number(account_id: str) -> tuple[str, str] | None:
    """The number an account's owner proved with a code, in clear and masked (None when there is
    none): where their test sends go, and their temporary password after a reset
    (``password_delivery``)."""
    from sms_platform.foundation import crypto

    item = _table().get_item(Key=_phone_key(account_id, "phone"), ConsistentRead=True).get("Item")
    return (crypto.decrypt(item["phone_token"]), item["phone_masked"]) if item else None


def _verification_template(now: datetime) -> Any:
    from sms_platform.sources import channel_sends, subscriptions

    template_id = subscriptions.settings()["otp_template_id"]
    template = channel_sends.active_template(template_id, now) if template_id else None
    if template is None:
        raise Conflict("验证码短信模板尚未配置，暂时无法验证手机号")
    return template


def request_phone_code(ctx: StaffContext, raw_phone: str) -> dict[str, Any]:
    """Send a 6-digit code to the number the author wants test sends on (``verification_codes``:
    5 a day at most)."""
    from sms_platform.foundation import crypto
    from sms_platform.foundation.identifiers import mask_mobile, normalize_mobile
    from sms_platform.sending.lanes import SmsKind
    from sms_platform.sources import channel_sends, verification_codes

    phone = normalize_mobile(raw_phone, field="phone")
    now = get_clock().now()
    template = _verification_template(now)
    phone_hash = crypto.keyed_hash(phone)
    day = now.astimezone(BEIJING).date()
    sequence = verification_codes.count_today(_table(), _phone_key(ctx.account_id, f"day#{day.isoformat()}"), now)
    code = verification_codes.new_code()
    kept = {"phone_token": crypto.encrypt(phone), "phone_hash": phone_hash, "phone_masked": mask_mobile(phone)}
    key = _phone_key(ctx.account_id, "code")  # a code proves the number it was sent to, for this account only
    _table().put_item(Item=verification_codes.code_item(key, ctx.account_id, code, now, **kept))
    source = f"testphone:{ctx.account_id[:60]}:{day.isoformat()}:{sequence}"
    channel_sends.send(SmsKind.SYSTEM, source, template, [(phone, {"code": code})])
    return {"phone_masked": mask_mobile(phone), "expires_in": int(verification_codes.TTL.total_seconds())}


def verify_phone_code(ctx: StaffContext, code: str) -> dict[str, Any]:
    from sms_platform.sources import verification_codes

    now = get_clock().now()
    key = _phone_key(ctx.account_id, "code")
    item = verification_codes.check(_table(), key, ctx.account_id, code, now, field="code")
    _table().put_item(
        Item={
            **_phone_key(ctx.account_id, "phone"),
            "phone_token": item["phone_token"],
            "phone_hash": item["phone_hash"],
            "phone_masked": item["phone_masked"],
            "verified_at": now.isoformat(),
        }
    )
    _table().delete_item(Key=key)
    return {"phone_masked": item["phone_masked"], "verified_at": now.isoformat()}


def send_test(ctx: StaffContext, request_id: str) -> dict[str, Any]:
    """One SMS of the request's text to the author's verified phone, on the ``high`` lane."""
    from sms_platform.foundation import crypto
    from sms_platform.sending import outbox
    from sms_platform.sending.lanes import SmsKind

    request = get_visible(ctx, request_id)
    if request.author.account_id != ctx.account_id:
        raise Forbidden("只有申请人可以发送测试短信")
    if request.status != "submitted":
        raise Conflict("只有待审核的申请可以发送测试短信")
    if request.test_sends >= MAX_TEST_SENDS:
        raise RateLimited(f"每个申请最多发送 {MAX_TEST_SENDS} 条测试短信")
    phone_item = _table().get_item(Key=_phone_key(ctx.account_id, "phone"), ConsistentRead=True).get("Item")
    if not phone_item:
        raise Conflict("请先验证用于接收测试短信的手机号")
    try:
        answer = _table().update_item(
            Key=_key(request_id),
            UpdateExpression="ADD test_sends :one",
            ConditionExpression="#s = :submitted AND (attribute_not_exists(test_sends) OR test_sends < :most)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":one": 1, ":submitted": "submitted", ":most": MAX_TEST_SENDS},
            ReturnValues="UPDATED_NEW",
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("该申请已不能发送测试短信") from error
        raise
    number = int(answer["Attributes"]["test_sends"])
    result = outbox.enqueue(
        SmsKind.SYSTEM,
        f"sendtest:{request_id}:{number}",
        request.office.value,
        request.sign_name,
        template_code=request.carrier_code,
        template_id=request.template_id,
        template_version=request.template_version,
        parts=request.parts,
        recipients=[(crypto.decrypt(phone_item["phone_token"]), None)],
        shared_params=request.values,
    )
    return {"queued": result.queued, "phone_masked": phone_item["phone_masked"], "test_sends": number}


# ---------------------------------------------------------------------------- release


def release_due(now: datetime | None = None) -> list[str]:
    """Release every approved request whose time has come (the one-minute schedule calls this).

    Publicity approved outside the window waits for 08:00 here, so nothing is planned at night.
    Releasing is idempotent: the status move is conditional, chunk items are created only once,
    and a release that stopped half-way (planned flag missing) is finished on the next tick.
    """
    from sms_platform.sources import fanout

    now = now or get_clock().now()
    released = []
    suspended: dict[Office, bool] = {}
    for request in by_status("approved", due_before=now):
        if request.kind == "publicity" and not in_publicity_window(now):
            continue
        if request.office not in suspended:
            suspended[request.office] = _office_suspended(request.office)
        if suspended[request.office]:
            with suppress(Conflict):  # someone else moved it meanwhile
                _halt(None, request)  # approved before the suspension took effect: never released
            continue
        try:
            after = _move(None, request, "send_request.release", status="sending", released_at=now)
        except Conflict:
            continue  # cancelled or released by someone else meanwhile
        fanout.plan(after)
        released.append(after.request_id)
    for request in by_status("sending"):
        item = load_item(request.request_id)
        if not item.get("planned") and request.released_at and now - request.released_at > timedelta(minutes=2):
            fanout.plan(request)
    return released


def mark_planned(request_id: str, chunks: int, day: date) -> None:
    _table().update_item(
        Key=_key(request_id),
        UpdateExpression="SET planned = :t, chunks_total = :n",
        ExpressionAttributeValues={":t": True, ":n": chunks},
    )


def record_day(request: SendRequest, day: date) -> None:
    _table().put_item(
        Item={"pk": f"sends-day#{day.isoformat()}", "sk": f"{request.office.value}#{request.request_id}",
              "request_id": request.request_id, "office": request.office.value}
    )  # fmt: skip


def sends_of_day(day: date) -> list[str]:
    items = _query_all(
        KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": f"sends-day#{day.isoformat()}"}
    )
    return [i["request_id"] for i in items]


def finish_fanout(request_id: str) -> None:
    """Every chunk is done: a send still ``sending`` becomes ``fanned_out``."""
    try:
        _table().update_item(
            Key=_key(request_id),
            UpdateExpression="SET #s = :done, gsi1pk = :g",
            ConditionExpression="#s = :sending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": "fanned_out", ":g": "send-status#fanned_out", ":sending": "sending"},
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
