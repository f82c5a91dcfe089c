"""Templates (R11, R12, R17, R19): writing, review by the city office, carrier filing, versions,
and the word list reviewers maintain. District staff see their own district's templates only;
every change is made and audited with its before and after by ``sms_platform.templates.workflow``
and ``words``, which answer with the models returned here."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff
from sms_platform.templates import words, workflow
from sms_platform.templates.models import (
    Template,
    TemplateContent,
    TemplateDraft,
    TemplatesOut,
    TemplateVersion,
    VersionsOut,
    WordsOut,
)

router = Router()
TAGS = ["短信模板"]
AUTHORS = (Role.city_operator, Role.district_operator, Role.hotline_manager, Role.it_ops)
READERS = (*AUTHORS, Role.city_reviewer, Role.auditor)
REVIEWERS = (Role.city_reviewer,)

VersionNumber = Annotated[int, Path(ge=1, le=9999, description="版本号")]


class ApprovalIn(BaseModel):
    note: Annotated[str | None, Visible("审核意见", multiline=True)] = Field(
        default=None, max_length=200, description="审核意见（可选）"
    )


class RejectionIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"reason": "不通过的原因"}))

    reason: Annotated[str, Visible("原因", multiline=True)] = Field(
        min_length=2, max_length=200, description="不通过的原因，将告知编写人"
    )


class RetirementIn(BaseModel):
    reason: Annotated[str, Visible("停用原因", multiline=True)] = Field(
        min_length=2, max_length=200, description="停用原因"
    )


class WordIn(BaseModel):
    word: Annotated[str, Visible("禁用词")] = Field(min_length=1, max_length=30, description="禁用词")


@router.get("/templates", summary="模板列表（区县只看到本区县的）", tags=TAGS)
@allow(*READERS)
def list_templates(
    office: Annotated[Office | None, Query(title="单位", description="只列出此单位的模板")] = None,
    status: Annotated[str | None, Query(title="状态", description="只列出有此状态版本的模板", max_length=20)] = None,
) -> TemplatesOut:
    return workflow.list_templates(current_staff(), office=office, status=status)


@router.post("/templates", summary="新建模板（第 1 版草稿）", tags=TAGS, status_code=201)
@allow(*AUTHORS)
def create_template(body: Annotated[TemplateDraft, Body()]) -> Template:
    return workflow.create_template(current_staff(), body, now=get_clock().now())


@router.get("/templates/<template_id>", summary="查看模板及其所有版本", tags=TAGS)
@allow(*READERS)
def get_template(template_id: str) -> Template:
    return workflow.get_template(current_staff(), template_id)


@router.post(
    "/templates/<template_id>/versions", summary="新建版本（修改已启用或审核未通过的模板）", tags=TAGS, status_code=201
)
@allow(*AUTHORS)
def new_version(template_id: str, body: Annotated[TemplateContent, Body()]) -> TemplateVersion:
    return workflow.new_version(current_staff(), template_id, body, now=get_clock().now())


@router.put("/templates/<template_id>/versions/<version>", summary="修改草稿", tags=TAGS)
@allow(*AUTHORS)
def update_draft(template_id: str, version: VersionNumber, body: Annotated[TemplateContent, Body()]) -> TemplateVersion:
    return workflow.update_draft(current_staff(), template_id, version, body, now=get_clock().now())


@router.post(
    "/templates/<template_id>/versions/<version>/submission", summary="提交审核（同时进行内容检查）", tags=TAGS
)
@allow(*AUTHORS)
def submit(template_id: str, version: VersionNumber) -> TemplateVersion:
    return workflow.submit(current_staff(), template_id, version, now=get_clock().now())


@router.post("/templates/<template_id>/versions/<version>/approval", summary="审核通过并向运营商报备", tags=TAGS)
@allow(*REVIEWERS)
def approve(template_id: str, version: VersionNumber, body: Annotated[ApprovalIn, Body()]) -> TemplateVersion:
    return workflow.approve(current_staff(), template_id, version, body.note, now=get_clock().now())


@router.post("/templates/<template_id>/versions/<version>/rejection", summary="审核不通过（须说明原因）", tags=TAGS)
@allow(*REVIEWERS)
def reject(template_id: str, version: VersionNumber, body: Annotated[RejectionIn, Body()]) -> TemplateVersion:
    return workflow.reject(current_staff(), template_id, version, body.reason, now=get_clock().now())


@router.post("/templates/<template_id>/retirement", summary="停用模板", tags=TAGS)
@allow(*AUTHORS)
def retire(template_id: str, body: Annotated[RetirementIn, Body()]) -> TemplateVersion:
    return workflow.retire(current_staff(), template_id, body.reason, now=get_clock().now())


@router.get("/template-reviews", summary="待审核的模板版本及内容检查结果", tags=TAGS)
@allow(*REVIEWERS)
def review_queue() -> VersionsOut:
    return workflow.review_queue(current_staff())


@router.get("/forbidden-words", summary="禁用词表", tags=TAGS)
@allow(*REVIEWERS)
def list_words() -> WordsOut:
    return words.word_list(current_staff())


@router.post("/forbidden-words", summary="添加禁用词", tags=TAGS, status_code=201)
@allow(*REVIEWERS)
def add_word(body: Annotated[WordIn, Body()]) -> WordsOut:
    return words.add_word(current_staff(), body.word, now=get_clock().now())


@router.post("/forbidden-words/removal", summary="删除禁用词", tags=TAGS)
@allow(*REVIEWERS)
def remove_word(body: Annotated[WordIn, Body()]) -> WordsOut:
    return words.remove_word(current_staff(), body.word, now=get_clock().now())
