"""The staff records in ``CONTROL_TABLE``: the only code that reads or writes them.

- ``account#<username>`` / ``account``: real name, staff number, office, roles, status,
  password age, failed sign-ins and lockout, whether TOTP is enrolled. ``gsi1`` lists accounts
  by office (``accounts`` / ``<office>#<username>``).
- ``staff_number#<number>`` / ``staff_number``: keeps staff numbers unique.
- ``office#<office>`` / ``suspension``: a suspended office (R18); absent when it may work.
- ``account#<username>`` / ``session#<id>``: one sign-in's last activity, for the idle timeout
  and sign-out; the id is the token's ``origin_jti`` (stable across refreshes).

The account name is the key, so the authorizer reads one account and one office record per
request; both are cached for a few seconds at most so that a suspension or a withdrawn role
bites at once. A write whose condition fails (someone changed the record first, a name or
number already taken) is a ``Conflict`` raised here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries, transactions
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.foundation.settings import settings
from sms_platform.staff.account_models import ACTIVE, Account, iso, normalize_username, parse_time
from sms_platform.staff.context import OFFICE_NAMES, Office, Role

CACHE_SECONDS = 5.0
SESSION_RECORD_DAYS = 2


def _table() -> Any:
    return aws.table(settings().control_table)


def _account_key(username: str) -> dict[str, str]:
    return {"pk": f"account#{username}", "sk": "account"}


def _staff_number_key(staff_number: str) -> dict[str, str]:
    return {"pk": f"staff_number#{staff_number}", "sk": "staff_number"}


def _office_key(office: Office) -> dict[str, str]:
    return {"pk": f"office#{Office(office).value}", "sk": "suspension"}


def _session_key(username: str, session_id: str) -> dict[str, str]:
    return {"pk": f"account#{username}", "sk": f"session#{session_id}"}


# ---------------------------------------------------------------------------- item mapping


def _from_item(item: dict[str, Any]) -> Account:
    return Account(
        username=item["username"],
        real_name=item["real_name"],
        staff_number=item["staff_number"],
        office=Office(item["office"]),
        roles=frozenset(Role(role) for role in item.get("roles", [])),
        status=item.get("status", ACTIVE),
        password_changed_at=parse_time(item.get("password_changed_at")),
        must_change_password=bool(item.get("must_change_password", False)),
        failed_signins=int(item.get("failed_signins", 0)),
        locked_until=parse_time(item.get("locked_until")),
        totp_enabled=bool(item.get("totp_enabled", False)),
        suspended_reason=item.get("suspended_reason", ""),
        created_at=parse_time(item.get("created_at")),
        updated_at=parse_time(item.get("updated_at")),
        version=int(item.get("version", 0)),
    )


def _to_item(account: Account) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_account_key(account.username),
        "gsi1pk": "accounts",
        "gsi1sk": f"{account.office.value}#{account.username}",
        "username": account.username,
        "real_name": account.real_name,
        "staff_number": account.staff_number,
        "office": account.office.value,
        "roles": sorted(role.value for role in account.roles),
        "status": account.status,
        "must_change_password": account.must_change_password,
        "failed_signins": account.failed_signins,
        "totp_enabled": account.totp_enabled,
        "suspended_reason": account.suspended_reason,
        "version": account.version,
    }
    for name in ("password_changed_at", "locked_until", "created_at", "updated_at"):
        value = getattr(account, name)
        if value is not None:
            item[name] = iso(value)
    return item


# ---------------------------------------------------------------------------- the authorizer's cache

# A few seconds of cache for the authorizer; any write in this process forgets it at once.
_cache: dict[str, tuple[float, Any, Account | None, bool]] = {}
_cache_lock = threading.Lock()


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def load_access(username: str, *, fresh: bool = False) -> tuple[Account | None, bool]:
    """The account and whether its office is suspended, read together (cached ≤ 5 s; read from
    the table when ``fresh``)."""
    username = normalize_username(username)
    table = _table()
    with _cache_lock:
        hit = None if fresh else _cache.get(username)
        # The table object is part of the key: a new moto (tests) or a new table means a miss.
        if hit and hit[1] is table and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[2], hit[3]
    account = get_account(username)
    suspended = account is not None and office_suspended(account.office)
    with _cache_lock:
        _cache[username] = (time.monotonic(), table, account, suspended)
    return account, suspended


# ---------------------------------------------------------------------------- accounts


def get_account(username: str) -> Account | None:
    item = _table().get_item(Key=_account_key(normalize_username(username)), ConsistentRead=True).get("Item")
    return _from_item(item) if item else None


def require_account(username: str) -> Account:
    account = get_account(username)
    if account is None:
        raise NotFound("没有这个账号")
    return account


def list_accounts(office: Office | None = None) -> list[Account]:
    """Every account, or those of one office, in office and name order."""
    arguments: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :accounts",
        "ExpressionAttributeValues": {":accounts": "accounts"},
    }
    if office is not None:
        arguments["KeyConditionExpression"] += " AND begins_with(gsi1sk, :office)"
        arguments["ExpressionAttributeValues"][":office"] = f"{Office(office).value}#"
    return [_from_item(item) for item in queries.items(_table().query, **arguments)]


def create(account: Account) -> None:
    """Write a new account and claim its staff number, both or neither."""
    # The table resource's client takes plain values, as the table itself does.
    client, name = _table().meta.client, _table().name
    puts = [
        {"Put": {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
        for item in (_to_item(account), {**_staff_number_key(account.staff_number), "username": account.username})
    ]
    try:
        outcome = transactions.write_groups(client, [puts])
    finally:
        forget_cached()
    if 0 in outcome.refused:
        if outcome.refused[0].action == 0:
            raise Conflict("用户名已存在", field="username")
        raise Conflict("工号已被其他账号使用", field="staff_number")
    if outcome.unwritten:
        raise Conflict("账号刚被他人修改，请刷新后重试")


def delete(account: Account) -> None:
    """Remove an account and free its staff number (a creation the identity service refused)."""
    _table().delete_item(Key=_account_key(account.username))
    _table().delete_item(Key=_staff_number_key(account.staff_number))
    forget_cached()


def save(account: Account, *, expected_version: int, at: datetime) -> Account:
    """Write ``account``, changed ``at``, if nobody changed it since it was read at ``expected_version``."""
    saved = replace(account, version=expected_version + 1, updated_at=at)
    try:
        _table().put_item(
            Item=_to_item(saved),
            ConditionExpression="attribute_exists(pk) AND version = :v",
            ExpressionAttributeValues={":v": expected_version},
        )
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("账号刚被他人修改，请刷新后重试") from error
        raise
    finally:
        forget_cached()
    return saved


def add_failed_signin(username: str) -> Account:
    """One more failed sign-in in a row; the account as it is now."""
    updated = _table().update_item(
        Key=_account_key(username),
        UpdateExpression="ADD failed_signins :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    forget_cached()
    return _from_item(updated)


def lock(username: str, until: datetime) -> Account:
    """Lock the account until ``until``, starting the count of failures afresh."""
    locked = _table().update_item(
        Key=_account_key(username),
        UpdateExpression="SET locked_until = :until, failed_signins = :zero",
        ExpressionAttributeValues={":until": iso(until), ":zero": 0},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    forget_cached()
    return _from_item(locked)


def clear_failed_signins(username: str) -> None:
    _table().update_item(
        Key=_account_key(username),
        UpdateExpression="SET failed_signins = :zero REMOVE locked_until",
        ExpressionAttributeValues={":zero": 0},
    )
    forget_cached()


# ---------------------------------------------------------------------------- office suspensions


def office_suspended(office: Office) -> bool:
    return "Item" in _table().get_item(Key=_office_key(office), ConsistentRead=True)


def suspended_offices() -> dict[Office, dict[str, Any]]:
    """Every suspended office with its reason and time (for sends and dispatch to stop theirs)."""
    found = {}
    for office in Office:
        item = _table().get_item(Key=_office_key(office)).get("Item")
        if item:
            found[office] = {"reason": item.get("reason", ""), "suspended_at": item.get("suspended_at")}
    return found


def put_office_suspension(office: Office, reason: str, *, by: str, at: datetime) -> None:
    """Mark ``office`` suspended; 409 when it already is."""
    record = {**_office_key(office), "office": office.value, "reason": reason, "suspended_at": iso(at),
              "suspended_by": by}  # fmt: skip
    try:
        _table().put_item(Item=record, ConditionExpression="attribute_not_exists(pk)")
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict(f"{OFFICE_NAMES[office]}已处于暂停状态") from error
        raise
    finally:
        forget_cached()


def delete_office_suspension(office: Office) -> dict[str, Any]:
    """Remove ``office``'s suspension record, returning it; 409 when it is not suspended."""
    try:
        return _table().delete_item(
            Key=_office_key(office), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
        )["Attributes"]
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict(f"{OFFICE_NAMES[office]}未被暂停") from error
        raise
    finally:
        forget_cached()


# ---------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Session:
    """One sign-in's record: when it was last active, and whether it has ended."""

    last_activity: datetime | None
    ended: bool


def get_session(username: str, session_id: str) -> Session | None:
    item = _table().get_item(Key=_session_key(username, session_id), ConsistentRead=True).get("Item")
    if item is None:
        return None
    return Session(parse_time(item.get("last_activity_at")), bool(item.get("ended")))


def put_session(username: str, session_id: str, at: datetime, *, ended: bool = False) -> None:
    """Record a sign-in's activity at ``at`` (or its end); the record goes after two days."""
    _table().put_item(
        Item={
            **_session_key(username, session_id),
            "last_activity_at": iso(at),
            "ended": ended,
            "expires_at": int((at + timedelta(days=SESSION_RECORD_DAYS)).timestamp()),
        }
    )


def end_session(username: str, session_id: str) -> None:
    _table().update_item(
        Key=_session_key(username, session_id),
        UpdateExpression="SET ended = :t",
        ExpressionAttributeValues={":t": True},
    )


def end_open_sessions(username: str) -> None:
    """End every sign-in of the account still open."""
    found = queries.items(
        _table().query,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :session)",
        ExpressionAttributeValues={":pk": f"account#{username}", ":session": "session#"},
    )
    for item in found:
        if not item.get("ended"):
            end_session(username, item["sk"].removeprefix("session#"))
