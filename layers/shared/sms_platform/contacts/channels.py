"""Contacts sent in by the service channels and business systems, each with its own API key.

IT operations grant each key the source channels it may collect for (a kiosk's key: ``kiosk``;
the online hall's: ``online_declaration`` and ``personal_online``...). Every number a key sends
must carry one of its channels; a number without a source takes the key's channel when the key
has exactly one. Grants live on ``CONTROL_TABLE``: ``pk=apikey#<key id>``,
``sk=source#<channel>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.contacts import collection
from sms_platform.contacts.models import SOURCE_NAMES, RecordResult, SourceChannel
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.foundation.settings import settings

NOT_GRANTED = "该 API 密钥无权提交此来源渠道的号码"


def _table() -> Any:
    return aws.table(settings().control_table)


def _pk(api_key_id: str) -> str:
    return f"apikey#{api_key_id}"


def source_channel(value: str) -> SourceChannel:
    """A source channel from its code or Chinese name; ValidationFailed otherwise."""
    for code, name in SOURCE_NAMES.items():
        if value in (code, name):
            return SourceChannel(code)
    raise ValidationFailed("不是允许的来源渠道", field="source")


def grant(api_key_id: str, source: str, *, by: str, at: datetime) -> list[str]:
    channel = source_channel(source)
    _table().put_item(
        Item={
            "pk": _pk(api_key_id),
            "sk": f"source#{channel.value}",
            "source": channel.value,
            "granted_by": by,
            "granted_at": at.isoformat(),
        }
    )
    return sources_of(api_key_id)


def revoke(api_key_id: str, source: str) -> list[str]:
    channel = source_channel(source)
    _table().delete_item(Key={"pk": _pk(api_key_id), "sk": f"source#{channel.value}"})
    return sources_of(api_key_id)


def sources_of(api_key_id: str | None) -> list[str]:
    """The source channels a key may collect for, sorted; none for no key."""
    if not api_key_id:
        return []
    answer = _table().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
        ExpressionAttributeValues={":pk": _pk(api_key_id), ":s": "source#"},
        ConsistentRead=True,
    )
    return sorted(item["source"] for item in answer.get("Items", []))


def with_default_source(raw: Any, granted: list[str]) -> Any:
    """The record with the key's one channel filled in where a number names no source."""
    if len(granted) != 1 or not isinstance(raw, dict) or not isinstance(raw.get("phones"), list):
        return raw
    phones = [
        {**phone, "source": granted[0]} if isinstance(phone, dict) and phone.get("source") in (None, "") else phone
        for phone in raw["phones"]
    ]
    return {**raw, "phones": phones}


def source_errors(record: Any, granted: list[str]) -> list[dict[str, str]]:
    """A ``{"field", "message"}`` for each number whose source the key was not granted."""
    return [
        {"field": f"phones.{position}.source", "message": NOT_GRANTED}
        for position, phone in enumerate(record.phones)
        if phone.source.value not in granted
    ]


def upsert(body: Any, *, api_key_id: str | None, at: datetime) -> dict[str, Any]:
    """``POST /v1/contacts/batch``: ``{"contacts": [...]}`` checked record by record and
    upserted; answers the counts and each record's result in order."""
    granted = sources_of(api_key_id)
    if not granted:
        raise Forbidden("该 API 密钥未获准提交通讯录")
    if not isinstance(body, dict) or set(body) != {"contacts"}:
        raise ValidationFailed('请求体应为 {"contacts": [...]}', field="body")
    results = collection.upsert_batch(
        body["contacts"],
        at=at,
        prepare=lambda raw: with_default_source(raw, granted),
        extra_check=lambda record: source_errors(record, granted),
    )
    return summary(results)


def summary(results: list[RecordResult]) -> dict[str, Any]:
    counts = dict.fromkeys(("created", "updated", "unchanged", "rejected"), 0)
    for result in results:
        counts[result.status] += 1
    return {**counts, "results": [result.model_dump() for result in results]}
