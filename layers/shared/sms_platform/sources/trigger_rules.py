"""Trigger rules for business-triggered notices (R4), and the event types each business system
may send.

A rule says: when an event of this type arrives and its condition holds, send this template to
the subject person (their current verified number) or to the unit's contact people, filling the
template's variables from the event's data.

- Conditions are written in a small expression language evaluated by ``simpleeval`` (never
  ``eval``): comparisons, ``and``/``or``/``not``, arithmetic, ``in``, subscripts such as
  ``data["amount"]``, and the calls ``len``, ``abs``, ``min``, ``max``, ``int``, ``float``,
  ``str``. Attribute access is refused, so nothing can reach Python internals. Names: ``data``,
  each top-level key of the data, ``event_type`` and ``subject_kind``.
- Variable mappings name a path into the event: ``{"amount": "data.amount"}``; plain dotted
  paths only, read by walking dictionaries.
- Lifecycle: draft → submitted → active (approved by a city reviewer who is not its author) or
  rejected; an active version is retired when a newer one is approved. Editing makes a new
  draft version; every version stays readable. A rule applies only inside its validity period.

Storage (CONTROL_TABLE): ``pk=rule#{id}``, ``sk=v#{version:05d}``; active versions carry
``gsi1pk=rules#{event_type}`` so the intake finds them with one query. Grants:
``pk=apikey#{api_key_id}``, ``sk=grant#{event_type}``.
"""

from __future__ import annotations

import ast
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.foundation.text_rules import Visible
from sms_platform.sources import channel_sends

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
# \Z, not $: a path with a newline after it is no path.
_PATH = re.compile(r"^(data(\.[A-Za-z][A-Za-z0-9_]*)+|event_type|occurred_at|event_id)\Z")
_ALLOWED_CALLS = {"len": len, "abs": abs, "min": min, "max": max, "int": int, "float": float, "str": str}
MAX_CONDITION_LENGTH = 500

RuleStatus = Literal["draft", "submitted", "active", "rejected", "retired"]
Recipients = Literal["subject", "unit_contacts"]


# ---------------------------------------------------------------- the expression language


def _evaluator(names: dict[str, Any]) -> Any:
    # simpleeval loads with the first condition, not with the event intake's cold import.
    from simpleeval import SimpleEval

    evaluator = SimpleEval(functions=dict(_ALLOWED_CALLS), names=names)
    evaluator.ATTR_INDEX_FALLBACK = False

    def refuse_attribute(node: ast.Attribute) -> Any:
        raise ValueError("attribute access is not allowed")

    evaluator.nodes[ast.Attribute] = refuse_attribute
    return evaluator


def check_condition(text: str) -> str:
    """The condition, stripped, if it is a single allowed expression; else ``ValidationFailed``."""
    text = (text or "").strip()
    if not text:
        return "True"
    if len(text) > MAX_CONDITION_LENGTH:
        raise ValidationFailed(f"触发条件最多 {MAX_CONDITION_LENGTH} 个字符", field="condition")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValidationFailed("触发条件不是有效的表达式", field="condition") from exc
    allowed = (
        ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
        ast.Constant, ast.Subscript, ast.Load, ast.List, ast.Tuple, ast.boolop, ast.operator, ast.unaryop,
        ast.cmpop,
    )  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            raise ValidationFailed('触发条件不允许使用属性访问（如 a.b），请写成 data["b"]', field="condition")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_CALLS):
            raise ValidationFailed("触发条件只能调用 " + "、".join(sorted(_ALLOWED_CALLS)), field="condition")
        if not isinstance(node, allowed):
            raise ValidationFailed("触发条件含有不允许的写法", field="condition")
    return text


def condition_names(event_type: str, subject_kind: str, data: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {key: value for key, value in data.items() if str(key).isidentifier()}
    names.update({"data": data, "event_type": event_type, "subject_kind": subject_kind, "True": True,
                  "False": False, "None": None})  # fmt: skip
    return names


def condition_holds(condition: str, names: dict[str, Any]) -> bool:
    """Whether the condition holds; a missing field or a type mismatch means it does not."""
    if condition.strip() in ("", "True"):
        return True
    try:
        return bool(_evaluator(names).eval(condition))
    except Exception:  # noqa: BLE001 - any failure of a condition over odd data is "no match"
        return False


def check_path(path: str) -> str:
    if not _PATH.match(path or ""):
        raise ValidationFailed(
            f"变量来源“{path}”无效：应为 data.字段名（可多级）、event_type、event_id 或 occurred_at", field="variables"
        )
    return path


def resolve_path(path: str, event: dict[str, Any]) -> Any:
    """The value a dotted path names in the event, or None when any step is missing."""
    value: Any = event
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill_variables(mapping: dict[str, str], event: dict[str, Any]) -> dict[str, str]:
    """Template values from the event; a path with no value is reported by name (422)."""
    values: dict[str, str] = {}
    for name, path in mapping.items():
        value = resolve_path(path, event)
        if value is None or value == "":
            raise ValidationFailed(f"事件数据缺少模板变量“{name}”所需的 {path}", field=path)
        values[name] = as_text(value)
    return values


# ---------------------------------------------------------------- models


class RuleDraft(BaseModel):
    """What a city operator writes."""

    name: Annotated[str, Visible("名称")] = Field(min_length=1, max_length=60)
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=64)
    # A direction override inside a condition's string could make it read unlike what it does.
    condition: Annotated[str, Visible("触发条件", multiline=True)] = Field(default="", max_length=MAX_CONDITION_LENGTH)
    template_id: Annotated[str, Visible("模板编号")] = Field(min_length=1, max_length=64)
    recipients: Recipients = "subject"
    variables: dict[str, str] = Field(default_factory=dict)
    valid_from: datetime
    valid_until: datetime

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        return check_condition(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            check_path(path)
        return value

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)

    @model_validator(mode="after")
    def _period(self) -> RuleDraft:
        if self.valid_until <= self.valid_from:
            raise ValueError("有效期结束时间必须晚于开始时间")
        return self


class Rule(RuleDraft):
    rule_id: str
    version: int
    status: RuleStatus
    author: str
    author_name: str = ""
    office: str = "city"
    reviewer: str | None = None
    reject_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    def in_force(self, now: datetime) -> bool:
        return self.status == "active" and self.valid_from <= now < self.valid_until


def matching_rules(rules: list[Rule], event: dict[str, Any], now: datetime) -> list[Rule]:
    """The newest active version of each rule that is in force and whose condition holds."""
    newest: dict[str, Rule] = {}
    for rule in rules:
        if rule.event_type != event["event_type"] or not rule.in_force(now):
            continue
        if rule.rule_id not in newest or rule.version > newest[rule.rule_id].version:
            newest[rule.rule_id] = rule
    names = condition_names(event["event_type"], event["subject"]["kind"], event.get("data") or {})
    return [rule for _, rule in sorted(newest.items()) if condition_holds(rule.condition, names)]


# ---------------------------------------------------------------- repository


def _table() -> Any:
    return aws.table(settings().control_table)


def _sk(version: int) -> str:
    return f"v#{version:05d}"


def _to_item(rule: Rule) -> dict[str, Any]:
    item = {"pk": f"rule#{rule.rule_id}", "sk": _sk(rule.version), **rule.model_dump(mode="json")}
    if rule.status == "active":
        item["gsi1pk"] = f"rules#{rule.event_type}"
        item["gsi1sk"] = f"{rule.rule_id}#{rule.version:05d}"
    return {key: value for key, value in item.items() if value is not None}


def _from_item(item: dict[str, Any]) -> Rule:
    fields = {key: value for key, value in item.items() if key in Rule.model_fields}
    fields["version"] = int(fields["version"])
    return Rule.model_validate(fields)


def versions(rule_id: str) -> list[Rule]:
    items = list(
        queries.items(
            _table().query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": f"rule#{rule_id}", ":v": "v#"},
        )
    )
    if not items:
        raise NotFound("没有这个触发规则")
    return [_from_item(item) for item in items]


def get(rule_id: str, version: int | None = None) -> Rule:
    found = versions(rule_id)
    if version is None:
        return found[-1]
    for rule in found:
        if rule.version == version:
            return rule
    raise NotFound("没有这个版本的触发规则")


def list_rules() -> list[Rule]:
    """The latest version of every rule (the control table is small; rules are few)."""
    items = queries.items(
        _table().scan,
        FilterExpression="begins_with(pk, :p) AND begins_with(sk, :v)",
        ExpressionAttributeValues={":p": "rule#", ":v": "v#"},
    )
    latest: dict[str, Rule] = {}
    for rule in (_from_item(item) for item in items):
        if rule.rule_id not in latest or rule.version > latest[rule.rule_id].version:
            latest[rule.rule_id] = rule
    return sorted(latest.values(), key=lambda r: r.created_at)


def active_for(event_type: str) -> list[Rule]:
    items = queries.items(
        _table().query,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": f"rules#{event_type}"},
    )
    return [_from_item(item) for item in items]


def _put(rule: Rule, *, new: bool = False, expect_status: str | None = None) -> None:
    kwargs: dict[str, Any] = {}
    if new:
        kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
    elif expect_status:
        kwargs["ConditionExpression"] = "#s = :expected"
        kwargs["ExpressionAttributeNames"] = {"#s": "status"}
        kwargs["ExpressionAttributeValues"] = {":expected": expect_status}
    try:
        _table().put_item(Item=_to_item(rule), **kwargs)
    except Exception as exc:
        if aws.condition_failed(exc):
            raise Conflict("触发规则已被他人修改，请刷新后重试") from exc
        raise


def create(draft: RuleDraft, *, author: str, author_name: str, now: datetime) -> Rule:
    rule = Rule(
        **draft.model_dump(), rule_id=uuid.uuid4().hex[:12], version=1, status="draft", author=author,
        author_name=author_name, created_at=now, updated_at=now,
    )  # fmt: skip
    _put(rule, new=True)
    return rule


def revise(rule_id: str, draft: RuleDraft, *, author: str, author_name: str, now: datetime) -> Rule:
    """A new draft version (the latest one is edited in place while it is still a draft)."""
    latest = get(rule_id)
    if latest.status == "draft":
        rule = latest.model_copy(update={**draft.model_dump(), "author": author, "author_name": author_name,
                                         "updated_at": now})  # fmt: skip
        _put(rule, expect_status="draft")
        return rule
    if latest.status == "submitted":
        raise Conflict("该规则正在审核中，审核结束后才能修改")
    rule = Rule(
        **draft.model_dump(), rule_id=rule_id, version=latest.version + 1, status="draft", author=author,
        author_name=author_name, created_at=now, updated_at=now,
    )  # fmt: skip
    _put(rule, new=True)
    return rule


def submit(rule_id: str, *, actor: str, now: datetime) -> Rule:
    rule = get(rule_id)
    if rule.status != "draft":
        raise Conflict("只有草稿可以提交审核")
    updated = rule.model_copy(update={"status": "submitted", "updated_at": now})
    _put(updated, expect_status="draft")
    return updated


def approve(rule_id: str, *, reviewer: str, now: datetime) -> tuple[Rule, Rule | None]:
    """Activate the submitted version; the version it replaces is retired. Returns both."""
    found = versions(rule_id)
    rule = found[-1]
    if rule.status != "submitted":
        raise Conflict("只有已提交审核的规则可以审核通过")
    if rule.author == reviewer:
        raise Forbidden("不能审核自己编写的规则")
    if channel_sends.active_template(rule.template_id, now, category="triggered") is None:
        raise Conflict("规则使用的模板不是生效中的业务触发类模板（未审核、未备案、不在有效期内或类别不符），不能启用")
    active = rule.model_copy(update={"status": "active", "reviewer": reviewer, "updated_at": now})
    _put(active, expect_status="submitted")
    replaced = None
    for old in found[:-1]:
        if old.status == "active":
            replaced = old.model_copy(update={"status": "retired", "updated_at": now})
            _put(replaced, expect_status="active")
    return active, replaced


def reject(rule_id: str, *, reviewer: str, reason: str, now: datetime) -> Rule:
    rule = get(rule_id)
    if rule.status != "submitted":
        raise Conflict("只有已提交审核的规则可以驳回")
    if rule.author == reviewer:
        raise Forbidden("不能审核自己编写的规则")
    rejected = rule.model_copy(
        update={"status": "rejected", "reviewer": reviewer, "reject_reason": reason, "updated_at": now}
    )
    _put(rejected, expect_status="submitted")
    return rejected


def retire(rule_id: str, *, now: datetime) -> Rule:
    for rule in reversed(versions(rule_id)):
        if rule.status == "active":
            retired = rule.model_copy(update={"status": "retired", "updated_at": now})
            _put(retired, expect_status="active")
            return retired
    raise Conflict("该规则没有生效中的版本")


# ---------------------------------------------------------------- event-type grants per API key


def grant(api_key_id: str, event_type: str, *, by: str, now: datetime) -> None:
    if not re.match(EVENT_TYPE_PATTERN, event_type):
        raise ValidationFailed("事件类型格式不正确，例如 pension.paid", field="event_type")
    _table().put_item(
        Item={
            "pk": f"apikey#{api_key_id}",
            "sk": f"grant#{event_type}",
            "event_type": event_type,
            "granted_by": by,
            "granted_at": now.isoformat(),
        }  # fmt: skip
    )


def revoke(api_key_id: str, event_type: str) -> None:
    _table().delete_item(Key={"pk": f"apikey#{api_key_id}", "sk": f"grant#{event_type}"})


def grants(api_key_id: str) -> list[str]:
    items = (
        _table()
        .query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :g)",
            ExpressionAttributeValues={":pk": f"apikey#{api_key_id}", ":g": "grant#"},
        )
        .get("Items", [])
    )
    return sorted(item["event_type"] for item in items)


def is_granted(api_key_id: str | None, event_type: str) -> bool:
    if not api_key_id:
        return False
    item = _table().get_item(Key={"pk": f"apikey#{api_key_id}", "sk": f"grant#{event_type}"}).get("Item")
    return item is not None
