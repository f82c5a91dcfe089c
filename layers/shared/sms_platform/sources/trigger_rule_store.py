"""Trigger rules and event-type grants in CONTROL_TABLE: the only code that reads or writes them.

Rules: ``pk=rule#{id}``, ``sk=v#{version:05d}``; active versions carry
``gsi1pk=rules#{event_type}`` so the intake finds them with one query. Grants:
``pk=apikey#{api_key_id}``, ``sk=grant#{event_type}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.sources.trigger_rule_models import Rule


def _table() -> Any:
    return aws.table(settings().control_table)


# ---------------------------------------------------------------- rules


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
    """Every version of a rule, oldest first; ``NotFound`` if there is none."""
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
    """The latest version, or the one asked for."""
    found = versions(rule_id)
    if version is None:
        return found[-1]
    for rule in found:
        if rule.version == version:
            return rule
    raise NotFound("没有这个版本的触发规则")


def latest_of_each() -> list[Rule]:
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


def put(rule: Rule, *, new: bool = False, expect_status: str | None = None) -> None:
    """Write a version: a new one only if absent, an existing one only if still in
    ``expect_status``; ``Conflict`` when someone else changed it first."""
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


# ---------------------------------------------------------------- event-type grants per API key


def _grant_key(api_key_id: str, event_type: str) -> dict[str, str]:
    return {"pk": f"apikey#{api_key_id}", "sk": f"grant#{event_type}"}


def put_grant(api_key_id: str, event_type: str, *, by: str, now: datetime) -> None:
    _table().put_item(
        Item={**_grant_key(api_key_id, event_type), "event_type": event_type, "granted_by": by,
              "granted_at": now.isoformat()}
    )  # fmt: skip


def delete_grant(api_key_id: str, event_type: str) -> None:
    _table().delete_item(Key=_grant_key(api_key_id, event_type))


def granted_types(api_key_id: str) -> list[str]:
    items = (
        _table()
        .query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :g)",
            ExpressionAttributeValues={":pk": f"apikey#{api_key_id}", ":g": "grant#"},
        )
        .get("Items", [])
    )
    return sorted(item["event_type"] for item in items)


def all_grants() -> list[tuple[str, str]]:
    """Every grant as (API key id, event type): a scan, as the control table is small and grants few."""
    items = queries.items(
        _table().scan,
        FilterExpression="begins_with(pk, :p) AND begins_with(sk, :g)",
        ExpressionAttributeValues={":p": "apikey#", ":g": "grant#"},
    )
    return sorted((item["pk"].removeprefix("apikey#"), item["event_type"]) for item in items)


def is_granted(api_key_id: str | None, event_type: str) -> bool:
    if not api_key_id:
        return False
    return _table().get_item(Key=_grant_key(api_key_id, event_type)).get("Item") is not None
