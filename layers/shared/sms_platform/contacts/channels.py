"""Contacts sent in by the service channels and business systems, each with its own API key.

IT operations grant each key the source channels it may collect for (a kiosk's key: ``kiosk``;
the online hall's: ``online_declaration`` and ``personal_online``...). Every number a key sends
must carry one of its channels; a number without a source takes the key's channel when the key
has exactly one. Grants live on ``CONTROL_TABLE``: ``pk=apikey#<key id>``,
``sk=source#<channel>``; granting and revoking are audited here with the key's sources before
and after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.contacts import collection
from sms_platform.contacts.models import SOURCE_NAMES, SourceChannel
from sms_platform.contacts.views_models import ContactBatch, SourceGrants
from sms_platform.foundation.errors import Forbidden, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.staff.context import StaffContext

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


def grants(api_key_id: str) -> SourceGrants:
    """The source channels a key may collect for, as IT operations see them."""
    return SourceGrants(api_key_id=api_key_id, sources=sources_of(api_key_id))


def grant(ctx: StaffContext, api_key_id: str, source: str, *, now: datetime) -> SourceGrants:
    channel = source_channel(source)
    before = sources_of(api_key_id)
    _table().put_item(
        Item={
            "pk": _pk(api_key_id),
            "sk": f"source#{channel.value}",
            "source": channel.value,
            "granted_by": ctx.account_id,
            "granted_at": now.isoformat(),
        }
    )
    return _audited(ctx, "contact_grant.add", api_key_id, before, now)


def revoke(ctx: StaffContext, api_key_id: str, source: str, *, now: datetime) -> SourceGrants:
    channel = source_channel(source)
    before = sources_of(api_key_id)
    _table().delete_item(Key={"pk": _pk(api_key_id), "sk": f"source#{channel.value}"})
    return _audited(ctx, "contact_grant.remove", api_key_id, before, now)


def _audited(ctx: StaffContext, action: str, api_key_id: str, before: list[str], now: datetime) -> SourceGrants:
    """The key's sources after a change, written to the audit trail beside those before it."""
    after = grants(api_key_id)
    trail.record(ctx, action, f"api_key:{api_key_id}", {"sources": before}, {"sources": after.sources}, at=now)
    return after


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


def upsert(body: Any, *, api_key_id: str | None, at: datetime, test: bool = False) -> ContactBatch:
    """``POST /v1/contacts/batch``: ``{"contacts": [...]}`` checked record by record and
    upserted; answers the counts and each record's result in order. ``api_key_id``: the key
    whose grants apply (a test key's live twin); ``test``: a test key's batch (CONTRACTS §7),
    answered as the live key's would be against the address book as it is, written nowhere."""
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
        dry_run=test,
    )
    return ContactBatch.of(results)
