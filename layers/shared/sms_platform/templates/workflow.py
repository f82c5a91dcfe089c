"""Message templates (R11, R12, R17, R19): writing, review by the city office, and the version a
send may use.

A reviewer never approves their own text; a rejection carries a reason; forbidden content
blocks approval; a publicity text without the opt-out line is refused outright. An approved
version is filed with the carrier at once (``filing``). A rejected version stays as it is: the
author starts a new version. Changing an active template makes a new version that goes through
the same steps while the active one keeps serving; when the new one becomes active the old one
is retired. Every version stays readable, and every change is audited with its before and after,
at the ``now`` the step is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sms_platform.audit import trail
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict, ContentRejected, Forbidden, Gone, NotFound, ValidationFailed
from sms_platform.staff.context import Office, StaffContext, can_see_office, visible_offices
from sms_platform.templates import filing, store
from sms_platform.templates.models import (
    CATEGORY_NAMES,
    IN_PROGRESS,
    STATUS_NAMES,
    FindingOut,
    Person,
    Template,
    TemplateContent,
    TemplateDraft,
    TemplatesOut,
    TemplateVersion,
    VersionsOut,
    day_of,
    ended,
    may_author,
    may_review,
    moved,
    opt_out_problem,
    validity_problems,
)
from sms_platform.templates.signatures import signature_for
from sms_platform.templates.words import forbidden_words
from sms_platform.text.content import review_content
from sms_platform.text.templating import VariableSpec, check_declarations

# ---------------------------------------------------------------------------- checks


def _visible(ctx: StaffContext, template: Template) -> Template:
    if not can_see_office(ctx, template.office):
        raise NotFound("没有这个模板")  # a district does not learn of other districts' templates
    return template


def _must_author(ctx: StaffContext, template: Template) -> None:
    if not may_author(ctx, template.category, template.office):
        raise Forbidden("无权修改该模板")


def _must_review(ctx: StaffContext, version: TemplateVersion) -> None:
    """A city reviewer, on a submitted version someone else wrote."""
    if version.status != "submitted":
        raise Conflict(f"该版本{version.status_name}，不在待审核状态")
    if version.author.account_id == ctx.account_id:
        raise Forbidden("不能审核自己编写的模板，请由其他审核员审核")


def _check_content(category: str, content: TemplateContent, day: date) -> None:
    problems = validity_problems(content.valid_from, content.valid_until, on=day)
    if problems:
        raise ValidationFailed("；".join(problems), field="valid_until")
    opt_out = opt_out_problem(category, content.text)
    if opt_out:
        raise ContentRejected(opt_out, field="text")
    check_declarations(content.text, content.variables)


def _findings(template: Template | TemplateVersion, text: str, variables: Iterable[VariableSpec]) -> list[FindingOut]:
    findings = review_content(
        text,
        signature=signature_for(template.office),
        category=template.category,
        forbidden_words=forbidden_words(),
        variables=list(variables),
    )
    return [FindingOut(level=f.level, code=f.code, message=f.message) for f in findings]


# ---------------------------------------------------------------------------- reading


def find_template(template_id: str) -> Template:
    """A template with every version, for the platform's own use (no staff scoping); NotFound if none."""
    return store.load(template_id)


def get_template(ctx: StaffContext, template_id: str) -> Template:
    return _visible(ctx, store.load(template_id))


def list_templates(
    ctx: StaffContext, *, office: Office | str | None = None, status: str | None = None
) -> TemplatesOut:
    """Templates of the offices ``ctx`` may see (one office if named), newest first, each with its
    versions; ``status`` keeps those with a version in that status."""
    offices = sorted(visible_offices(ctx))
    if office is not None:
        office = Office(office)
        if office not in offices:
            raise Forbidden("只能查看本单位的模板")
        offices = [office]
    found = []
    for each in offices:
        for template_id in store.template_ids_of(each.value):
            template = store.load(template_id)
            if status is None or any(v.status == status for v in template.versions):
                found.append(template)
    return TemplatesOut(templates=sorted(found, key=lambda t: t.created_at, reverse=True))


def review_queue(ctx: StaffContext) -> VersionsOut:
    """Versions waiting for review, oldest first, with their findings."""
    versions = [v for v in store.versions_in("submitted") if can_see_office(ctx, v.office)]
    return VersionsOut(versions=sorted(versions, key=lambda v: v.submitted_at or v.created_at))


def usable_version(template_id: str, *, category: str | None = None, now: datetime | None = None) -> TemplateVersion:
    """The version a send must use: the active one, inside its validity on the date of ``now``
    (a platform send without a time of its own: the clock's).

    Raises ``NotFound`` for an unknown template, ``Conflict`` when none is active (or of
    another category) and ``Gone`` when its validity has ended (before the poller noticed).
    """
    template = store.load(template_id)
    if template.active_version is None:
        raise Conflict("该模板没有启用中的版本，不能发送")
    version = template.numbered(template.active_version)
    if category is not None and version.category != category:
        raise Conflict(
            f"该模板属于{CATEGORY_NAMES[version.category]}，不能用于{CATEGORY_NAMES.get(category, category)}"
        )
    day = day_of(now or get_clock().now())
    if day > version.valid_until:
        raise Gone("模板有效期已结束，不能发送")
    if day < version.valid_from:
        raise Conflict("模板尚未到生效日期，不能发送")
    return version


# ---------------------------------------------------------------------------- authoring


def create_template(ctx: StaffContext, draft: TemplateDraft, *, now: datetime) -> Template:
    """A new template with its first version as a draft."""
    if not may_author(ctx, draft.category, draft.office):
        raise Forbidden("无权为该单位编写这一类模板")
    _check_content(draft.category, draft, day_of(now))
    template_id = f"tpl-{uuid.uuid4().hex[:12]}"
    version = TemplateVersion(
        template_id=template_id,
        version=1,
        status="draft",
        status_name=STATUS_NAMES["draft"],
        author=Person.of(ctx),
        created_at=now,
        updated_at=now,
        **draft.model_dump(),
    )
    head = Template(
        template_id=template_id,
        name=draft.name,
        category=draft.category,
        office=draft.office,
        latest_version=1,
        created_at=now,
    )
    store.create(head, version)
    trail.record_change(ctx, "template.create", None, version, at=now)
    head.versions = [version]
    return head


def update_draft(
    ctx: StaffContext, template_id: str, version: int, content: TemplateContent, *, now: datetime
) -> TemplateVersion:
    """Change a draft before it is submitted."""
    template = _visible(ctx, store.load(template_id))
    _must_author(ctx, template)
    before = template.numbered(version)
    if before.status != "draft":
        raise Conflict("只有草稿可以修改；已提交或已启用的模板请新建版本")
    _check_content(template.category, content, day_of(now))
    # Attributes as they are (model_copy does not validate, so no dumping to dicts here).
    changes = {name: getattr(content, name) for name in TemplateContent.model_fields}
    after = before.model_copy(update={**changes, "updated_at": now})
    template.name = content.name
    store.save_version(before, after, template)
    trail.record_change(ctx, "template.update", before, after, at=now)
    return after


def new_version(ctx: StaffContext, template_id: str, content: TemplateContent, *, now: datetime) -> TemplateVersion:
    """A new draft version (changing an active template, or after a rejection). The versions
    before it stay as they are; only one version may be on its way at a time."""
    template = _visible(ctx, store.load(template_id))
    _must_author(ctx, template)
    busy = [v for v in template.versions if v.status in IN_PROGRESS]
    if busy:
        raise Conflict(f"第 {busy[0].version} 版尚在办理中（{busy[0].status_name}），请先完成或撤回")
    _check_content(template.category, content, day_of(now))
    version = TemplateVersion(
        template_id=template_id,
        version=template.latest_version + 1,
        category=template.category,
        office=template.office,
        status="draft",
        status_name=STATUS_NAMES["draft"],
        author=Person.of(ctx),
        created_at=now,
        updated_at=now,
        **content.model_dump(),
    )
    latest_before = template.latest_version
    template.latest_version = version.version
    template.name = content.name
    store.add_version(template, version, latest_before=latest_before)
    trail.record_change(ctx, "template.new_version", None, version, at=now)
    return version


def submit(ctx: StaffContext, template_id: str, version: int, *, now: datetime) -> TemplateVersion:
    """Send a draft for review. The content check runs now; its findings go with it."""
    template = _visible(ctx, store.load(template_id))
    _must_author(ctx, template)
    before = template.numbered(version)
    if before.status != "draft":
        raise Conflict(f"该版本{before.status_name}，不能再次提交")
    if before.author.account_id != ctx.account_id:
        raise Forbidden("只能提交自己编写的模板")
    _check_content(template.category, before, day_of(now))
    after = moved(before, "submitted", now, findings=_findings(before, before.text, before.variables),
                  signature=signature_for(template.office), submitted_at=now)  # fmt: skip
    store.save_version(before, after)
    trail.record_change(ctx, "template.submit", before, after, at=now)
    return after


# ---------------------------------------------------------------------------- reviewing


def approve(
    ctx: StaffContext, template_id: str, version: int, note: str | None = None, *, now: datetime
) -> TemplateVersion:
    """Approve a submitted version, then file it with the carrier at once.

    Refused: a reviewer approving their own text; a text with blocking findings (checked again
    against today's word list); a validity period already over.
    """
    if not may_review(ctx):
        raise Forbidden("只有市社保中心的审核员可以审核模板")
    before = _visible(ctx, store.load(template_id)).numbered(version)
    _must_review(ctx, before)
    findings = _findings(before, before.text, before.variables)
    blocking = [f for f in findings if f.level == "block"]
    if blocking:
        if findings != before.findings:
            store.save_version(before, before.model_copy(update={"findings": findings, "updated_at": now}))
        raise ContentRejected(
            "内容检查未通过，不能审核通过：" + "；".join(f.message for f in blocking),
            field="text",
            details=[f.model_dump() for f in blocking],
        )
    if before.valid_until < day_of(now):
        raise Gone("模板有效期已结束，不能审核通过")
    after = moved(before, "approved", now, findings=findings, reviewer=Person.of(ctx), reviewed_at=now,
                  review_note=(note or "").strip() or None)  # fmt: skip
    store.save_version(before, after)
    trail.record_change(ctx, "template.approve", before, after, at=now)
    return filing.file_with_carrier(after, now=now)


def reject(ctx: StaffContext, template_id: str, version: int, reason: str, *, now: datetime) -> TemplateVersion:
    if not may_review(ctx):
        raise Forbidden("只有市社保中心的审核员可以审核模板")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写不通过的原因", field="reason")
    before = _visible(ctx, store.load(template_id)).numbered(version)
    _must_review(ctx, before)
    after = moved(before, "rejected", now, reviewer=Person.of(ctx), reviewed_at=now, reject_reason=reason)
    store.save_version(before, after)
    trail.record_change(ctx, "template.reject", before, after, at=now)
    return after


def retire(ctx: StaffContext, template_id: str, reason: str, *, now: datetime) -> TemplateVersion:
    """Stop the active version: nothing is sent with this template any more."""
    template = _visible(ctx, store.load(template_id))
    _must_author(ctx, template)
    if template.active_version is None:
        raise Conflict("该模板没有启用中的版本")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写停用原因", field="reason")
    before = template.numbered(template.active_version)
    after = ended(before, "retired", reason, now)
    template.active_version = None
    store.save_version(before, after, template)
    trail.record_change(ctx, "template.retire", before, after, at=now)
    return after
