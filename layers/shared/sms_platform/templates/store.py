"""Templates and the reviewers' forbidden words in ``CONTROL_TABLE``: the only code that reads or
writes their items.

``pk="template#<id>"`` holds ``sk="meta"`` (the head: name, category, office, latest and active
version; ``gsi1`` lists an office's templates) and ``sk="v#0001"``... (each version; ``gsi1`` by
status, so the review queue and the filing poller find their work). Status changes are
conditional on the status read, so two reviewers or two pollers never both act; a version and
its template's head are written in one transaction, so they stay in step.

``pk="forbidden-word"``, ``sk=<word>``: a word reviewers added, or a seed word they removed
(``removed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries, transactions
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.templates.models import STATUS_NAMES, Template, TemplateVersion

_WORD_PK = "forbidden-word"
_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def _table() -> Any:
    return aws.table(settings().control_table)


def _pk(template_id: str) -> str:
    return f"template#{template_id}"


def _vsk(version: int) -> str:
    return f"v#{version:04d}"


# ---------------------------------------------------------------------------- item <-> model


# What a version's answer derives (names for staff) is not stored.
_DERIVED: dict[str, Any] = {"status_name": True, "carrier_filings": {"__all__": {"carrier_name", "state_name", "line"}}}


def _version_item(v: TemplateVersion) -> dict[str, Any]:
    item = v.model_dump(mode="json", exclude_none=True, exclude=_DERIVED)
    item.update(
        pk=_pk(v.template_id),
        sk=_vsk(v.version),
        gsi1pk=f"template-status#{v.status}",
        gsi1sk=f"{v.office.value}#{v.template_id}#{v.version:04d}",
    )
    return item


def _version_of(item: Mapping[str, Any]) -> TemplateVersion:
    data = {k: v for k, v in item.items() if k not in _KEYS}
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
    data = {k: v for k, v in item.items() if k not in _KEYS}
    data["latest_version"] = int(data["latest_version"])
    if data.get("active_version") is not None:
        data["active_version"] = int(data["active_version"])
    return Template.model_validate(data)


# ---------------------------------------------------------------------------- writes


def _transact(*operations: dict[str, Any]) -> None:
    """Write several items at once (a version and its template's head stay in step).

    Each operation: ``{"put": item, "condition": expr?, "values": {...}?, "names": {...}?}``. A
    failed condition is a ``Conflict``: someone else changed the template meanwhile.
    """
    # The table resource's client converts plain values to DynamoDB's typed form by itself.
    table = _table()
    puts = []
    for op in operations:
        put: dict[str, Any] = {"TableName": table.name, "Item": op["put"]}
        if op.get("condition"):
            put["ConditionExpression"] = op["condition"]
        if op.get("values"):
            put["ExpressionAttributeValues"] = op["values"]
        if op.get("names"):
            put["ExpressionAttributeNames"] = op["names"]
        puts.append({"Put": put})
    outcome = transactions.write_groups(table.meta.client, [puts], rounds=1)
    if outcome.refused:
        raise Conflict("模板已被他人修改，请刷新后重试")
    if outcome.unwritten:  # cancelled by a concurrent transaction on the same items
        raise RuntimeError("template items stayed busy; try again")


def _unchanged_since(before: TemplateVersion) -> dict[str, Any]:
    """The condition that ``before`` is still what is stored: same status, same last change."""
    return {
        "condition": "#s = :s AND updated_at = :u",
        "names": {"#s": "status"},
        "values": {":s": before.status, ":u": before.model_dump(mode="json")["updated_at"]},
    }


def _in_status(status: str) -> dict[str, Any]:
    return {"condition": "#s = :s", "names": {"#s": "status"}, "values": {":s": status}}


def create(head: Template, version: TemplateVersion) -> None:
    """A new template with its first version (both must not exist yet)."""
    _transact(
        {"put": _head_item(head), "condition": "attribute_not_exists(pk)"},
        {"put": _version_item(version), "condition": "attribute_not_exists(pk)"},
    )


def add_version(head: Template, version: TemplateVersion, *, latest_before: int) -> None:
    """A new version and the head naming it latest, if no other version was added meanwhile."""
    _transact(
        {"put": _head_item(head), "condition": "latest_version = :v", "values": {":v": latest_before}},
        {"put": _version_item(version), "condition": "attribute_not_exists(pk)"},
    )


def save_version(before: TemplateVersion, after: TemplateVersion, head: Template | None = None) -> None:
    """Store a version's new state if nobody moved it meanwhile (and the head with it)."""
    ops = [{"put": _version_item(after), **_unchanged_since(before)}]
    if head is not None:
        ops.append({"put": _head_item(head)})
    _transact(*ops)


def save_activation(
    before: TemplateVersion,
    after: TemplateVersion,
    head: Template,
    retired: TemplateVersion | None = None,
) -> None:
    """A version made active, the one it replaces retired (if any) and the head naming it active,
    each conditional on the status read."""
    ops = [{"put": _version_item(after), **_in_status(before.status)}]
    if retired is not None:
        ops.append({"put": _version_item(retired), **_in_status("active")})
    ops.append({"put": _head_item(head)})
    _transact(*ops)


# ---------------------------------------------------------------------------- reads


def load(template_id: str) -> Template:
    """A template with every version (read consistently); ``NotFound`` if there is none."""
    items = list(
        queries.items(
            _table().query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _pk(template_id)},
            ConsistentRead=True,
        )
    )
    head = next((item for item in items if item["sk"] == "meta"), None)
    if head is None:
        raise NotFound("没有这个模板")
    template = _head_of(head)
    template.versions = [_version_of(item) for item in items if item["sk"].startswith("v#")]
    return template


def _by_gsi1(partition: str) -> list[dict[str, Any]]:
    return list(
        queries.items(
            _table().query,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": partition},
        )
    )


def versions_in(status: str) -> list[TemplateVersion]:
    """Every version now in ``status``, across templates."""
    return [_version_of(item) for item in _by_gsi1(f"template-status#{status}")]


def template_ids_of(office: str) -> list[str]:
    """The ids of an office's templates, oldest first."""
    return [item["template_id"] for item in _by_gsi1(f"templates#{office}")]


# ---------------------------------------------------------------------------- forbidden words


def word_items() -> list[dict[str, Any]]:
    """The reviewers' changes to the word list: words added, seed words removed."""
    return list(
        queries.items(_table().query, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _WORD_PK})
    )


def put_added_word(word: str, *, by: str, at: str) -> None:
    _table().put_item(Item={"pk": _WORD_PK, "sk": word, "added_by": by, "added_at": at})


def put_removed_seed_word(word: str, *, by: str) -> None:
    _table().put_item(Item={"pk": _WORD_PK, "sk": word, "removed": True, "removed_by": by})


def delete_added_word(word: str) -> None:
    _table().delete_item(Key={"pk": _WORD_PK, "sk": word})
