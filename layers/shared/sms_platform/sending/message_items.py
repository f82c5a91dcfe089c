"""Recipient messages as items of ``MESSAGES_TABLE``, and each state move as the conditional write
that makes it: plain data, built here and sent by ``message_store`` (nothing here calls DynamoDB).

Keys: ``pk = "msg#<message id>"``, ``sk = "msg"``; ``gsi1pk = "phone#<keyed hash>"`` and
``gsi1sk = "<created ISO time>#<message id>"`` find a number's recent messages ("did my message
arrive?"); ``gsi2pk = "src#<source id>"`` lists a source's messages where it asks for it. Items
hold the masked number only, never the clear one, and expire after ``RETENTION_DAYS``.

A move is an update on condition that the message is in one of the states it moves from (see
``messages.TRANSITIONS``). A batch's moves are transaction actions alike but for the key, typed
for the low-level client (``{"S": ...}``) so that what they share is built once.

Holds (``pk = "hold#<scope>#<key>"``) stop queued messages of a stopped send or a suspended
office from going out: the dispatcher suppresses them with the hold's reason.

A message handed to a carrier that names each message by an id of its own (Tencent's SerialNo)
records the carrier and that id (``carrier``, ``carrier_id``), and an index item
(``pk = "cid#<carrier>#<id>"``) names the message, so that the carrier's receipt, which carries
only its id and the number, finds it with one read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sms_platform.sending.messages import MessageState, SuppressReason

RETENTION_DAYS = 400
SK = "msg"

_SK_VALUE = {"S": SK}
_STATE_NAME = {"#s": "state"}
_SENDING_UPDATE = "SET #s = :to, updated_at = :now, attempt_token = :attempt, out_id = :out, sending_at = :now"
_SENDING_CARRIER_UPDATE = _SENDING_UPDATE + ", carrier = :carrier"
_SENT_UPDATE = "SET #s = :to, updated_at = :now, sent_at = :now, biz_id = :biz"
_SENT_UPDATE_NO_BIZ = "SET #s = :to, updated_at = :now, sent_at = :now"
_REQUEUE_UPDATE = "SET #s = :to, updated_at = :now REMOVE attempt_token, sending_at, carrier"


def key(mid: str) -> dict[str, str]:
    return {"pk": f"msg#{mid}", "sk": SK}


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def _expires_at(at: datetime) -> int:
    return int((at + timedelta(days=RETENTION_DAYS)).timestamp())


# ---------------------------------------------------------------------------- new messages


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


def new_item(message: NewMessage, state: MessageState, at: datetime, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The item of ``message``, created in ``state`` at ``at``."""
    return {
        **key(message.message_id),
        **asdict(message),
        "state": str(state),
        "created_at": iso(at),
        "updated_at": iso(at),
        "expires_at": _expires_at(at),
        "gsi1pk": f"phone#{message.phone_hash}",
        "gsi1sk": f"{iso(at)}#{message.message_id}",
        **extra,
    }


def existing_state(item: Mapping[str, Any] | None) -> MessageState:
    """The state of a message a creation found already there (its item as the refusal gave it,
    plain or with raw attribute values)."""
    value = (item or {}).get("state")
    if isinstance(value, dict):  # error answers carry raw attribute values
        value = value.get("S")
    return MessageState(value) if value else MessageState.QUEUED


def batch_fields(
    group: MessageGroup, state: MessageState, at: datetime, *, source_index: bool, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """What every item of a batch created together holds (``source_index``: indexed under its
    source, ``gsi2``)."""
    now = iso(at)
    fields = {
        **asdict(group),
        "state": str(state),
        "created_at": now,
        "updated_at": now,
        "expires_at": _expires_at(at),
        **extra,
    }
    if source_index:
        fields["gsi2pk"] = f"src#{group.source_id}"
    return fields


def batch_puts(
    fields: Mapping[str, Any], recipients: Sequence[tuple[Any, ...]], table_name: str, *, source_index: bool
) -> list[list[dict[str, Any]]]:
    """One conditional put per recipient (message id, phone hash, masked number, and optionally
    a mapping of the recipient's own attributes) of items holding ``fields``, each a group of its
    own; a refused put gives the item as it was."""
    # Where used: boto3 stays out of the cold import of every function that sends.
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    common = {name: serializer.serialize(value) for name, value in fields.items()}
    created = fields["created_at"]
    groups = []
    for mid, phone_hash, masked, *own in recipients:
        item = {
            **common,
            "pk": {"S": "msg#" + mid},
            "sk": _SK_VALUE,
            "message_id": {"S": mid},
            "phone_hash": {"S": phone_hash},
            "phone_masked": {"S": masked},
            "gsi1pk": {"S": "phone#" + phone_hash},
            "gsi1sk": {"S": f"{created}#{mid}"},
        }
        if source_index:
            item["gsi2sk"] = {"S": mid}
        if own and own[0]:  # what this recipient alone holds (its group's sort key, its name)
            item.update((name, serializer.serialize(value)) for name, value in own[0].items())
        put = {
            "TableName": table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        groups.append([{"Put": put}])
    return groups


@dataclass(frozen=True)
class Caller:
    """Who outside the platform caused a message and may ask what became of it (CONTRACTS §7):
    ``ref`` names the event or call (``evt#<key>``, ``call#<key>``) and indexes the message under
    it (``gsi2``), ``outside_id`` is the caller's own id of it, ``test`` marks a test key's
    message (settled by the platform, never sent), ``notify_key`` the API key whose callback URL
    hears of each state change."""

    ref: str
    outside_id: str
    test: bool = False
    notify_key: str | None = None

    def fields(self, mid: str) -> dict[str, Any]:
        """What each message of this caller holds besides its own fields."""
        found: dict[str, Any] = {"gsi2pk": "caller#" + self.ref, "gsi2sk": mid, "caller_id": self.outside_id}
        if self.test:
            found["test"] = True
        if self.notify_key:
            found["notify_key"] = self.notify_key
        return found


# ---------------------------------------------------------------------------- one message's moves


@dataclass(frozen=True)
class Move:
    """A move of one message to ``target`` from any of the states it may leave, as an update:
    ``sets`` written and ``removes`` removed with the state and the time of the change."""

    target: MessageState
    expression: str
    condition: str
    names: dict[str, str]
    values: dict[str, Any]
    sets: dict[str, Any] = field(default_factory=dict)
    removes: tuple[str, ...] = ()

    @property
    def counted(self) -> bool:
        """Whether the move can change the daily statistics (which then need the item as it was)."""
        return self.target not in (MessageState.QUEUED, MessageState.SENDING)

    def applied_to(self, old: Mapping[str, Any]) -> dict[str, Any]:
        """The item after the move, from the item as it was."""
        new = {**old, **self.sets, "state": str(self.target), "updated_at": self.values[":now"]}
        for name in self.removes:
            new.pop(name, None)
        return new


def move(
    target: MessageState,
    from_states: Iterable[MessageState],
    at: datetime,
    *,
    sets: Mapping[str, Any] | None = None,
    removes: Iterable[str] = (),
    extra_condition: str = "",
) -> Move:
    """Move a message to ``target`` if it is in one of ``from_states`` (and ``extra_condition``
    holds, which may name the states as ``:f0``, ``:f1`` … in order)."""
    values: dict[str, Any] = {":target": str(target), ":now": iso(at)}
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
    removes = tuple(removes)
    expression = "SET " + ", ".join(assignments)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return Move(target, expression, condition, names, values, dict(sets or {}), removes)


def receipt_move(
    *,
    success: bool,
    err_code: str | None,
    err_msg: str | None,
    report_time: str | None,
    biz_id: str | None,
    at: datetime,
) -> Move:
    """A delivery receipt landing: ``delivered`` or ``failed`` as ``success`` says, from any state
    the carrier may report on, unless a receipt already landed and the state is final."""
    sets: dict[str, Any] = {
        "receipt_at": iso(at),
        "receipt_success": success,
        "receipt_code": err_code or "",
        "receipt_report_time": report_time or "",
        "final_at": iso(at),
    }
    if not success:
        sets["error_code"] = err_code or "UNKNOWN"
        sets["error_message"] = err_msg or ""
    if biz_id:
        sets["biz_id"] = biz_id
    return move(
        MessageState.DELIVERED if success else MessageState.FAILED,
        [MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED, MessageState.FAILED],
        at,
        sets=sets,
        extra_condition="#s IN (:f0, :f1) OR attribute_not_exists(receipt_at)",
    )


def late_biz_id(biz_id: str | None, at: datetime, carrier_id: str | None = None) -> dict[str, Any]:
    """The update that records a BizId or the message's own id at its carrier (and the send
    time) on a message whose receipt made it final before it was marked ``sent``."""
    sets = ["sent_at = if_not_exists(sent_at, :t)"]
    values: dict[str, Any] = {":t": iso(at), ":d": str(MessageState.DELIVERED), ":f": str(MessageState.FAILED)}
    if biz_id:
        sets.append("biz_id = if_not_exists(biz_id, :b)")
        values[":b"] = biz_id
    if carrier_id:
        sets.append("carrier_id = if_not_exists(carrier_id, :i)")
        values[":i"] = carrier_id
    return {
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": "#s IN (:d, :f)",
        "ExpressionAttributeNames": {"#s": "state"},
        "ExpressionAttributeValues": values,
    }


# ---------------------------------------------------------------------------- a batch's moves


def keys_of(mids: Iterable[str]) -> list[dict[str, Any]]:
    """The messages' keys, typed for the low-level client: a batch's moves (``queued → sending``,
    then ``sending → sent``) share them instead of building each key twice."""
    return [{"pk": {"S": "msg#" + mid}, "sk": _SK_VALUE} for mid in mids]


def id_of(typed_key: Mapping[str, Any]) -> str:
    return str(typed_key["pk"]["S"]).removeprefix("msg#")


def _moves(keys: Sequence[dict[str, Any]], update: dict[str, Any]) -> list[dict[str, Any]]:
    """One conditional move per message as transaction actions, all alike but for the key: each
    a copy of ``update`` (copying a dict is cheaper than building it anew, and a batch has many)."""
    found = []
    for typed_key in keys:
        action = update.copy()
        action["Key"] = typed_key
        found.append({"Update": action})
    return found


def sending_actions(
    keys: Sequence[dict[str, Any]], attempt: str, out_id: str, at: datetime, table_name: str, carrier: str | None = None
) -> list[dict[str, Any]]:
    """``queued → sending`` of each message (``keys_of``) as a transaction action, naming the
    ``carrier`` it is handed to (settling asks that one). A refused move carries the message as it
    was: its state tells a message another attempt is sending from one already done."""
    values = {
        ":to": {"S": "sending"}, ":from": {"S": "queued"}, ":now": {"S": iso(at)},
        ":attempt": {"S": attempt}, ":out": {"S": out_id},
    }  # fmt: skip
    if carrier:
        values[":carrier"] = {"S": carrier}
    update = {
        "TableName": table_name,
        "UpdateExpression": _SENDING_CARRIER_UPDATE if carrier else _SENDING_UPDATE,
        "ConditionExpression": "#s = :from",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return _moves(keys, update)


def sent_actions(
    keys: Sequence[dict[str, Any]],
    biz_id: str | None,
    at: datetime,
    table_name: str,
    carrier_ids: Sequence[str | None] | None = None,
) -> list[dict[str, Any]]:
    """``sending → sent`` of each message (``keys_of``) as a transaction action, with the BizId,
    or with each message's own id at its carrier (``carrier_ids``, in the keys' order: Tencent's
    SerialNo), written in the same move."""
    values: dict[str, Any] = {":to": {"S": "sent"}, ":from": {"S": "sending"}, ":now": {"S": iso(at)}}
    if biz_id:
        values[":biz"] = {"S": biz_id}
    update = {
        "TableName": table_name,
        "UpdateExpression": _SENT_UPDATE if biz_id else _SENT_UPDATE_NO_BIZ,
        "ConditionExpression": "#s = :from",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
    }
    if carrier_ids is None:
        return _moves(keys, update)
    named = {**update, "UpdateExpression": update["UpdateExpression"] + ", carrier_id = :cid"}
    found = []
    for typed_key, carrier_id in zip(keys, carrier_ids, strict=True):
        if carrier_id:
            action, own = named.copy(), values.copy()
            own[":cid"] = {"S": carrier_id}
            action["ExpressionAttributeValues"] = own
        else:
            action = update.copy()
        action["Key"] = typed_key
        found.append({"Update": action})
    return found


@dataclass(frozen=True)
class SentGroup:
    """What the messages of one ``mark_sent_many`` call share, for the daily statistics: they
    were handed to ``carrier`` together (``sending_at``) for one kind and office."""

    kind: str
    office: str
    parts: int
    sending_at: datetime
    carrier: str | None = None


def requeue_actions(
    keys: Sequence[dict[str, Any]], attempt: str, at: datetime, table_name: str
) -> list[dict[str, Any]]:
    """``sending → queued`` of each message (``keys_of``) this attempt still holds, as a
    transaction action."""
    values = {
        ":to": {"S": "queued"}, ":from": {"S": "sending"}, ":now": {"S": iso(at)}, ":attempt": {"S": attempt},
    }  # fmt: skip
    update = {
        "TableName": table_name,
        "UpdateExpression": _REQUEUE_UPDATE,
        "ConditionExpression": "#s = :from AND attempt_token = :attempt",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
    }
    return _moves(keys, update)


# ---------------------------------------------------------------------------- carriers' ids


def switch_actions(
    keys: Sequence[dict[str, Any]], attempt: str, carrier: str, at: datetime, table_name: str
) -> list[dict[str, Any]]:
    """Hand each message (``keys_of``) this attempt holds in ``sending`` to another ``carrier``,
    as a transaction action: the one it was handed to refused the request (it sent nothing)."""
    values = {
        ":from": {"S": "sending"}, ":attempt": {"S": attempt}, ":carrier": {"S": carrier}, ":now": {"S": iso(at)},
    }  # fmt: skip
    update = {
        "TableName": table_name,
        "UpdateExpression": "SET carrier = :carrier, updated_at = :now",
        "ConditionExpression": "#s = :from AND attempt_token = :attempt",
        "ExpressionAttributeNames": _STATE_NAME,
        "ExpressionAttributeValues": values,
    }
    return _moves(keys, update)


def carrier_id_key(carrier: str, carrier_id: str) -> dict[str, str]:
    return {"pk": f"cid#{carrier}#{carrier_id}", "sk": "cid"}


def carrier_index_puts(carrier: str, ids: Iterable[tuple[str, str | None]], at: datetime) -> list[dict[str, Any]]:
    """For each message (pairs of a message id and the carrier's id of it), the index item naming
    the message by that id, as a ``BatchWriteItem`` request (a put of a key no other message has:
    written again, it is the same item). The carrier is named by the key."""
    expires, cid_sk = {"N": str(_expires_at(at))}, {"S": "cid"}
    prefix = f"cid#{carrier}#"
    return [
        {"PutRequest": {"Item": {"pk": {"S": prefix + carrier_id}, "sk": cid_sk, "message_id": {"S": mid},
                                 "expires_at": expires}}}
        for mid, carrier_id in ids
        if carrier_id
    ]  # fmt: skip


def carrier_id_update(carrier: str, carrier_id: str) -> dict[str, Any]:
    """The update that records on a message the carrier it was handed to and that carrier's id."""
    return {
        "UpdateExpression": "SET carrier = :c, carrier_id = :i",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": {":c": carrier, ":i": carrier_id},
    }


# ---------------------------------------------------------------------------- holds

HOLD_SCOPES = {"source": SuppressReason.STOPPED_SEND, "office": SuppressReason.SUSPENDED_OFFICE}


def hold_key(scope: str, hold: str) -> dict[str, str]:
    if scope not in HOLD_SCOPES:
        raise ValueError(f"unknown hold scope {scope!r}")
    return {"pk": f"hold#{scope}#{hold}", "sk": "hold"}


def hold_item(scope: str, hold: str, note: str, at: datetime) -> dict[str, Any]:
    return {**hold_key(scope, hold), "scope": scope, "key": hold, "note": note, "placed_at": iso(at)}


def hold_reason(holds: Iterable[Mapping[str, Any]]) -> SuppressReason | None:
    """Why messages under these holds must not go out (a stopped send before a suspended office)."""
    scopes = {item["scope"] for item in holds}
    if "source" in scopes:
        return SuppressReason.STOPPED_SEND
    if "office" in scopes:
        return SuppressReason.SUSPENDED_OFFICE
    return None
