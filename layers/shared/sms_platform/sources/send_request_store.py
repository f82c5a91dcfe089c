"""Send requests and staff members' verified phones in ``SENDS_TABLE``: the only code that reads
or writes their items (a send's fan-out chunks are ``fanout``'s).

- ``pk="send#<id>"``, ``sk="request"``: the request; ``gsi1`` by status and due time, so the
  release schedule and the review queue find their work. The fan-out adds ``planned``,
  ``chunks_total`` and its status move to it; every other change is conditional on the status
  and the time of the last change read, so two reviewers never both act.
- ``pk="sends-day#<date>"``: the sends released that day (the daily report).
- ``pk="testphone#<account>"``: an account's verified phone (encrypted, with its keyed hash and
  masked form), the code waiting to prove a new one and the day's count of codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.sources import verification_codes
from sms_platform.sources.send_request_models import KIND_NAMES, MAX_TEST_SENDS, STATUS_NAMES, SendRequest
from sms_platform.staff.context import OFFICE_NAMES, Office

_FIELDS = frozenset(SendRequest.model_fields)


def _table() -> Any:
    return aws.table(settings().sends_table)


def _key(request_id: str) -> dict[str, str]:
    return {"pk": f"send#{request_id}", "sk": "request"}


# ---------------------------------------------------------------------------- item <-> request


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _due_key(request: SendRequest) -> str:
    return (request.send_at or request.created_at).astimezone(BEIJING).isoformat()


def _item(request: SendRequest) -> dict[str, Any]:
    item = request.model_dump(mode="json", exclude_none=True, exclude={"status_name", "kind_name", "office_name"})
    item.update(
        _key(request.request_id),
        gsi1pk=f"send-status#{request.status}",
        gsi1sk=f"{_due_key(request)}#{request.request_id}",
    )
    return item


def _from_item(item: Mapping[str, Any]) -> SendRequest:
    data = {k: _plain(v) for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk") and k in _FIELDS}
    data["status_name"] = STATUS_NAMES[data["status"]]
    data["kind_name"] = KIND_NAMES[data["kind"]]
    data["office_name"] = OFFICE_NAMES[Office(data["office"])]
    return SendRequest.model_validate(data)


# ---------------------------------------------------------------------------- requests


def load_item(request_id: str) -> dict[str, Any]:
    """The request's item as stored, with what the fan-out added (``planned``, ``chunks_total``)."""
    item = _table().get_item(Key=_key(request_id), ConsistentRead=True).get("Item")
    if not item:
        raise NotFound("没有这个发送申请")
    return item


def load(request_id: str) -> SendRequest:
    return _from_item(load_item(request_id))


def create(request: SendRequest) -> None:
    _table().put_item(Item=_item(request), ConditionExpression="attribute_not_exists(pk)")


def create_once(request: SendRequest) -> bool:
    """Create a request whose id is derived (a reminder's later wave); False when it exists."""
    try:
        create(request)
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    return True


def save(before: SendRequest, after: SendRequest) -> None:
    """Store a new state if nobody moved the request meanwhile (the status is the guard)."""
    # An update, not a put: the fan-out's counters on the same item must survive.
    item = {k: v for k, v in _item(after).items() if k not in ("pk", "sk")}
    names = {f"#f{i}": name for i, name in enumerate(item)}
    values = {f":v{i}": value for i, value in enumerate(item.values())}
    names["#s"] = "status"
    values.update({":s": before.status, ":u": before.model_dump(mode="json")["updated_at"]})
    try:
        _table().update_item(
            Key=_key(after.request_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(item))),
            ConditionExpression="#s = :s AND updated_at = :u",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("发送申请已被他人处理，请刷新后重试") from error
        raise


def by_status(status: str, *, due_before: datetime | None = None) -> list[SendRequest]:
    condition = "gsi1pk = :p"
    values: dict[str, Any] = {":p": f"send-status#{status}"}
    if due_before is not None:
        condition += " AND gsi1sk <= :d"
        values[":d"] = f"{due_before.astimezone(BEIJING).isoformat()}~"
    found = queries.items(_table().query, IndexName="gsi1", KeyConditionExpression=condition,
                          ExpressionAttributeValues=values)  # fmt: skip
    return [_from_item(item) for item in found]


def count_test_send(request_id: str) -> int:
    """Count one more test send of a submitted request: its number, from 1. ``Conflict`` when the
    request is no longer submitted or has had ``MAX_TEST_SENDS``."""
    try:
        answer = _table().update_item(
            Key=_key(request_id),
            UpdateExpression="ADD test_sends :one",
            ConditionExpression="#s = :submitted AND (attribute_not_exists(test_sends) OR test_sends < :most)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":one": 1, ":submitted": "submitted", ":most": MAX_TEST_SENDS},
            ReturnValues="UPDATED_NEW",
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("该申请已不能发送测试短信") from error
        raise
    return int(answer["Attributes"]["test_sends"])


# ---------------------------------------------------------------------------- fan-out and days


def mark_planned(request_id: str, chunks: int, day: date) -> None:
    _table().update_item(
        Key=_key(request_id),
        UpdateExpression="SET planned = :t, chunks_total = :n",
        ExpressionAttributeValues={":t": True, ":n": chunks},
    )


def finish_fanout(request_id: str) -> None:
    """Every chunk is done: a send still ``sending`` becomes ``fanned_out``."""
    try:
        _table().update_item(
            Key=_key(request_id),
            UpdateExpression="SET #s = :done, gsi1pk = :g",
            ConditionExpression="#s = :sending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": "fanned_out", ":g": "send-status#fanned_out", ":sending": "sending"},
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise


def mark_finished(request_id: str, at: datetime) -> None:
    """A fanned-out send was seen over at ``at``: later readers need not count its messages."""
    try:
        _table().update_item(
            Key=_key(request_id),
            UpdateExpression="SET finished_at = :t",
            ConditionExpression="#s = :done AND attribute_not_exists(finished_at)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":t": at.isoformat(), ":done": "fanned_out"},
        )
    except Exception as error:
        if not aws.condition_failed(error):  # marked already, by another reader
            raise


def record_day(request: SendRequest, day: date) -> None:
    _table().put_item(
        Item={"pk": f"sends-day#{day.isoformat()}", "sk": f"{request.office.value}#{request.request_id}",
              "request_id": request.request_id, "office": request.office.value}
    )  # fmt: skip


def sends_of_day(day: date) -> list[str]:
    items = queries.items(
        _table().query,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": f"sends-day#{day.isoformat()}"},
    )
    return [i["request_id"] for i in items]


# ---------------------------------------------------------------------------- verified phones


def _phone_key(account_id: str, what: str) -> dict[str, str]:
    return {"pk": f"testphone#{account_id}", "sk": what}


def verified_phone(account_id: str) -> dict[str, Any] | None:
    """The account's verified phone item (``phone_token``, ``phone_hash``, ``phone_masked``,
    ``verified_at``), or None."""
    return _table().get_item(Key=_phone_key(account_id, "phone"), ConsistentRead=True).get("Item")


def count_code_today(account_id: str, now: datetime) -> int:
    """Count one more code for the account today (``verification_codes.count_today``)."""
    day = now.astimezone(BEIJING).date()
    return verification_codes.count_today(_table(), _phone_key(account_id, f"day#{day.isoformat()}"), now)


def put_code(account_id: str, code: str, now: datetime, **phone: str) -> None:
    """Keep a new code for the account with the phone it proves: for this account only."""
    key = _phone_key(account_id, "code")
    _table().put_item(Item=verification_codes.code_item(key, account_id, code, now, **phone))


def check_code(account_id: str, code: str, now: datetime) -> dict[str, Any]:
    """The code's item with its phone if ``code`` is the account's code (``verification_codes.check``)."""
    return verification_codes.check(_table(), _phone_key(account_id, "code"), account_id, code, now, field="code")


def confirm_phone(account_id: str, code_item: Mapping[str, Any], now: datetime) -> None:
    """The phone a code proved becomes the account's verified phone; the code is used up."""
    _table().put_item(
        Item={
            **_phone_key(account_id, "phone"),
            "phone_token": code_item["phone_token"],
            "phone_hash": code_item["phone_hash"],
            "phone_masked": code_item["phone_masked"],
            "verified_at": now.isoformat(),
        }
    )
    _table().delete_item(Key=_phone_key(account_id, "code"))
