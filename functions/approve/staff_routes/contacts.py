"""The address book for staff (R10, R15): collect, import, look up, reveal, opt-outs, audiences.

Numbers travel only in request bodies, never in URLs; every answer shows them masked except
the audited reveal. A district office works on its own district only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, Field
from sms_platform.audit import trail
from sms_platform.contacts import views
from sms_platform.contacts.audiences import Segment
from sms_platform.contacts.models import Kind
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["通讯录"]
WRITE = (Role.city_operator, Role.district_operator)
READ = (Role.city_operator, Role.city_reviewer, Role.district_operator, Role.phone_reveal)
OPT = (Role.city_operator, Role.district_operator, Role.hotline_manager, Role.hotline_agent)


# ------------------------------------------------------------------ models


class BatchIn(BaseModel):
    contacts: list[dict[str, Any]] = Field(
        min_length=1, max_length=500, description="每条：kind、id、name、district、phones[]、insurance_types、tags…"
    )


class RecordResultOut(BaseModel):
    index: int
    status: Literal["created", "updated", "unchanged", "rejected"]
    ref: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class BatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    results: list[RecordResultOut]


class ContactSummary(BaseModel):
    ref: str
    kind: str
    kind_name: str
    id_masked: str
    name: str
    district: str
    district_name: str
    phone_masked: str | None
    phone_verified: bool


class PhoneOut(BaseModel):
    phone_masked: str
    source: str
    source_name: str
    collected_at: str
    verified: bool
    contact_name: str | None
    in_use: bool


class ContactDetail(ContactSummary):
    insurance_types: list[str]
    insurance_names: list[str]
    employer: str | None
    tags: list[str]
    opted_out: bool | None
    updated_at: str | None
    phones: list[PhoneOut]


class ContactPage(BaseModel):
    contacts: list[ContactSummary]
    cursor: str | None = Field(description="下一页的游标；没有更多时为空")


class SearchIn(BaseModel):
    kind: Kind | None = Field(default=None, description="按证件查找时必填")
    id: str | None = Field(default=None, max_length=32, description="公民身份号码或统一社会信用代码")
    phone: str | None = Field(default=None, max_length=32, description="手机号码")


class SearchOut(BaseModel):
    contacts: list[ContactSummary]


class RevealIn(BaseModel):
    reason: Annotated[str, Visible("事由", multiline=True)] = Field(
        min_length=1, max_length=200, description="查看完整号码的事由（将记入审计）"
    )


class RevealOut(BaseModel):
    ref: str
    phone: str
    phone_masked: str
    revealed_at: str


class ImportCreated(BaseModel):
    import_id: str
    upload_url: str = Field(description="用 PUT 上传 CSV 文件到此地址")
    method: str
    headers: dict[str, str]
    expires_in: int


class ImportProgress(BaseModel):
    import_id: str
    status: str = Field(description="uploading、queued、running、done 或 failed")
    rows_total: int
    rows_done: int
    accepted: int
    rejected: int
    chunks: int
    chunks_done: int
    error: str | None = None
    created_at: str
    finished_at: str | None = None


class ReportOut(BaseModel):
    import_id: str
    url: str = Field(description="被拒行报告（CSV，号码已脱敏）的下载地址")
    expires_in: int
    rejected: int


class OptIn(BaseModel):
    phone: str = Field(min_length=1, max_length=32, description="手机号码")
    reason: Annotated[str, Visible("事由", multiline=True)] = Field(
        min_length=2, max_length=200, description="事由，如“本人来电要求退订”"
    )


class OptOut(BaseModel):
    phone_masked: str
    opted_out: bool
    changed_at: str
    applied: bool = Field(description="为 false 时表示已有更新的选择，本次未改变当前状态")


class CountOut(BaseModel):
    count: int


class ListIn(BaseModel):
    kind: Kind


class ListCreated(BaseModel):
    list_id: str
    upload_url: str
    headers: dict[str, str]
    expires_in: int


class ListOut(BaseModel):
    list_id: str
    kind: str
    count: int
    invalid: int


# ------------------------------------------------------------------ collection


@router.post("/contacts/batch", summary="批量采集通讯录（逐条校验，可重复提交）", tags=TAGS)
@allow(*WRITE)
def upsert_batch(body: Annotated[BatchIn, Body()]) -> BatchOut:
    from sms_platform.contacts import collection

    staff = current_staff()
    results = collection.upsert_batch(body.contacts, at=get_clock().now(), districts=views.districts_of(staff))
    counts = dict.fromkeys(("created", "updated", "unchanged", "rejected"), 0)
    for result in results:
        counts[result.status] += 1
    if counts["created"] or counts["updated"]:
        trail.record(staff, "contacts.upsert", "contacts:batch", None, counts)
    return BatchOut(**counts, results=[RecordResultOut(**r.model_dump()) for r in results])


@router.post("/contacts/imports", summary="新建导入：取得 CSV 文件的上传地址", tags=TAGS, status_code=201)
@allow(*WRITE)
def create_import() -> ImportCreated:
    from sms_platform.contacts import imports

    staff = current_staff()
    created = imports.create(
        office=staff.office.value,
        account_id=staff.account_id,
        districts=views.districts_of(staff),
        at=get_clock().now(),
    )
    trail.record(staff, "contacts.import.create", f"contacts-import:{created['import_id']}")
    return ImportCreated(**created)


@router.post("/contacts/imports/<import_id>/start", summary="文件已上传，开始导入", tags=TAGS, status_code=202)
@allow(*WRITE)
def start_import(import_id: str) -> ImportProgress:
    from sms_platform.contacts import imports

    staff = current_staff()
    progress = imports.start(import_id, office=staff.office.value)
    trail.record(staff, "contacts.import.start", f"contacts-import:{import_id}")
    return ImportProgress(**progress)


@router.get("/contacts/imports/<import_id>", summary="导入进度", tags=TAGS)
@allow(*WRITE)
def import_progress(import_id: str) -> ImportProgress:
    from sms_platform.contacts import imports

    return ImportProgress(**imports.get(import_id, office=current_staff().office.value))


@router.get("/contacts/imports/<import_id>/report", summary="下载被拒行报告（号码已脱敏）", tags=TAGS)
@allow(*WRITE)
def import_report(import_id: str) -> ReportOut:
    from sms_platform.contacts import imports

    return ReportOut(**imports.report_url(import_id, office=current_staff().office.value))


# ------------------------------------------------------------------ looking up


@router.get("/contacts", summary="按区县浏览通讯录（号码已脱敏）", tags=TAGS)
@allow(*READ)
def list_contacts(
    kind: Annotated[Kind, Query()],
    district: Annotated[str, Query(description="区县代码，如 wendeng")],
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ContactPage:
    from sms_platform.contacts import repository
    from sms_platform.contacts.models import district_code
    from sms_platform.foundation.errors import ValidationFailed

    try:
        code = district_code(district)
    except ValueError:
        raise ValidationFailed("区县代码无效", field="district") from None
    views.check_district(current_staff(), code)
    found, next_cursor = repository.list_page(kind.value, code, cursor=cursor, limit=limit)
    return ContactPage(contacts=[ContactSummary(**views.summary(c)) for c in found], cursor=next_cursor)


@router.post("/contacts/search", summary="按证件号码或手机号码查找（号码放在请求体中）", tags=TAGS)
@allow(*READ)
def search(body: Annotated[SearchIn, Body()]) -> SearchOut:
    from sms_platform.contacts import lookups, repository, validation
    from sms_platform.foundation.errors import ValidationFailed

    staff = current_staff()
    allowed = views.districts_of(staff)
    if body.phone:
        try:
            phone = validation.mobile(body.phone)
        except ValueError as error:
            raise ValidationFailed(str(error), field="phone") from None
        found = repository.find_by_phone(phone)
    elif body.id and body.kind:
        contact = lookups.find(body.kind.value, body.id)
        found = [contact] if contact else []
    else:
        raise ValidationFailed("请提供手机号码，或对象类型和证件号码", field="body")
    shown = [c for c in found if allowed is None or c.district in allowed]
    return SearchOut(contacts=[ContactSummary(**views.summary(c)) for c in shown])


@router.get("/contacts/<ref>", summary="通讯录记录详情（号码已脱敏，含号码历史）", tags=TAGS)
@allow(*READ)
def get_contact(ref: str) -> ContactDetail:
    from sms_platform.contacts import repository
    from sms_platform.sending import optouts

    contact = views.visible(current_staff(), repository.get_by_ref(ref))
    phone = contact.current_phone
    opted_out = optouts.is_opted_out(phone.hash) if phone else None
    return ContactDetail(**views.detail(contact, opted_out))


@router.post("/contacts/<ref>/reveal", summary="查看完整号码（需专门权限，须填写事由，记入审计）", tags=TAGS)
@allow(Role.phone_reveal)
def reveal(ref: str, body: Annotated[RevealIn, Body()]) -> RevealOut:
    from sms_platform.contacts import repository

    staff = current_staff()
    contact = views.visible(staff, repository.get_by_ref(ref))
    return RevealOut(**views.reveal(staff, contact, body.reason, get_clock().now()))


# ------------------------------------------------------------------ opt-outs


def _opt(body: OptIn, opted_out: bool) -> OptOut:
    from sms_platform.contacts import validation
    from sms_platform.foundation.errors import ValidationFailed
    from sms_platform.sending import optouts

    staff = current_staff()
    try:
        phone = validation.mobile(body.phone)
    except ValueError as error:
        raise ValidationFailed(str(error), field="phone") from None
    reason = body.reason.strip()
    at = get_clock().now()
    change = optouts.opt_out if opted_out else optouts.opt_in
    applied = change(phone, f"staff:{staff.office.value}", reason, at)
    masked = validation.mask_mobile(phone)
    action = "contacts.opt_out" if opted_out else "contacts.opt_in"
    trail.record(staff, action, f"phone:{masked}", None, {"opted_out": opted_out, "reason": reason, "applied": applied})
    return OptOut(phone_masked=masked, opted_out=opted_out, changed_at=at.isoformat(), applied=applied)


@router.post("/contacts/opt-outs", summary="应本人要求退订宣传类短信", tags=TAGS)
@allow(*OPT)
def opt_out(body: Annotated[OptIn, Body()]) -> OptOut:
    return _opt(body, True)


@router.post("/contacts/opt-ins", summary="应本人要求恢复接收宣传类短信", tags=TAGS)
@allow(*OPT)
def opt_in(body: Annotated[OptIn, Body()]) -> OptOut:
    return _opt(body, False)


# ------------------------------------------------------------------ audiences


@router.post("/audiences/count", summary="发送对象人数（由计数器即时得出）", tags=TAGS)
@allow(*READ)
def count_audience(body: Annotated[Segment, Body()]) -> CountOut:
    from sms_platform.contacts import audiences

    staff = current_staff()
    allowed = views.districts_of(staff)
    if allowed is not None:
        for district in body.districts:
            views.check_district(staff, district)
        if body.list_id:
            from sms_platform.contacts import lists

            lists.check_office(body.list_id, staff.office.value)
        body = body.model_copy(update={"districts": tuple(sorted(allowed))})
    return CountOut(count=audiences.count(body))


@router.post(
    "/audiences/lists", summary="上传名单（证件号码或信用代码，每行一个）：取得上传地址", tags=TAGS, status_code=201
)
@allow(*WRITE)
def create_list(body: Annotated[ListIn, Body()]) -> ListCreated:
    from sms_platform.contacts import lists

    staff = current_staff()
    created = lists.create(body.kind.value, office=staff.office.value, at=get_clock().now())
    trail.record(staff, "audience.list.create", f"audience-list:{created['list_id']}")
    return ListCreated(**created)


@router.post("/audiences/lists/<list_id>/complete", summary="名单已上传：校验并统计人数", tags=TAGS)
@allow(*WRITE)
def complete_list(list_id: str) -> ListOut:
    from sms_platform.contacts import lists

    staff = current_staff()
    if views.districts_of(staff) is not None:
        lists.check_office(list_id, staff.office.value)
    result = lists.complete(list_id)
    trail.record(staff, "audience.list.complete", f"audience-list:{list_id}", None, {"count": result["count"]})
    return ListOut(**result)


# ------------------------------------------------------------------ channel keys


class SourceGrantsOut(BaseModel):
    api_key_id: str
    sources: list[str] = Field(description="该密钥可提交的号码来源渠道")


@router.get("/contact-grants/<api_key_id>", summary="渠道 API 密钥可提交的号码来源", tags=TAGS)
@allow(Role.it_ops)
def list_source_grants(api_key_id: str) -> SourceGrantsOut:
    from sms_platform.contacts import channels

    return SourceGrantsOut(api_key_id=api_key_id, sources=channels.sources_of(api_key_id))


@router.put("/contact-grants/<api_key_id>/<source>", summary="授予号码来源渠道", tags=TAGS)
@allow(Role.it_ops)
def add_source_grant(api_key_id: str, source: str) -> SourceGrantsOut:
    from sms_platform.contacts import channels

    staff = current_staff()
    before = channels.sources_of(api_key_id)
    after = channels.grant(api_key_id, source, by=staff.account_id, at=get_clock().now())
    trail.record(staff, "contact_grant.add", f"api_key:{api_key_id}", {"sources": before}, {"sources": after})
    return SourceGrantsOut(api_key_id=api_key_id, sources=after)


@router.delete("/contact-grants/<api_key_id>/<source>", summary="收回号码来源渠道", tags=TAGS)
@allow(Role.it_ops)
def remove_source_grant(api_key_id: str, source: str) -> SourceGrantsOut:
    from sms_platform.contacts import channels

    staff = current_staff()
    before = channels.sources_of(api_key_id)
    after = channels.revoke(api_key_id, source)
    trail.record(staff, "contact_grant.remove", f"api_key:{api_key_id}", {"sources": before}, {"sources": after})
    return SourceGrantsOut(api_key_id=api_key_id, sources=after)
