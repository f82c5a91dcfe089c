"""The messages repository (``MESSAGES_TABLE``): one item per recipient message.

Keys: ``pk = "msg#<message id>"``, ``sk = "msg"``; ``gsi1pk = "phone#<keyed hash>"`` and
``gsi1sk = "<created ISO time>#<message id>"`` find a number's recent messages ("did my message
arrive?"). Items hold the masked number only, never the clear one, and expire after
``RETENTION_DAYS``.

Every state move is one conditional write on the current state (see ``messages.TRANSITIONS``),
so a redelivered SQS message or a retried invocation cannot send a recipient twice: only the
writer that moves ``queued → sending`` calls the carrier. The moves of a whole batch (records,
``queued → sending``, ``sending → sent``, ``sending → queued``) go in transactions of up to 100 conditional writes
(``sms_platform.aws.transactions``), each message's write standing or falling on its own. A
receipt may arrive while the message is still ``sending``; it lands, and the later ``sent``
write then only records the BizId.

Holds (``pk = "hold#<scope>#<key>"``) stop queued messages of a stopped send or a suspended
office from going out: the dispatcher suppresses them with the hold's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sms_platform import aws
from sms_platform.aws import transactions
from sms_platform.sending import daily_stats
from sms_platform.sending.messages import MessageState, SuppressReason

if TYPE_CHECKING:
    from sms_platform.sending.frequency_limits import BatchCounters

TABLE_ENV = "MESSAGES_TABLE"
RETENTION_DAYS = 400
_SK = "msg"


def _table() -> Any:
    return aws.table(TABLE_ENV)


def _key(mid: str) -> dict[str, str]:
    return {"pk": f"msg#{mid}", "sk": _SK}


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class MessageGroup:
    """What the messages of one queued batch share."""

    kind: str
    source_id: str
    office: str
    batch_id: str
    sign_name: str
    template_code: str
    template_id: str
    template_version: int
    parts: int


@dataclass(frozen=True)
class NewMessage(MessageGroup):
    """One message: what its batch shares, and its own id and number (keyed hash, masked)."""

    message_id: str
    phone_hash: str
    phone_masked: str


def record(message: NewMessage, state: MessageState, at: datetime, **extra: Any) -> MessageState | None:
    """Create the message in ``state``; if it already exists, return its current state instead."""
    item = {
        **_key(message.message_id),
        **asdict(message),
        "state": str(state),
        "created_at": _iso(at),
        "updated_at": _iso(at),
        "expires_at": int((at + timedelta(days=RETENTION_DAYS)).timestamp()),
        "gsi1pk": f"phone#{message.phone_hash}",
        "gsi1sk": f"{_iso(at)}#{message.message_id}",
        **extra,
    }
    try:
        _table().put_item(
            Item=item, ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
        old = error.response.get("Item") or {}  # type: ignore[attr-defined]
        state_value = old.get("state")
        if isinstance(state_value, dict):  # error answers carry raw attribute values
            state_value = state_value.get("S")
        return MessageState(state_value) if state_value else MessageState.QUEUED
    daily_stats.count_move(None, item)  # counts a message created final (suppressed, undeliverable)
    return None


def record_many(
    group: MessageGroup,
    recipients: Sequence[tuple[str, str, str]],
    state: MessageState,
    at: datetime,
    *,
    source_index: bool = False,
    **extra: Any,
) -> list[MessageState | None]:
    """``record`` for many messages of one batch, given as (message id, phone hash, masked
    number), in a few transactions: None for each message created, else the state it had.

    ``source_index`` also indexes each message under its source (``gsi2``).
    """
    from boto3.dynamodb.types import TypeSerializer

    now = _iso(at)
    plain_common = {
        **asdict(group),
        "state": str(state),
        "created_at": now,
        "updated_at": now,
        "expires_at": int((at + timedelta(days=RETENTION_DAYS)).timestamp()),
        **extra,
    }
    if source_index:
        plain_common["gsi2pk"] = f"src#{group.source_id}"
    serializer = TypeSerializer()
    common = {name: serializer.serialize(value) for name, value in plain_common.items()}
    table_name = _table().name
    groups = []
    for mid, phone_hash, masked in recipients:
        item = {
            **common,
            "pk": {"S": "msg#" + mid},
            "sk": _SK_VALUE,
            "message_id": {"S": mid},
            "phone_hash": {"S": phone_hash},
            "phone_masked": {"S": masked},
            "gsi1pk": {"S": "phone#" + phone_hash},
            "gsi1sk": {"S": f"{now}#{mid}"},
        }
        if source_index:
            item["gsi2sk"] = {"S": mid}
        groups.append(
            [
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        )
    outcome = transactions.write_groups(_client(), groups)
    found: list[MessageState | None] = [None] * len(recipients)
    for index, refusal in outcome.refused.items():
        old_state = (refusal.item or {}).get("state")
        found[index] = MessageState(old_state) if old_state else MessageState.QUEUED
    for index in outcome.unwritten:  # left by repeated conflicts: one write each
        mid, phone_hash, masked = recipients[index]
        new = NewMessage(**asdict(group), message_id=mid, phone_hash=phone_hash, phone_masked=masked)
        keys = {"gsi2pk": plain_common["gsi2pk"], "gsi2sk": mid} if source_index else {}
        found[index] = record(new, state, at, **extra, **keys)
    created = sum(1 for index, value in enumerate(found) if value is None and index not in outcome.unwritten)
    if created:  # a message created final (suppressed, undeliverable) counts; queued ones add nothing
        first = recipients[0][0]
        daily_stats.count_move(None, {**plain_common, "message_id": first}, created)
    return found


def get_many(message_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current items of the given messages (missing ones left out)."""
    ids = list(dict.fromkeys(message_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        for item in _batch_get([{"pk": "msg#" + mid, "sk": _SK} for mid in ids[start : start + 100]]):
            found[item["message_id"]] = item
    return found


def _batch_get(keys: list[dict[str, str]]) -> list[dict[str, Any]]:
    """BatchGetItem (up to 100 keys), retrying what DynamoDB leaves unprocessed."""
    table = _table()
    pending: list[dict[str, Any]] = keys
    items: list[dict[str, Any]] = []
    for _ in range(10):
        if not pending:
            return items
        # The table resource's client (de)serialises attribute values itself.
        answer = table.meta.client.batch_get_item(RequestItems={table.name: {"Keys": pending, "ConsistentRead": True}})
        items.extend(answer["Responses"].get(table.name, []))
        pending = answer.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys", [])
    raise RuntimeError("DynamoDB left keys unprocessed")


def get(mid: str) -> dict[str, Any] | None:
    return _table().get_item(Key=_key(mid), ConsistentRead=True).get("Item")


def _move(
    mid: str,
    target: MessageState,
    from_states: Iterable[MessageState],
    at: datetime,
    *,
    sets: dict[str, Any] | None = None,
    removes: Iterable[str] = (),
    extra_condition: str = "",
    extra_values: dict[str, Any] | None = None,
    return_new: bool = False,
) -> dict[str, Any] | None:
    """Move a message to ``target`` if it is in one of ``from_states``; the new item, or None."""
    values: dict[str, Any] = {":target": str(target), ":now": _iso(at), **(extra_values or {})}
    names = {"#s": "state"}
    assignments = ["#s = :target", "updated_at = :now"]
    for index, (name, value) in enumerate((sets or {}).items()):
        names[f"#a{index}"] = name
        values[f":a{index}"] = value
        assignments.append(f"#a{index} = :a{index}")
    allowed = []
    for index, state in enumerate(from_states):
        values[f":f{index}"] = str(state)
        allowed.append(f":f{index}")
    condition = f"#s IN ({', '.join(allowed)})"
    if extra_condition:
        condition = f"({condition}) AND ({extra_condition})"
    expression = "SET " + ", ".join(assignments)
    removes = list(removes)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    # Moves that can change the daily statistics read the item as it was, to count the change.
    counted = target not in (MessageState.QUEUED, MessageState.SENDING)
    try:
        answer = _table().update_item(
            Key=_key(mid),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD" if counted else "ALL_NEW" if return_new else "NONE",
        )
    except Exception as error:
        if aws.condition_failed(error):
            return None
        raise
    if counted:
        old = answer.get("Attributes", {})
        new = {**old, **(sets or {}), "state": str(target), "updated_at": values[":now"]}
        for name in removes:
            new.pop(name, None)
        daily_stats.count_move(old, new)  # only after the conditional move succeeded: never twice
        return new if return_new else {"message_id": mid}
    return answer.get("Attributes", {}) if return_new else {"message_id": mid}


def mark_sending(mid: str, attempt: str, out_id: str, at: datetime) -> bool:
    """``queued → sending``; only the caller that wins this write may call the carrier."""
    sets = {"attempt_token": attempt, "out_id": out_id, "sending_at": _iso(at)}
    return _move(mid, MessageState.SENDING, [MessageState.QUEUED], at, sets=sets) is not None


def mark_sent(mid: str, biz_id: str | None, at: datetime) -> bool:
    """``sending → sent`` with the carrier's BizId. If a receipt got there first, keep its final
    state and only record the BizId."""
    sets = {"sent_at": _iso(at)}
    if biz_id:  # a settlement by QuerySendDetails learns no BizId; the receipt brings it
        sets["biz_id"] = biz_id
    if _move(mid, MessageState.SENT, [MessageState.SENDING], at, sets=sets) is not None:
        return True
    if not biz_id:
        return False
    try:
        _table().update_item(
            Key=_key(mid),
            UpdateExpression="SET biz_id = if_not_exists(biz_id, :b), sent_at = if_not_exists(sent_at, :t)",
            ConditionExpression="#s IN (:d, :f)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":b": biz_id,
                ":t": _iso(at),
                ":d": str(MessageState.DELIVERED),
                ":f": str(MessageState.FAILED),
            },
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
    return False


_STATE_NAME = {"#s": "state"}
_SENDING_UPDATE = "SET #s = :to, updated_at = :now, attempt_token = :attempt, out_id = :out, sending_at = :now"
_SENT_UPDATE = "SET #s = :to, updated_at = :now, sent_at = :now, biz_id = :biz"
_SENT_UPDATE_NO_BIZ = "SET #s = :to, updated_at = :now, sent_at = :now"


def _client() -> Any:
    """The low-level client: transactions are built with typed values (``{"S": ...}``), so a
    value all the writes share is built once, and boto3 has nothing to convert."""
    return aws.client("dynamodb")


_SK_VALUE = {"S": _SK}


def keys_of(mids: Iterable[str]) -> list[dict[str, Any]]:
    """The messages' keys, typed for the low-level client: a batch's moves (``queued → sending``,
    then ``sending → sent``) share them instead of building each key twice."""
    return [{"pk": {"S": "msg#" + mid}, "sk": _SK_VALUE} for mid in mids]


def _id_of(key: Mapping[str, Any]) -> str:
    return str(key["pk"]["S"]).removeprefix("msg#")


def _moves(keys: Sequence[dict[str, Any]], update: dict[str, Any]) -> list[dict[str, Any]]:
    """One conditional move per message as transaction actions, all alike but for the key: each
    a copy of ``update`` (copying a dict is cheaper than building it anew, and a batch has many)."""
    found = []
    for key in keys:
        action = update.copy()
        action["Key"] = key
        found.append({"Update": action})
    return found


def sending_actions(keys: Sequence[dict[str, Any]], attempt: str, out_id: str, at: datetime) -> list[dict[str, Any]]:
    """``queued → sending`` of each message (``keys_of``) as a transaction action (``mark_sending``
    in bulk). A refused move carries the message as it was: its state tells a message another
    attempt is sending from one already done."""
    values = {
        ":to": {"S": "sending"}, ":from": {"S": "queued"}, ":now": {"S": _iso(at)},
        ":attempt": {"S": attempt}, ":out": {"S": out_id},
    }  # fmt: skip
    update = {
        "TableName": _table().name,
        "UpdateExpression": _SENDING_UPDATE,
        "ConditionExpression": "#s = :from",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return _moves(keys, update)


def mark_sending_many(
    keys: Sequence[dict[str, Any]],
    attempt: str,
    out_id: str,
    at: datetime,
    *,
    counters: BatchCounters | None = None,
    phone_hashes: Sequence[str] = (),
) -> transactions.Outcome:
    """``mark_sending`` for many messages (``keys_of``) in a few transactions.

    With ``counters``, each message's move is written together with its frequency counter
    writes (``phone_hashes`` name its number), all or nothing, and stands or falls alone. In a
    refusal, the actions below ``len(counters)`` are counters (a full window), the one at it is
    the message's own move (no longer ``queued``; its item as it was says what it is now).
    """
    moves = sending_actions(keys, attempt, out_id, at)
    if counters is None:
        return transactions.write_runs(_client(), moves)
    return transactions.write_runs(_client(), counters.with_counts(phone_hashes, moves), len(counters) + 1)


@dataclass(frozen=True)
class SentGroup:
    """What the messages of one ``mark_sent_many`` call share, for the daily statistics: they
    were handed to the carrier together (``sending_at``) for one kind and office."""

    kind: str
    office: str
    parts: int
    sending_at: datetime


def mark_sent_many(keys: Sequence[dict[str, Any]], biz_id: str | None, at: datetime, group: SentGroup) -> int:
    """``mark_sent`` for many messages (``keys_of``) in a few transactions; how many moved to ``sent``.

    A message whose receipt got there first fails its condition alone and then only records the
    BizId (``mark_sent``). The moves are counted in the daily statistics in one ``ADD``: a
    message counts on the day it was handed to the carrier, which the group says, so nothing
    needs reading first.
    """
    name, now = _table().name, _iso(at)
    values: dict[str, Any] = {":to": {"S": "sent"}, ":from": {"S": "sending"}, ":now": {"S": now}}
    if biz_id:
        values[":biz"] = {"S": biz_id}
    update = {
        "TableName": name,
        "UpdateExpression": _SENT_UPDATE if biz_id else _SENT_UPDATE_NO_BIZ,
        "ConditionExpression": "#s = :from",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
    }
    outcome = transactions.write_runs(_client(), _moves(keys, update))
    skip = {*outcome.refused, *outcome.unwritten}
    left = sorted(skip)
    moved = len(keys) - len(left)
    if moved:
        # The count goes to the shard of the first message moved.
        first = next(index for index in range(len(keys)) if index not in skip)
        old = {
            "message_id": _id_of(keys[first]), "kind": group.kind, "office": group.office, "parts": group.parts,
            "state": str(MessageState.SENDING), "sending_at": _iso(group.sending_at),
        }  # fmt: skip
        changes = {"state": "sent", "sent_at": now, "updated_at": now, **({"biz_id": biz_id} if biz_id else {})}
        daily_stats.count_move(old, {**old, **changes}, moved)
    for index in left:  # one write each: it moves, or keeps a receipt's final state and the BizId
        moved += mark_sent(_id_of(keys[index]), biz_id, at)
    return moved


def requeue_many(
    keys: Sequence[dict[str, Any]],
    attempt: str,
    at: datetime,
    *,
    releases: Sequence[list[dict[str, Any]]] | None = None,
) -> list[int]:
    """``sending → queued`` of this attempt's messages (``keys_of``) when the carrier certainly
    did not take its request; the indexes of those moved back.

    Each move is written with the message's ``releases`` (giving back its frequency counts, one
    list per message, made for this call), all or nothing: only a message this attempt still
    holds gives its counts back, and only once.
    """
    values = {
        ":to": {"S": "queued"}, ":from": {"S": "sending"}, ":now": {"S": _iso(at)}, ":attempt": {"S": attempt},
    }  # fmt: skip
    update = {
        "TableName": _table().name,
        "UpdateExpression": "SET #s = :to, updated_at = :now REMOVE attempt_token, sending_at",
        "ConditionExpression": "#s = :from AND attempt_token = :attempt",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
    }
    moves = _moves(keys, update)
    if releases is None:
        outcome = transactions.write_runs(_client(), moves)
    else:
        if len(releases) != len(moves):
            raise ValueError("one list of releases per message")
        outcome = transactions.write_groups(_client(), [[*writes, move] for writes, move in zip(releases, moves)])  # noqa: B905
        if outcome.unwritten:
            # Still in conflict after every round (a counter item busy with other sends): put
            # the message back without giving its counts back rather than leave it sending. At
            # worst it waits one window more.
            alone = outcome.unwritten
            rest = transactions.write_runs(_client(), [moves[index] for index in alone])
            outcome.refused.update({alone[index]: refusal for index, refusal in rest.refused.items()})
            outcome.unwritten = [alone[index] for index in rest.unwritten]
    if outcome.unwritten:  # the batch fails and comes back: the messages are then settled, not resent
        raise RuntimeError(f"{len(outcome.unwritten)} messages could not be put back to queued")
    return [index for index in range(len(keys)) if index not in outcome.refused]


def mark_failed(
    mid: str, error_code: str, error_message: str, at: datetime, *, biz_id: str | None = None
) -> dict[str, Any] | None:
    sets: dict[str, Any] = {"error_code": error_code, "error_message": error_message, "final_at": _iso(at)}
    if biz_id:
        sets["biz_id"] = biz_id
    return _move(mid, MessageState.FAILED, [MessageState.SENDING, MessageState.SENT], at, sets=sets, return_new=True)


def mark_delivered(mid: str, at: datetime, *, biz_id: str | None = None) -> dict[str, Any] | None:
    sets: dict[str, Any] = {"final_at": _iso(at)}
    if biz_id:
        sets["biz_id"] = biz_id
    return _move(mid, MessageState.DELIVERED, [MessageState.SENDING, MessageState.SENT], at, sets=sets, return_new=True)


def suppress(mid: str, reason: SuppressReason, at: datetime) -> bool:
    sets = {"suppress_reason": str(reason), "final_at": _iso(at)}
    return _move(mid, MessageState.SUPPRESSED, [MessageState.QUEUED], at, sets=sets) is not None


def expire(mid: str, at: datetime) -> bool:
    return _move(mid, MessageState.EXPIRED, [MessageState.QUEUED], at, sets={"final_at": _iso(at)}) is not None


def apply_receipt(
    mid: str,
    *,
    success: bool,
    err_code: str | None,
    err_msg: str | None,
    report_time: str | None,
    biz_id: str | None,
    at: datetime,
) -> dict[str, Any] | None:
    """Land a delivery receipt: ``delivered`` or ``failed`` as ``success`` says.

    The first receipt is the truth even over a state the platform inferred while settling; a
    repeated receipt changes nothing. Returns the updated item, or None if nothing changed
    (unknown message, repeat, or a message that was never handed to the carrier).
    """
    target = MessageState.DELIVERED if success else MessageState.FAILED
    sets: dict[str, Any] = {
        "receipt_at": _iso(at),
        "receipt_success": success,
        "receipt_code": err_code or "",
        "receipt_report_time": report_time or "",
        "final_at": _iso(at),
    }
    if not success:
        sets["error_code"] = err_code or "UNKNOWN"
        sets["error_message"] = err_msg or ""
    if biz_id:
        sets["biz_id"] = biz_id
    return _move(
        mid,
        target,
        [MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED, MessageState.FAILED],
        at,
        sets=sets,
        extra_condition="#s IN (:f0, :f1) OR attribute_not_exists(receipt_at)",
        return_new=True,
    )


def recent_for_phone(phone_hash: str, limit: int = 20) -> list[dict[str, Any]]:
    """A number's most recent messages, newest first."""
    answer = _table().query(
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": f"phone#{phone_hash}"},
        ScanIndexForward=False,
        Limit=limit,
    )
    return answer.get("Items", [])


# ------------------------------------------------------------------ holds
HOLD_SCOPES = {"source": SuppressReason.STOPPED_SEND, "office": SuppressReason.SUSPENDED_OFFICE}


def _hold_key(scope: str, key: str) -> dict[str, str]:
    if scope not in HOLD_SCOPES:
        raise ValueError(f"unknown hold scope {scope!r}")
    return {"pk": f"hold#{scope}#{key}", "sk": "hold"}


def place_hold(scope: str, key: str, note: str, at: datetime) -> None:
    """Stop queued messages of a source (a stopped send) or an office (a suspension)."""
    _table().put_item(Item={**_hold_key(scope, key), "scope": scope, "key": key, "note": note, "placed_at": _iso(at)})


def lift_hold(scope: str, key: str) -> None:
    _table().delete_item(Key=_hold_key(scope, key))


def hold_reason(source_id: str, office: str) -> SuppressReason | None:
    """Why messages of this source and office must not go out now, if they must not."""
    items = _batch_get([_hold_key("source", source_id), _hold_key("office", office)])
    scopes = {item["scope"] for item in items}
    if "source" in scopes:
        return SuppressReason.STOPPED_SEND
    if "office" in scopes:
        return SuppressReason.SUSPENDED_OFFICE
    return None
