"""Message templates (R11, R12, R17, R19): review by the city office, filing with the carrier,
validity periods, and every version kept.

A template has a category, an owning office (whose signature its messages carry), a text in
the carrier's form with declared typed variables, and a validity period. Each version moves:

    draft → submitted → approved | rejected
    approved → filed (AddSmsTemplate) → carrier_approved → active → retired | expired
    filed → carrier_rejected (with the carrier's reason)

A reviewer never approves their own text; a rejection carries a reason; forbidden content
blocks approval; a publicity text without the opt-out line is refused outright. Filing happens
on approval; the filing poller (``poll_filings``, every five minutes) retries a filing the
carrier did not take, asks the carrier about filed versions, activates approved ones once
their validity begins and expires active ones when it ends. A rejected version stays as it
is: the author starts a new version. Changing an active template makes a new version that goes
through the same steps while the active one keeps serving; when the new one becomes active the
old one is retired. Every version stays readable.

Storage in ``CONTROL_TABLE``: ``pk="template#<id>"`` holds ``sk="meta"`` (name, category, office,
latest and active version; ``gsi1`` lists an office's templates) and ``sk="v#0001"``... (each
version; ``gsi1`` by status, so the review queue and the poller find their work). Status changes
are conditional on the status read, so two reviewers or two pollers never both act.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import Conflict, ContentRejected, Forbidden, Gone, NotFound, ValidationFailed
from sms_platform.foundation.text_rules import Visible
from sms_platform.staff.context import DISTRICTS, Office, Role, StaffContext, can_see_office
from sms_platform.text.templating import VariableSpec

Category = Literal["triggered", "targeted", "publicity", "hangup", "subscription", "system"]
Status = Literal[
    "draft",
    "submitted",
    "approved",
    "rejected",
    "filed",
    "carrier_approved",
    "carrier_rejected",
    "active",
    "retired",
    "expired",
]

CATEGORY_NAMES: dict[str, str] = {
    "triggered": "业务触发类",
    "targeted": "定向通知类",
    "publicity": "宣传公告类",
    "hangup": "12333挂机短信",
    "subscription": "付费订阅类",
    "system": "平台系统消息",
}

STATUS_NAMES: dict[str, str] = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "审核通过，待报备",
    "rejected": "审核未通过",
    "filed": "已报备，运营商审核中",
    "carrier_approved": "运营商已通过，未到生效日期",
    "carrier_rejected": "运营商未通过",
    "active": "已启用",
    "retired": "已停用",
    "expired": "已过期",
}

# The carrier's TemplateType: 0 verification code, 1 notice, 2 publicity.
CARRIER_TEMPLATE_TYPES: dict[str, int] = {
    "system": 0,
    "triggered": 1,
    "targeted": 1,
    "hangup": 1,
    "subscription": 1,
    "publicity": 2,
}

# Statuses in which a version is still on its way (only one per template at a time).
IN_PROGRESS: frozenset[str] = frozenset({"draft", "submitted", "approved", "filed", "carrier_approved"})
# Statuses the filing poller looks after.
POLLED: tuple[str, ...] = ("approved", "filed", "carrier_approved", "active")

OPT_OUT_LINE = "拒收请回复R"
MAX_VALIDITY_DAYS = 366 * 5


# ---------------------------------------------------------------------------- pure rules


def owner_offices(category: str) -> frozenset[Office]:
    """Which offices may own a template of ``category``."""
    if category == "system":
        return frozenset({Office.it})
    if category == "hangup":
        return frozenset({Office.hotline})
    if category in ("triggered", "subscription"):
        return frozenset({Office.city})
    return frozenset({Office.city, *DISTRICTS})


def may_author(ctx: StaffContext, category: str, office: Office | str) -> bool:
    """Whether ``ctx`` may write a template of ``category`` owned by ``office``.

    The city operator maintains templates for the city, the 12333 centre's answers and the
    districts' notices; a district operator writes its own district's notices and publicity;
    the 12333 manager its answers; the IT office the platform's own messages.
    """
    office = Office(office)
    if office not in owner_offices(category) or not can_see_office(ctx, office):
        return False
    if category == "system":
        return ctx.has(Role.it_ops) and ctx.office == Office.it
    if ctx.has(Role.city_operator) and ctx.office == Office.city:
        return True
    if category == "hangup":
        return ctx.has(Role.hotline_manager) and ctx.office == Office.hotline
    if category in ("targeted", "publicity"):
        return ctx.has(Role.district_operator) and ctx.office == office
    return False


def may_review(ctx: StaffContext) -> bool:
    return ctx.has(Role.city_reviewer) and ctx.office == Office.city


def today() -> date:
    return get_clock().now().astimezone(BEIJING).date()


def validity_problems(valid_from: date, valid_until: date, *, on: date) -> list[str]:
    problems = []
    if valid_until < valid_from:
        problems.append("有效期结束日期不能早于开始日期")
    if valid_until < on:
        problems.append("有效期已经结束，请设置今天或以后的结束日期")
    if (valid_until - valid_from).days > MAX_VALIDITY_DAYS:
        problems.append("有效期最长五年")
    return problems


def is_valid_on(valid_from: date, valid_until: date, day: date) -> bool:
    return valid_from <= day <= valid_until


def opt_out_problem(category: str, text: str) -> str | None:
    """Publicity texts must end with the opt-out line, so a recipient can refuse more."""
    if category != "publicity":
        return None
    ending = text.rstrip().rstrip("。.!！")
    if ending.endswith(OPT_OUT_LINE):
        return None
    return f"宣传类模板必须以“{OPT_OUT_LINE}”结尾，以便收信人退订"


# ---------------------------------------------------------------------------- models


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    username: str
    real_name: str

    @classmethod
    def of(cls, ctx: Any) -> Person:
        return cls(account_id=ctx.account_id, username=ctx.username, real_name=ctx.real_name)


class FindingOut(BaseModel):
    level: Literal["block", "warn", "info"]
    code: str
    message: str


class TemplateContent(BaseModel):
    """What an author writes: the text and its variables, the validity period, a remark for
    the carrier's reviewers (what the message is for)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Visible("模板名称")] = Field(min_length=2, max_length=30)
    text: Annotated[str, Visible("短信内容", multiline=True)] = Field(min_length=1, max_length=500)
    variables: list[VariableSpec] = Field(default_factory=list, max_length=20)
    valid_from: date
    valid_until: date
    remark: Annotated[str, Visible("用途说明", multiline=True)] = Field(min_length=2, max_length=200)

    @field_validator("name", "text", "remark")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value

    @model_validator(mode="after")
    def _variables_unique(self) -> TemplateContent:
        names = [spec.name for spec in self.variables]
        if len(names) != len(set(names)):
            raise ValueError("变量名不能重复")
        return self


class TemplateDraft(TemplateContent):
    category: Category
    office: Office


class TemplateVersion(BaseModel):
    template_id: str
    version: int
    name: str
    category: Category
    office: Office
    text: str
    variables: list[VariableSpec]
    valid_from: date
    valid_until: date
    remark: str
    status: Status
    status_name: str
    author: Person
    created_at: datetime
    updated_at: datetime
    signature: str | None = None
    findings: list[FindingOut] = Field(default_factory=list)
    submitted_at: datetime | None = None
    reviewer: Person | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None
    reject_reason: str | None = None
    carrier_template_type: int | None = None
    carrier_code: str | None = None
    carrier_reason: str | None = None
    filed_at: datetime | None = None
    carrier_checked_at: datetime | None = None
    activated_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    @property
    def target(self) -> str:
        return f"template:{self.template_id}:v{self.version}"

    def summary(self) -> dict[str, Any]:
        """What the audit trail keeps of a version's state."""
        keep = ("status", "text", "valid_from", "valid_until", "carrier_code", "reject_reason", "carrier_reason")
        return self.model_dump(mode="json", include=set(keep))


class Template(BaseModel):
    template_id: str
    name: str
    category: Category
    office: Office
    latest_version: int
    active_version: int | None = None
    created_at: datetime
    versions: list[TemplateVersion] = Field(default_factory=list)


# ---------------------------------------------------------------------------- storage


def _table() -> Any:
    from sms_platform import aws

    return aws.table("CONTROL_TABLE")


def _pk(template_id: str) -> str:
    return f"template#{template_id}"


def _vsk(version: int) -> str:
    return f"v#{version:04d}"


def _version_item(v: TemplateVersion) -> dict[str, Any]:
    item = v.model_dump(mode="json", exclude_none=True, exclude={"status_name"})
    item.update(
        pk=_pk(v.template_id),
        sk=_vsk(v.version),
        gsi1pk=f"template-status#{v.status}",
        gsi1sk=f"{v.office.value}#{v.template_id}#{v.version:04d}",
    )
    return item


def _version_of(item: Mapping[str, Any]) -> TemplateVersion:
    data = {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    data["version"] = int(data["version"])
    if "carrier_template_type" in data:
        data["carrier_template_type"] = int(data["carrier_template_type"])
    for spec in data.get("variables", []):
        spec["max_length"] = int(spec["max_length"])
    data["status_name"] = STATUS_NAMES[data["status"]]
    return TemplateVersion.model_validate(data)


def _head_item(t: Template) -> dict[str, Any]:
    item = t.model_dump(mode="json", exclude_none=True, exclude={"versions"})
    item.update(
        pk=_pk(t.template_id),
        sk="meta",
        gsi1pk=f"templates#{t.office.value}",
        gsi1sk=f"{item['created_at']}#{t.template_id}",
    )
    return item


def _head_of(item: Mapping[str, Any]) -> Template:
    data = {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    data["latest_version"] = int(data["latest_version"])
    if data.get("active_version") is not None:
        data["active_version"] = int(data["active_version"])
    return Template.model_validate(data)


def _transact(*operations: dict[str, Any]) -> None:
    """Write several items at once (a version and its template's head stay in step).

    Each operation: ``{"put": item, "condition": expr?, "values": {...}?}``. A failed condition
    is a ``Conflict``: someone else changed the template meanwhile.
    """
    from botocore.exceptions import ClientError

    # The table resource's client converts plain values to DynamoDB's typed form by itself.
    table = _table()
    items = []
    for op in operations:
        put: dict[str, Any] = {
            "TableName": table.name,
            "Item": op["put"],
        }
        if op.get("condition"):
            put["ConditionExpression"] = op["condition"]
        if op.get("values"):
            put["ExpressionAttributeValues"] = op["values"]
        if op.get("names"):
            put["ExpressionAttributeNames"] = op["names"]
        items.append({"Put": put})
    try:
        table.meta.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons or error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict("模板已被他人修改，请刷新后重试") from error
        raise


def _load(template_id: str) -> Template:
    items = _table().query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _pk(template_id)}, ConsistentRead=True
    )["Items"]
    head = next((item for item in items if item["sk"] == "meta"), None)
    if head is None:
        raise NotFound("没有这个模板")
    template = _head_of(head)
    template.versions = [_version_of(item) for item in items if item["sk"].startswith("v#")]
    return template


def _visible(ctx: StaffContext, template: Template) -> Template:
    if not can_see_office(ctx, template.office):
        raise NotFound("没有这个模板")  # a district does not learn of other districts' templates
    return template


def _version(template: Template, version: int) -> TemplateVersion:
    found = next((v for v in template.versions if v.version == version), None)
    if found is None:
        raise NotFound(f"模板没有第 {version} 版")
    return found


def _save_version(before: TemplateVersion, after: TemplateVersion, head: Template | None = None) -> None:
    """Store a version's new state if nobody moved it meanwhile (and the head with it)."""
    ops = [
        {
            "put": _version_item(after),
            "condition": "#s = :s AND updated_at = :u",
            "names": {"#s": "status"},
            "values": {":s": before.status, ":u": before.model_dump(mode="json")["updated_at"]},
        }
    ]
    if head is not None:
        ops.append({"put": _head_item(head)})
    _transact(*ops)


def _audit(ctx: Any, action: str, before: TemplateVersion | None, after: TemplateVersion) -> None:
    from sms_platform.audit import trail

    trail.record_change(ctx, action, before, after)


def _check_content(category: str, office: Office, content: TemplateContent) -> None:
    from sms_platform.text.templating import check_declarations

    problems = validity_problems(content.valid_from, content.valid_until, on=today())
    if problems:
        raise ValidationFailed("；".join(problems), field="valid_until")
    opt_out = opt_out_problem(category, content.text)
    if opt_out:
        raise ContentRejected(opt_out, field="text")
    check_declarations(content.text, content.variables)


# ---------------------------------------------------------------------------- word list

_WORD_PK = "forbidden-word"


def forbidden_words() -> list[str]:
    """The word list in force: the seed list, less the words reviewers removed, plus theirs."""
    from sms_platform.text.forbidden_words import default_words

    items = _table().query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _WORD_PK})["Items"]
    removed = {item["sk"] for item in items if item.get("removed")}
    added = [item["sk"] for item in items if not item.get("removed")]
    words = [w for w in default_words() if w not in removed]
    return words + [w for w in added if w not in words]


def word_entries() -> list[dict[str, Any]]:
    """The list as reviewers manage it: each word, where it came from, who added it."""
    from sms_platform.text.forbidden_words import category_of, default_words

    items = {
        item["sk"]: item
        for item in _table().query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _WORD_PK})[
            "Items"
        ]
    }
    entries = []
    for word in default_words():
        if not items.get(word, {}).get("removed"):
            entries.append({"word": word, "source": "seed", "category": category_of(word), "added_by": None})
    for word, item in items.items():
        if not item.get("removed") and word not in default_words():
            entries.append({"word": word, "source": "reviewer", "category": None, "added_by": item.get("added_by")})
    return entries


def add_word(ctx: StaffContext, word: str) -> list[dict[str, Any]]:
    from sms_platform.audit import trail
    from sms_platform.text.content import fold

    word = (word or "").strip()
    if not 1 <= len(word) <= 30 or not fold(word):
        raise ValidationFailed("禁用词须为 1 到 30 个字", field="word")
    if word in forbidden_words():
        raise Conflict("词表中已有这个词", field="word")
    _table().put_item(
        Item={"pk": _WORD_PK, "sk": word, "added_by": ctx.real_name, "added_at": get_clock().now().isoformat()}
    )
    trail.record(ctx, "forbidden_word.add", f"forbidden_word:{word}", after={"word": word})
    return word_entries()


def remove_word(ctx: StaffContext, word: str) -> list[dict[str, Any]]:
    from sms_platform.audit import trail
    from sms_platform.text.forbidden_words import default_words

    if word not in forbidden_words():
        raise NotFound("词表中没有这个词")
    if word in default_words():
        _table().put_item(
            Item={"pk": _WORD_PK, "sk": word, "removed": True, "removed_by": ctx.real_name},
        )
    else:
        _table().delete_item(Key={"pk": _WORD_PK, "sk": word})
    trail.record(ctx, "forbidden_word.remove", f"forbidden_word:{word}", before={"word": word})
    return word_entries()


# ---------------------------------------------------------------------------- authoring


def create_template(ctx: StaffContext, draft: TemplateDraft) -> Template:
    """A new template with its first version as a draft."""
    if not may_author(ctx, draft.category, draft.office):
        raise Forbidden("无权为该单位编写这一类模板")
    _check_content(draft.category, draft.office, draft)
    now = get_clock().now()
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
    _transact(
        {"put": _head_item(head), "condition": "attribute_not_exists(pk)"},
        {"put": _version_item(version), "condition": "attribute_not_exists(pk)"},
    )
    _audit(ctx, "template.create", None, version)
    head.versions = [version]
    return head


def find_template(template_id: str) -> Template:
    """A template with every version, for the platform's own use (no staff scoping); NotFound if none."""
    return _load(template_id)


def get_template(ctx: StaffContext, template_id: str) -> Template:
    return _visible(ctx, _load(template_id))


def list_templates(
    ctx: StaffContext, *, office: Office | str | None = None, status: str | None = None
) -> list[Template]:
    """Templates of the offices ``ctx`` may see (one office if named), newest first, each with its
    versions; ``status`` keeps those with a version in that status."""
    from sms_platform.staff.context import visible_offices

    offices = sorted(visible_offices(ctx))
    if office is not None:
        office = Office(office)
        if office not in offices:
            raise Forbidden("只能查看本单位的模板")
        offices = [office]
    found = []
    for each in offices:
        heads = _query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"templates#{each.value}"},
        )
        for head in heads:
            template = _load(head["template_id"])
            if status is None or any(v.status == status for v in template.versions):
                found.append(template)
    return sorted(found, key=lambda t: t.created_at, reverse=True)


def review_queue(ctx: StaffContext) -> list[TemplateVersion]:
    """Versions waiting for review, oldest first, with their findings."""
    items = _query_all(
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": "template-status#submitted"},
    )
    versions = [_version_of(item) for item in items]
    return sorted((v for v in versions if can_see_office(ctx, v.office)), key=lambda v: v.submitted_at or v.created_at)


def _query_all(**kwargs: Any) -> list[Mapping[str, Any]]:
    table, items = _table(), []
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _must_author(ctx: StaffContext, template: Template) -> None:
    if not may_author(ctx, template.category, template.office):
        raise Forbidden("无权修改该模板")


def update_draft(ctx: StaffContext, template_id: str, version: int, content: TemplateContent) -> TemplateVersion:
    """Change a draft before it is submitted."""
    template = _visible(ctx, _load(template_id))
    _must_author(ctx, template)
    before = _version(template, version)
    if before.status != "draft":
        raise Conflict("只有草稿可以修改；已提交或已启用的模板请新建版本")
    _check_content(template.category, template.office, content)
    # Attributes as they are (model_copy does not validate, so no dumping to dicts here).
    changes = {name: getattr(content, name) for name in TemplateContent.model_fields}
    after = before.model_copy(update={**changes, "updated_at": get_clock().now()})
    template.name = content.name
    _save_version(before, after, template)
    _audit(ctx, "template.update", before, after)
    return after


def new_version(ctx: StaffContext, template_id: str, content: TemplateContent) -> TemplateVersion:
    """A new draft version (changing an active template, or after a rejection). The versions
    before it stay as they are; only one version may be on its way at a time."""
    template = _visible(ctx, _load(template_id))
    _must_author(ctx, template)
    busy = [v for v in template.versions if v.status in IN_PROGRESS]
    if busy:
        raise Conflict(f"第 {busy[0].version} 版尚在办理中（{busy[0].status_name}），请先完成或撤回")
    _check_content(template.category, template.office, content)
    now = get_clock().now()
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
    before_head = template.latest_version
    template.latest_version = version.version
    template.name = content.name
    _transact(
        {
            "put": _head_item(template),
            "condition": "latest_version = :v",
            "values": {":v": before_head},
        },
        {"put": _version_item(version), "condition": "attribute_not_exists(pk)"},
    )
    _audit(ctx, "template.new_version", None, version)
    return version


def _findings(template: Template | TemplateVersion, text: str, variables: Iterable[VariableSpec]) -> list[FindingOut]:
    from sms_platform.templates.signatures import signature_for
    from sms_platform.text.content import review_content

    findings = review_content(
        text,
        signature=signature_for(template.office),
        category=template.category,
        forbidden_words=forbidden_words(),
        variables=list(variables),
    )
    return [FindingOut(level=f.level, code=f.code, message=f.message) for f in findings]


def submit(ctx: StaffContext, template_id: str, version: int) -> TemplateVersion:
    """Send a draft for review. The content check runs now; its findings go with it."""
    from sms_platform.templates.signatures import signature_for

    template = _visible(ctx, _load(template_id))
    _must_author(ctx, template)
    before = _version(template, version)
    if before.status != "draft":
        raise Conflict(f"该版本{before.status_name}，不能再次提交")
    if before.author.account_id != ctx.account_id:
        raise Forbidden("只能提交自己编写的模板")
    _check_content(template.category, template.office, before)
    now = get_clock().now()
    after = before.model_copy(
        update={
            "status": "submitted",
            "status_name": STATUS_NAMES["submitted"],
            "findings": _findings(before, before.text, before.variables),
            "signature": signature_for(template.office),
            "submitted_at": now,
            "updated_at": now,
        }
    )
    _save_version(before, after)
    _audit(ctx, "template.submit", before, after)
    return after


def approve(ctx: StaffContext, template_id: str, version: int, note: str | None = None) -> TemplateVersion:
    """Approve a submitted version, then file it with the carrier at once.

    Refused: a reviewer approving their own text; a text with blocking findings (checked again
    against today's word list); a validity period already over.
    """
    if not may_review(ctx):
        raise Forbidden("只有市社保中心的审核员可以审核模板")
    template = _visible(ctx, _load(template_id))
    before = _version(template, version)
    if before.status != "submitted":
        raise Conflict(f"该版本{before.status_name}，不在待审核状态")
    if before.author.account_id == ctx.account_id:
        raise Forbidden("不能审核自己编写的模板，请由其他审核员审核")
    findings = _findings(before, before.text, before.variables)
    blocking = [f for f in findings if f.level == "block"]
    now = get_clock().now()
    if blocking:
        if findings != before.findings:
            _save_version(before, before.model_copy(update={"findings": findings, "updated_at": now}))
        raise ContentRejected(
            "内容检查未通过，不能审核通过：" + "；".join(f.message for f in blocking),
            field="text",
            details=[f.model_dump() for f in blocking],
        )
    if before.valid_until < today():
        raise Gone("模板有效期已结束，不能审核通过")
    after = before.model_copy(
        update={
            "status": "approved",
            "status_name": STATUS_NAMES["approved"],
            "findings": findings,
            "reviewer": Person.of(ctx),
            "reviewed_at": now,
            "review_note": (note or "").strip() or None,
            "updated_at": now,
        }
    )
    _save_version(before, after)
    _audit(ctx, "template.approve", before, after)
    return file_with_carrier(after)


def reject(ctx: StaffContext, template_id: str, version: int, reason: str) -> TemplateVersion:
    if not may_review(ctx):
        raise Forbidden("只有市社保中心的审核员可以审核模板")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写不通过的原因", field="reason")
    template = _visible(ctx, _load(template_id))
    before = _version(template, version)
    if before.status != "submitted":
        raise Conflict(f"该版本{before.status_name}，不在待审核状态")
    if before.author.account_id == ctx.account_id:
        raise Forbidden("不能审核自己编写的模板，请由其他审核员审核")
    now = get_clock().now()
    after = before.model_copy(
        update={
            "status": "rejected",
            "status_name": STATUS_NAMES["rejected"],
            "reviewer": Person.of(ctx),
            "reviewed_at": now,
            "reject_reason": reason,
            "updated_at": now,
        }
    )
    _save_version(before, after)
    _audit(ctx, "template.reject", before, after)
    return after


def retire(ctx: StaffContext, template_id: str, reason: str) -> TemplateVersion:
    """Stop the active version: nothing is sent with this template any more."""
    template = _visible(ctx, _load(template_id))
    _must_author(ctx, template)
    if template.active_version is None:
        raise Conflict("该模板没有启用中的版本")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写停用原因", field="reason")
    before = _version(template, template.active_version)
    after = _end(before, "retired", reason)
    template.active_version = None
    _save_version(before, after, template)
    _audit(ctx, "template.retire", before, after)
    return after


def _end(version: TemplateVersion, status: Status, reason: str) -> TemplateVersion:
    now = get_clock().now()
    return version.model_copy(
        update={
            "status": status,
            "status_name": STATUS_NAMES[status],
            "ended_at": now,
            "end_reason": reason,
            "updated_at": now,
        }
    )


# ---------------------------------------------------------------------------- carrier filing


def _carrier() -> Any:
    from sms_platform.carrier.client import carrier_client_from_environment

    return carrier_client_from_environment()


def file_with_carrier(version: TemplateVersion, client: Any = None) -> TemplateVersion:
    """AddSmsTemplate for an approved version. The carrier's refusal ends the version as
    ``carrier_rejected`` with its message; a fault leaves it ``approved`` for the poller."""
    from sms_platform.carrier.client import Outcome

    if version.status != "approved":
        return version
    client = client or _carrier()
    template_type = CARRIER_TEMPLATE_TYPES[version.category]
    result = client.add_sms_template(
        template_type, f"{version.name}-v{version.version}"[:30], version.text, version.remark
    )
    now = get_clock().now()
    if result.outcome == Outcome.OK and result.data.get("TemplateCode"):
        after = version.model_copy(
            update={
                "status": "filed",
                "status_name": STATUS_NAMES["filed"],
                "carrier_template_type": template_type,
                "carrier_code": str(result.data["TemplateCode"]),
                "filed_at": now,
                "updated_at": now,
            }
        )
    elif result.outcome == Outcome.REJECTED:
        after = version.model_copy(
            update={
                "status": "carrier_rejected",
                "status_name": STATUS_NAMES["carrier_rejected"],
                "carrier_template_type": template_type,
                "carrier_reason": f"报备被拒：{result.message or result.code}",
                "carrier_checked_at": now,
                "updated_at": now,
            }
        )
    else:
        return version  # not taken this time; the poller tries again
    _save_version(version, after)
    _audit(None, "template.file", version, after)
    return after


def _ask_carrier(version: TemplateVersion, client: Any) -> TemplateVersion:
    from sms_platform.carrier.client import Outcome

    result = client.query_sms_template(version.carrier_code)
    if result.outcome != Outcome.OK:
        return version
    status = str(result.data.get("TemplateStatus"))
    now = get_clock().now()
    if status == "1":
        after = version.model_copy(
            update={
                "status": "carrier_approved",
                "status_name": STATUS_NAMES["carrier_approved"],
                "carrier_checked_at": now,
                "updated_at": now,
            }
        )
    elif status == "2":
        reason = str(result.data.get("Reason") or "运营商未说明原因")
        after = version.model_copy(
            update={
                "status": "carrier_rejected",
                "status_name": STATUS_NAMES["carrier_rejected"],
                "carrier_reason": reason,
                "carrier_checked_at": now,
                "updated_at": now,
            }
        )
    else:
        return version
    _save_version(version, after)
    _audit(None, f"template.{after.status}", version, after)
    return after


def _activate(version: TemplateVersion) -> TemplateVersion:
    """Make a carrier-approved version the template's active one (its validity has begun);
    the version it replaces is retired."""
    template = _load(version.template_id)
    now = get_clock().now()
    after = version.model_copy(
        update={"status": "active", "status_name": STATUS_NAMES["active"], "activated_at": now, "updated_at": now}
    )
    ops = [
        {
            "put": _version_item(after),
            "condition": "#s = :s",
            "names": {"#s": "status"},
            "values": {":s": version.status},
        }
    ]
    replaced = None
    if template.active_version and template.active_version != version.version:
        replaced = _version(template, template.active_version)
        ended = _end(replaced, "retired", f"已由第 {version.version} 版取代")
        ops.append(
            {
                "put": _version_item(ended),
                "condition": "#s = :s",
                "names": {"#s": "status"},
                "values": {":s": "active"},
            }
        )
    template.active_version = version.version
    ops.append({"put": _head_item(template)})
    _transact(*ops)
    _audit(None, "template.activate", version, after)
    if replaced is not None:
        _audit(None, "template.retire", replaced, ended)
    return after


def poll_filings(client: Any = None) -> dict[str, int]:
    """One round of the filing poller: file what is approved, ask the carrier about what is
    filed, activate what the carrier approved once valid, expire what is past its validity.
    Returns how many versions moved to each status."""
    moved: dict[str, int] = {}
    day = today()
    for status in POLLED:
        items = _query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": f"template-status#{status}"},
        )
        for item in items:
            version = _version_of(item)
            try:
                after = _advance(version, day, client)
            except Conflict:
                continue  # another poller moved it first
            if after.status != version.status:
                moved[after.status] = moved.get(after.status, 0) + 1
    return moved


def _advance(version: TemplateVersion, day: date, client: Any) -> TemplateVersion:
    if version.valid_until < day:
        after = _end(version, "expired", f"有效期已于 {version.valid_until.isoformat()} 结束")
        template = _load(version.template_id)
        if template.active_version == version.version:
            template.active_version = None
            _save_version(version, after, template)
        else:
            _save_version(version, after)
        _audit(None, "template.expire", version, after)
        return after
    if version.status == "approved":
        return file_with_carrier(version, client or _carrier())
    if version.status == "filed":
        version = _ask_carrier(version, client or _carrier())
    if version.status == "carrier_approved" and version.valid_from <= day:
        return _activate(version)
    return version


# ---------------------------------------------------------------------------- sending


def usable_version(template_id: str, *, category: str | None = None) -> TemplateVersion:
    """The version a send must use: the active one, inside its validity on today's date.

    Raises ``NotFound`` for an unknown template, ``Conflict`` when none is active (or of
    another category) and ``Gone`` when its validity has ended (before the poller noticed).
    """
    template = _load(template_id)
    if template.active_version is None:
        raise Conflict("该模板没有启用中的版本，不能发送")
    version = _version(template, template.active_version)
    if category is not None and version.category != category:
        raise Conflict(
            f"该模板属于{CATEGORY_NAMES[version.category]}，不能用于{CATEGORY_NAMES.get(category, category)}"
        )
    day = today()
    if day > version.valid_until:
        raise Gone("模板有效期已结束，不能发送")
    if day < version.valid_from:
        raise Conflict("模板尚未到生效日期，不能发送")
    return version
