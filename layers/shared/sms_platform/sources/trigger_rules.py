"""Trigger rules for business-triggered notices (R4), and the event types each business system
may send: what city operators, city reviewers and IT operations do with them, each change
written to the audit trail.

Lifecycle: draft → submitted → active (approved by a city reviewer who is not its author) or
rejected; an active version is retired when a newer one is approved. Editing makes a new draft
version; every version stays readable. A rule applies only inside its validity period.

The values are in ``trigger_rule_models``, their items in ``trigger_rule_store`` and the
condition language in ``trigger_conditions``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sms_platform.audit import trail
from sms_platform.foundation.errors import Conflict, Forbidden, ValidationFailed
from sms_platform.sources import channel_sends, trigger_rule_store
from sms_platform.sources.trigger_rule_models import (
    EVENT_TYPE_PATTERN,
    EventTypes,
    GrantedEventType,
    Grants,
    Rule,
    RuleDraft,
    RuleList,
)
from sms_platform.staff.context import StaffContext


def _audit(ctx: StaffContext, action: str, rule_id: str, before: Any, after: Rule, now: datetime) -> Rule:
    trail.record(ctx, f"trigger_rule.{action}", f"trigger_rule:{rule_id}", before, after.snapshot(), ctx.office,
                 at=now)  # fmt: skip
    return after


# ---------------------------------------------------------------- reading


def list_rules() -> RuleList:
    """The latest version of every rule."""
    return RuleList(rules=trigger_rule_store.latest_of_each())


def versions(rule_id: str) -> RuleList:
    """Every version of a rule, oldest first; ``NotFound`` if there is none."""
    return RuleList(rules=trigger_rule_store.versions(rule_id))


def get(rule_id: str) -> Rule:
    """The latest version of a rule."""
    return trigger_rule_store.get(rule_id)


# ---------------------------------------------------------------- writing and reviewing


def _new_version(ctx: StaffContext, draft: RuleDraft, rule_id: str, version: int, now: datetime) -> Rule:
    rule = Rule(
        **draft.model_dump(), rule_id=rule_id, version=version, status="draft", author=ctx.account_id,
        author_name=ctx.real_name, created_at=now, updated_at=now,
    )  # fmt: skip
    trigger_rule_store.put(rule, new=True)
    return rule


def create(ctx: StaffContext, draft: RuleDraft, *, now: datetime) -> Rule:
    rule = _new_version(ctx, draft, uuid.uuid4().hex[:12], 1, now)
    return _audit(ctx, "create", rule.rule_id, None, rule, now)


def revise(ctx: StaffContext, rule_id: str, draft: RuleDraft, *, now: datetime) -> Rule:
    """A new draft version (the latest one is edited in place while it is still a draft)."""
    latest = trigger_rule_store.get(rule_id)
    if latest.status == "draft":
        rule = latest.model_copy(update={**draft.model_dump(), "author": ctx.account_id,
                                         "author_name": ctx.real_name, "updated_at": now})  # fmt: skip
        trigger_rule_store.put(rule, expect_status="draft")
    elif latest.status == "submitted":
        raise Conflict("该规则正在审核中，审核结束后才能修改")
    else:
        rule = _new_version(ctx, draft, rule_id, latest.version + 1, now)
    return _audit(ctx, "revise", rule_id, latest.snapshot(), rule, now)


def submit(ctx: StaffContext, rule_id: str, *, now: datetime) -> Rule:
    rule = trigger_rule_store.get(rule_id)
    if rule.status != "draft":
        raise Conflict("只有草稿可以提交审核")
    updated = rule.model_copy(update={"status": "submitted", "updated_at": now})
    trigger_rule_store.put(updated, expect_status="draft")
    return _audit(ctx, "submit", rule_id, {"status": "draft"}, updated, now)


def _must_review(ctx: StaffContext, rule: Rule, action: str) -> None:
    if rule.status != "submitted":
        raise Conflict(f"只有已提交审核的规则可以{action}")
    if rule.author == ctx.account_id:
        raise Forbidden("不能审核自己编写的规则")


def approve(ctx: StaffContext, rule_id: str, *, now: datetime) -> Rule:
    """Activate the submitted version; the version it replaces is retired (the audit entry's
    ``before`` is that retired version, or none)."""
    found = trigger_rule_store.versions(rule_id)
    rule = found[-1]
    _must_review(ctx, rule, "审核通过")
    if channel_sends.active_template(rule.template_id, now, category="triggered") is None:
        raise Conflict("规则使用的模板不是生效中的业务触发类模板（未审核、未备案、不在有效期内或类别不符），不能启用")
    active = rule.model_copy(update={"status": "active", "reviewer": ctx.account_id, "updated_at": now})
    trigger_rule_store.put(active, expect_status="submitted")
    replaced = None
    for old in found[:-1]:
        if old.status == "active":
            replaced = old.model_copy(update={"status": "retired", "updated_at": now})
            trigger_rule_store.put(replaced, expect_status="active")
    return _audit(ctx, "approve", rule_id, replaced.snapshot() if replaced else None, active, now)


def reject(ctx: StaffContext, rule_id: str, reason: str, *, now: datetime) -> Rule:
    rule = trigger_rule_store.get(rule_id)
    _must_review(ctx, rule, "审核不通过")
    rejected = rule.model_copy(
        update={"status": "rejected", "reviewer": ctx.account_id, "reject_reason": reason, "updated_at": now}
    )
    trigger_rule_store.put(rejected, expect_status="submitted")
    return _audit(ctx, "reject", rule_id, {"status": "submitted"}, rejected, now)


def retire(ctx: StaffContext, rule_id: str, *, now: datetime) -> Rule:
    for rule in reversed(trigger_rule_store.versions(rule_id)):
        if rule.status == "active":
            retired = rule.model_copy(update={"status": "retired", "updated_at": now})
            trigger_rule_store.put(retired, expect_status="active")
            return _audit(ctx, "retire", rule_id, {"status": "active"}, retired, now)
    raise Conflict("该规则没有生效中的版本")


# ---------------------------------------------------------------- event-type grants per API key


def grants(api_key_id: str) -> Grants:
    return Grants(api_key_id=api_key_id, event_types=trigger_rule_store.granted_types(api_key_id))


def event_types() -> EventTypes:
    """The event types some business system may send (its key was granted them): what a rule
    can be written for, each with how many keys may send it."""
    keys: dict[str, int] = {}
    for _, event_type in trigger_rule_store.all_grants():
        keys[event_type] = keys.get(event_type, 0) + 1
    return EventTypes(event_types=[GrantedEventType(event_type=t, api_keys=n) for t, n in sorted(keys.items())])


def _audit_grants(ctx: StaffContext, action: str, before: Grants, now: datetime) -> Grants:
    after = grants(before.api_key_id)
    trail.record(ctx, f"event_grant.{action}", f"api_key:{before.api_key_id}", {"event_types": before.event_types},
                 {"event_types": after.event_types}, ctx.office, at=now)  # fmt: skip
    return after


def grant(ctx: StaffContext, api_key_id: str, event_type: str, *, now: datetime) -> Grants:
    """Let the key send events of this type; the key's grants after it."""
    if not re.match(EVENT_TYPE_PATTERN, event_type):
        raise ValidationFailed("事件类型格式不正确，例如 pension.paid", field="event_type")
    before = grants(api_key_id)
    trigger_rule_store.put_grant(api_key_id, event_type, by=ctx.account_id, now=now)
    return _audit_grants(ctx, "add", before, now)


def revoke(ctx: StaffContext, api_key_id: str, event_type: str, *, now: datetime) -> Grants:
    """Stop the key sending events of this type; the key's grants after it."""
    before = grants(api_key_id)
    trigger_rule_store.delete_grant(api_key_id, event_type)
    return _audit_grants(ctx, "remove", before, now)


def is_granted(api_key_id: str | None, event_type: str) -> bool:
    """Whether the business system's key may send this event type (no key: no)."""
    return trigger_rule_store.is_granted(api_key_id, event_type)
