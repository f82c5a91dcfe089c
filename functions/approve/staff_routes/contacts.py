"""The address book for staff (R10, R15): collect, import, look up, reveal, opt-outs, audiences.

Numbers travel only in request bodies, never in URLs; every answer shows them masked except
the audited reveal. A district office works on its own district only. Every change is audited
by the service that makes it (``sms_platform.contacts``), which also shapes the answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.contacts.audiences import Segment
from sms_platform.contacts.models import Kind
from sms_platform.contacts.views_models import (
    AudienceCount,
    ContactBatch,
    ContactDetail,
    ContactPage,
    ContactSearch,
    ImportCreated,
    ImportProgress,
    ImportReport,
    ListChecked,
    ListCreated,
    OptOutChange,
    RevealedPhone,
    SourceGrants,
)
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["通讯录"]
WRITE = (Role.city_operator, Role.district_operator)
READ = (Role.city_operator, Role.city_reviewer, Role.district_operator, Role.phone_reveal)
OPT = (Role.city_operator, Role.district_operator, Role.hotline_manager, Role.hotline_agent)


# ------------------------------------------------------------------ request bodies


class BatchIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"contacts": "通讯录记录"}))

    contacts: list[dict[str, Any]] = Field(
        min_length=1, max_length=500, description="每条：kind、id、name、district、phones[]、insurance_types、tags…"
    )


class SearchIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"kind": "对象类型", "id": "证件号码"}))

    kind: Kind | None = Field(default=None, description="按证件查找时必填")
    id: str | None = Field(default=None, max_length=32, description="公民身份号码或统一社会信用代码")
    phone: str | None = Field(default=None, max_length=32, description="手机号码")


class RevealIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"reason": "查看事由"}))

    reason: Annotated[str, Visible("事由", multiline=True)] = Field(
        min_length=1, max_length=200, description="查看完整号码的事由（将记入审计）"
    )


class OptIn(BaseModel):
    phone: str = Field(min_length=1, max_length=32, description="手机号码")
    reason: Annotated[str, Visible("事由", multiline=True)] = Field(
        min_length=2, max_length=200, description="事由，如“本人来电要求退订”"
    )


class ListIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"kind": "对象类型"}))

    kind: Kind


# ------------------------------------------------------------------ collection


@router.post("/contacts/batch", summary="批量采集通讯录（逐条校验，可重复提交）", tags=TAGS)
@allow(*WRITE)
def upsert_batch(body: Annotated[BatchIn, Body()]) -> ContactBatch:
    from sms_platform.contacts import collection

    return collection.collect(current_staff(), body.contacts, now=get_clock().now())


@router.post("/contacts/imports", summary="新建导入：取得 CSV 文件的上传地址", tags=TAGS, status_code=201)
@allow(*WRITE)
def create_import() -> ImportCreated:
    from sms_platform.contacts import imports

    return imports.create(current_staff(), now=get_clock().now())


@router.post("/contacts/imports/<import_id>/start", summary="文件已上传，开始导入", tags=TAGS, status_code=202)
@allow(*WRITE)
def start_import(import_id: str) -> ImportProgress:
    from sms_platform.contacts import imports

    return imports.start(current_staff(), import_id, now=get_clock().now())


@router.get("/contacts/imports/<import_id>", summary="导入进度", tags=TAGS)
@allow(*WRITE)
def import_progress(import_id: str) -> ImportProgress:
    from sms_platform.contacts import imports

    return imports.get(current_staff(), import_id)


@router.get("/contacts/imports/<import_id>/report", summary="下载被拒行报告（号码已脱敏）", tags=TAGS)
@allow(*WRITE)
def import_report(import_id: str) -> ImportReport:
    from sms_platform.contacts import imports

    return imports.report_url(current_staff(), import_id)


# ------------------------------------------------------------------ looking up


@router.get("/contacts", summary="按区县浏览通讯录：按姓名排序、分页，附记录总数（号码已脱敏）", tags=TAGS)
@allow(*READ)
def list_contacts(
    kind: Annotated[Kind, Query()],
    district: Annotated[str, Query(description="区县代码，如 wendeng")],
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ContactPage:
    from sms_platform.contacts import views

    return views.page(current_staff(), kind.value, district, cursor=cursor, limit=limit)


@router.post("/contacts/search", summary="按证件号码或手机号码查找（号码放在请求体中）", tags=TAGS)
@allow(*READ)
def search(body: Annotated[SearchIn, Body()]) -> ContactSearch:
    from sms_platform.contacts import views

    kind = body.kind.value if body.kind else None
    return views.search(current_staff(), phone=body.phone, kind=kind, identifier=body.id)


@router.get("/contacts/<ref>", summary="通讯录记录详情（号码已脱敏，含号码历史）", tags=TAGS)
@allow(*READ)
def get_contact(ref: str) -> ContactDetail:
    from sms_platform.contacts import views

    return views.contact(current_staff(), ref)


@router.post("/contacts/<ref>/reveal", summary="查看完整号码（需专门权限，须填写事由，记入审计）", tags=TAGS)
@allow(Role.phone_reveal)
def reveal(ref: str, body: Annotated[RevealIn, Body()]) -> RevealedPhone:
    from sms_platform.contacts import views

    return views.reveal(current_staff(), ref, body.reason, now=get_clock().now())


# ------------------------------------------------------------------ opt-outs


@router.post("/contacts/opt-outs", summary="应本人要求退订宣传类短信", tags=TAGS)
@allow(*OPT)
def opt_out(body: Annotated[OptIn, Body()]) -> OptOutChange:
    from sms_platform.contacts import optout_requests

    return optout_requests.opt_out(current_staff(), body.phone, body.reason, now=get_clock().now())


@router.post("/contacts/opt-ins", summary="应本人要求恢复接收宣传类短信", tags=TAGS)
@allow(*OPT)
def opt_in(body: Annotated[OptIn, Body()]) -> OptOutChange:
    from sms_platform.contacts import optout_requests

    return optout_requests.opt_in(current_staff(), body.phone, body.reason, now=get_clock().now())


# ------------------------------------------------------------------ audiences


@router.post("/audiences/count", summary="发送对象人数（由计数器即时得出）", tags=TAGS)
@allow(*READ)
def count_audience(body: Annotated[Segment, Body()]) -> AudienceCount:
    from sms_platform.contacts import audiences

    return audiences.count_for(current_staff(), body)


@router.post(
    "/audiences/lists", summary="上传名单（证件号码或信用代码，每行一个）：取得上传地址", tags=TAGS, status_code=201
)
@allow(*WRITE)
def create_list(body: Annotated[ListIn, Body()]) -> ListCreated:
    from sms_platform.contacts import lists

    return lists.create(current_staff(), body.kind.value, now=get_clock().now())


@router.post("/audiences/lists/<list_id>/complete", summary="名单已上传：校验并统计人数", tags=TAGS)
@allow(*WRITE)
def complete_list(list_id: str) -> ListChecked:
    from sms_platform.contacts import lists

    return lists.complete(current_staff(), list_id, now=get_clock().now())


# ------------------------------------------------------------------ channel keys


@router.get("/contact-grants/<api_key_id>", summary="渠道 API 密钥可提交的号码来源", tags=TAGS)
@allow(Role.it_ops)
def list_source_grants(api_key_id: str) -> SourceGrants:
    from sms_platform.contacts import channels

    return channels.grants(api_key_id)


@router.put("/contact-grants/<api_key_id>/<source>", summary="授予号码来源渠道", tags=TAGS)
@allow(Role.it_ops)
def add_source_grant(api_key_id: str, source: str) -> SourceGrants:
    from sms_platform.contacts import channels

    return channels.grant(current_staff(), api_key_id, source, now=get_clock().now())


@router.delete("/contact-grants/<api_key_id>/<source>", summary="收回号码来源渠道", tags=TAGS)
@allow(Role.it_ops)
def remove_source_grant(api_key_id: str, source: str) -> SourceGrants:
    from sms_platform.contacts import channels

    return channels.revoke(current_staff(), api_key_id, source, now=get_clock().now())
