"""The messages repository (``MESSAGES_TABLE``): one item per recipient message, and the holds;
the only code that reads or writes that table. What the items hold and how each move is written
are ``message_items``'.

Every state move is one conditional write on the current state (see ``messages.TRANSITIONS``),
so a redelivered SQS message or a retried invocation cannot send a recipient twice: only the
writer that moves ``queued → sending`` calls the carrier. The moves of a whole batch (records,
``queued → sending``, ``sending → sent``, ``sending → queued``) go in transactions of up to 100
conditional writes (``sms_platform.aws.transactions``), each message's write standing or falling
on its own. A receipt may arrive while the message is still ``sending``; it lands, and the later
``sent`` write then only records the BizId. Each move that changes what the daily statistics
count is counted once, after its conditional write succeeded (``daily_stats.count_move``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sms_platform import aws
from sms_platform.aws import queries, transactions
from sms_platform.foundation.settings import settings
from sms_platform.sending import daily_stats, message_items, status_notices
from sms_platform.sending.message_items import MessageGroup, Move, NewMessage, SentGroup, iso, key
from sms_platform.sending.messages import MessageState, SuppressReason

if TYPE_CHECKING:
    from sms_platform.sending.frequency_limits import BatchCounters


def _table() -> Any:
    return aws.table(settings().messages_table)


def items_of_source(source_id: str) -> list[dict[str, Any]]:
    """Every message item of one source (a send request, an event, a call), by its index."""
    found = queries.items(
        _table().query,
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :p",
        ExpressionAttributeValues={":p": f"src#{source_id}"},
    )
    return list(found)


def items_of_caller(ref: str) -> list[dict[str, Any]]:
    """Every message an event or a call caused (``message_items.Caller``): their keys by the
    index, then the items themselves (the index holds only a few attributes)."""
    found = queries.items(
        _table().query,
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :p",
        ExpressionAttributeValues={":p": "caller#" + ref},
    )
    ids = [str(item["pk"]).removeprefix("msg#") for item in found]
    items = get_many(ids)
    return [items[mid] for mid in ids if mid in items]


def _client() -> Any:
    """The low-level client: transactions are built with typed values (``{"S": ...}``), so a
    value all the writes share is built once, and boto3 has nothing to convert."""
    return aws.client("dynamodb")


# ---------------------------------------------------------------------------- creating


def record(message: NewMessage, state: MessageState, at: datetime, **extra: Any) -> MessageState | None:
    """Create the message in ``state``; if it already exists, return its current state instead."""
    item = message_items.new_item(message, state, at, extra)
    try:
        _table().put_item(
            Item=item, ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )
    except Exception as error:
        if not aws.condition_failed(error):
            raise
        return message_items.existing_state(error.response.get("Item"))  # type: ignore[attr-defined]
    daily_stats.count_move(None, item)  # counts a message created final (suppressed, undeliverable)
    return None


def record_many(
    group: MessageGroup,
    recipients: Sequence[tuple[Any, ...]],
    state: MessageState,
    at: datetime,
    *,
    source_index: bool = False,
    **extra: Any,
) -> list[MessageState | None]:
    """``record`` for many messages of one batch, given as (message id, phone hash, masked
    number), in a few transactions: None for each message created, else the state it had. A
    recipient may carry a fourth member, the attributes its message alone holds.

    ``source_index`` also indexes each message under its source (``gsi2``).
    """
    fields = message_items.batch_fields(group, state, at, source_index=source_index, extra=extra)
    puts = message_items.batch_puts(fields, recipients, _table().name, source_index=source_index)
    outcome = transactions.write_groups(_client(), puts)
    found: list[MessageState | None] = [None] * len(recipients)
    for index, refusal in outcome.refused.items():
        found[index] = message_items.existing_state(refusal.item)
    for index in outcome.unwritten:  # left by repeated conflicts: one write each
        mid, phone_hash, masked, *own = recipients[index]
        new = NewMessage(**asdict(group), message_id=mid, phone_hash=phone_hash, phone_masked=masked)
        keys = {"gsi2pk": fields["gsi2pk"], "gsi2sk": mid} if source_index else {}
        found[index] = record(new, state, at, **{**extra, **keys, **(own[0] if own and own[0] else {})})
    created = sum(1 for index, value in enumerate(found) if value is None and index not in outcome.unwritten)
    if created:  # a message created final (suppressed, undeliverable) counts; queued ones add nothing
        first = recipients[0][0]
        daily_stats.count_move(None, {**fields, "message_id": first}, created)
    return found


# ---------------------------------------------------------------------------- reading


def get(mid: str) -> dict[str, Any] | None:
    return _table().get_item(Key=key(mid), ConsistentRead=True).get("Item")


def get_many(message_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current items of the given messages (missing ones left out)."""
    ids = list(dict.fromkeys(message_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        for item in _batch_get([key(mid) for mid in ids[start : start + 100]]):
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


# ---------------------------------------------------------------------------- recipient groups (gsi3)

GROUP_KEY_NAMES = frozenset({"pk", "sk", "gsi3pk", "gsi3sk"})


def _group_query(group: str, prefix: str | None, states: Iterable[str] | None) -> dict[str, Any]:
    """The query of a recipient group's messages (``recipient_groups``): one district's rows
    when ``prefix`` is given (a key condition), of ``states`` only when given (a filter)."""
    values: dict[str, Any] = {":g": group}
    condition = "gsi3pk = :g"
    if prefix:
        condition += " AND begins_with(gsi3sk, :d)"
        values[":d"] = prefix
    arguments: dict[str, Any] = {"IndexName": "gsi3", "KeyConditionExpression": condition}
    wanted = sorted(set(states or ()))
    if wanted:
        for index, state in enumerate(wanted):
            values[f":s{index}"] = state
        arguments["FilterExpression"] = f"#s IN ({', '.join(f':s{i}' for i in range(len(wanted)))})"
        arguments["ExpressionAttributeNames"] = {"#s": "state"}
    arguments["ExpressionAttributeValues"] = values
    return arguments


def group_page(
    group: str, *, prefix: str | None, states: Iterable[str] | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` messages of a recipient group in index order from ``start``, and the key
    to go on from (None after the last)."""
    arguments = _group_query(group, prefix, states)
    found: list[dict[str, Any]] = []
    last = start
    while True:
        # A filter may drop most of what a call reads: read more than a page each time.
        page = {**arguments, "Limit": max(limit, 200), **({"ExclusiveStartKey": last} if last else {})}
        answer = _table().query(**page)
        found.extend(answer.get("Items", []))
        last = answer.get("LastEvaluatedKey")
        if len(found) >= limit or not last:
            break
    if len(found) > limit:
        found = found[:limit]
        return found, {name: found[-1][name] for name in GROUP_KEY_NAMES}
    return found, last


def group_items(group: str, *, prefix: str | None, states: Iterable[str] | None = None) -> Iterable[dict[str, Any]]:
    """Every message of a recipient group (of one district, of ``states``), page after page."""
    return queries.items(_table().query, **_group_query(group, prefix, states))


def group_outcomes(group: str, *, prefix: str | None) -> Iterable[dict[str, Any]]:
    """Each message of a recipient group with only what its totals count (state and reasons)."""
    arguments = _group_query(group, prefix, None)
    arguments["ProjectionExpression"] = "#s, error_code, suppress_reason, reason"
    arguments["ExpressionAttributeNames"] = {"#s": "state"}
    return queries.items(_table().query, **arguments)


# ---------------------------------------------------------------------------- one message's moves


def _move(mid: str, change: Move, *, return_new: bool = False) -> dict[str, Any] | None:
    """Make ``change`` if the message is in a state it moves from; the new item, or None."""
    # Moves that can change the daily statistics read the item as it was, to count the change.
    try:
        answer = _table().update_item(
            Key=key(mid),
            UpdateExpression=change.expression,
            ConditionExpression=change.condition,
            ExpressionAttributeNames=change.names,
            ExpressionAttributeValues=change.values,
            ReturnValues="ALL_OLD" if change.counted else "ALL_NEW" if return_new else "NONE",
        )
    except Exception as error:
        if aws.condition_failed(error):
            return None
        raise
    if change.counted:
        old = answer.get("Attributes", {})
        new = change.applied_to(old)
        daily_stats.count_move(old, new)  # only after the conditional move succeeded: never twice
        if new.get("notify_key"):  # its caller hears of the change (CONTRACTS §7)
            status_notices.notify([new])
        return new if return_new else {"message_id": mid}
    return answer.get("Attributes", {}) if return_new else {"message_id": mid}


def mark_sending(mid: str, attempt: str, out_id: str, at: datetime) -> bool:
    """``queued → sending``; only the caller that wins this write may call the carrier."""
    sets = {"attempt_token": attempt, "out_id": out_id, "sending_at": iso(at)}
    return _move(mid, message_items.move(MessageState.SENDING, [MessageState.QUEUED], at, sets=sets)) is not None


def mark_sent(mid: str, biz_id: str | None, at: datetime, *, carrier_id: str | None = None) -> bool:
    """``sending → sent`` with the carrier's BizId, or the message's own id at its carrier
    (``carrier_id``). If a receipt got there first, keep its final state and only record them."""
    sets = {"sent_at": iso(at)}
    if biz_id:  # a settlement by QuerySendDetails learns no BizId; the receipt brings it
        sets["biz_id"] = biz_id
    if carrier_id:
        sets["carrier_id"] = carrier_id
    if _move(mid, message_items.move(MessageState.SENT, [MessageState.SENDING], at, sets=sets)) is not None:
        return True
    if not biz_id and not carrier_id:
        return False
    try:
        _table().update_item(Key=key(mid), **message_items.late_biz_id(biz_id, at, carrier_id))
    except Exception as error:
        if not aws.condition_failed(error):
            raise
    return False


def mark_failed(
    mid: str, error_code: str, error_message: str, at: datetime, *, biz_id: str | None = None
) -> dict[str, Any] | None:
    sets: dict[str, Any] = {"error_code": error_code, "error_message": error_message, "final_at": iso(at)}
    if biz_id:
        sets["biz_id"] = biz_id
    change = message_items.move(MessageState.FAILED, [MessageState.SENDING, MessageState.SENT], at, sets=sets)
    return _move(mid, change, return_new=True)


def mark_delivered(mid: str, at: datetime, *, biz_id: str | None = None) -> dict[str, Any] | None:
    sets: dict[str, Any] = {"final_at": iso(at)}
    if biz_id:
        sets["biz_id"] = biz_id
    change = message_items.move(MessageState.DELIVERED, [MessageState.SENDING, MessageState.SENT], at, sets=sets)
    return _move(mid, change, return_new=True)


def suppress(mid: str, reason: SuppressReason, at: datetime) -> bool:
    sets = {"suppress_reason": str(reason), "final_at": iso(at)}
    return _move(mid, message_items.move(MessageState.SUPPRESSED, [MessageState.QUEUED], at, sets=sets)) is not None


def mark_undeliverable(mid: str, reason: str, at: datetime) -> bool:
    """``queued → undeliverable`` with the platform's ``reason`` (a number held for verification)."""
    sets = {"reason": reason, "final_at": iso(at)}
    change = message_items.move(MessageState.UNDELIVERABLE, [MessageState.QUEUED], at, sets=sets)
    return _move(mid, change) is not None


def expire(mid: str, at: datetime) -> bool:
    change = message_items.move(MessageState.EXPIRED, [MessageState.QUEUED], at, sets={"final_at": iso(at)})
    return _move(mid, change) is not None


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
    change = message_items.receipt_move(
        success=success, err_code=err_code, err_msg=err_msg, report_time=report_time, biz_id=biz_id, at=at
    )
    return _move(mid, change, return_new=True)


# ---------------------------------------------------------------------------- a batch's moves


def mark_sending_many(
    keys: Sequence[dict[str, Any]],
    attempt: str,
    out_id: str,
    at: datetime,
    *,
    counters: BatchCounters | None = None,
    phone_hashes: Sequence[str] = (),
    carrier: str | None = None,
) -> transactions.Outcome:
    """``mark_sending`` for many messages (``message_items.keys_of``) in a few transactions.

    With ``counters``, each message's move is written together with its frequency counter
    writes (``phone_hashes`` name its number), all or nothing, and stands or falls alone. In a
    refusal, the actions below ``len(counters)`` are counters (a full window), the one at it is
    the message's own move (no longer ``queued``; its item as it was says what it is now).
    ``carrier`` names the carrier the messages are handed to.
    """
    moves = message_items.sending_actions(keys, attempt, out_id, at, _table().name, carrier)
    if counters is None:
        return transactions.write_runs(_client(), moves)
    return transactions.write_runs(_client(), counters.with_counts(phone_hashes, moves), len(counters) + 1)


def mark_sent_many(
    keys: Sequence[dict[str, Any]],
    biz_id: str | None,
    at: datetime,
    group: SentGroup,
    carrier_ids: Sequence[str | None] | None = None,
    counts: daily_stats.SentCounts | None = None,
) -> int:
    """``mark_sent`` for many messages (``message_items.keys_of``; ``carrier_ids``: each one's id at
    its carrier, in order) in a few transactions; how many moved to ``sent``. A message whose
    receipt got there first fails its condition alone and then only records the BizId or its id
    (``mark_sent``). The moves are counted in the daily statistics on the day the group was
    handed to the carrier: added to ``counts`` (written by its owner), or else at once."""
    actions = message_items.sent_actions(keys, biz_id, at, _table().name, carrier_ids)
    outcome = transactions.write_runs(_client(), actions)
    skip = {*outcome.refused, *outcome.unwritten}
    left = sorted(skip)
    moved = len(keys) - len(left)
    if moved:
        # The count goes to the shard of the first message moved.
        first = next(index for index in range(len(keys)) if index not in skip) if skip else 0
        count = daily_stats.count_sent if counts is None else counts.add
        count(message_items.id_of(keys[first]), group.kind, group.office, group.parts, group.sending_at, moved,
              carrier=group.carrier)  # fmt: skip
    for index in left:  # one write each: it moves, or keeps a receipt's final state and the BizId
        carrier_id = carrier_ids[index] if carrier_ids is not None else None
        moved += mark_sent(message_items.id_of(keys[index]), biz_id, at, carrier_id=carrier_id)
    return moved


def requeue_many(
    keys: Sequence[dict[str, Any]],
    attempt: str,
    at: datetime,
    *,
    releases: Sequence[list[dict[str, Any]]] | None = None,
) -> list[int]:
    """``sending → queued`` of this attempt's messages (``message_items.keys_of``) when the
    carrier certainly did not take its request; the indexes of those moved back.

    Each move is written with the message's ``releases`` (giving back its frequency counts, one
    list per message, made for this call), all or nothing: only a message this attempt still
    holds gives its counts back, and only once.
    """
    moves = message_items.requeue_actions(keys, attempt, at, _table().name)
    outcome = transactions.write_runs(_client(), moves) if releases is None else _requeue_releasing(moves, releases)
    if outcome.unwritten:  # the batch fails and comes back: the messages are then settled, not resent
        raise RuntimeError(f"{len(outcome.unwritten)} messages could not be put back to queued")
    return [index for index in range(len(keys)) if index not in outcome.refused]


def _requeue_releasing(moves: list[dict[str, Any]], releases: Sequence[list[dict[str, Any]]]) -> transactions.Outcome:
    """Each move back to ``queued`` written with its message's releases, all or nothing."""
    if len(releases) != len(moves):
        raise ValueError("one list of releases per message")
    outcome = transactions.write_groups(_client(), [[*writes, move] for writes, move in zip(releases, moves)])  # noqa: B905
    if outcome.unwritten:
        # Still in conflict after every round (a counter item busy with other sends): put the
        # message back without giving its counts back rather than leave it sending. At worst it
        # waits one window more.
        alone = outcome.unwritten
        rest = transactions.write_runs(_client(), [moves[index] for index in alone])
        outcome.refused.update({alone[index]: refusal for index, refusal in rest.refused.items()})
        outcome.unwritten = [alone[index] for index in rest.unwritten]
    return outcome


# ---------------------------------------------------------------------------- carriers' ids


def switch_carrier_many(keys: Sequence[dict[str, Any]], attempt: str, carrier: str, at: datetime) -> list[int]:
    """Hand the messages (``message_items.keys_of``) this attempt holds in ``sending`` to another
    ``carrier`` (the first refused the request); the indexes of those handed over. A message
    not written for repeated conflicts is left out, as one no longer held."""
    actions = message_items.switch_actions(keys, attempt, carrier, at, _table().name)
    outcome = transactions.write_runs(_client(), actions)
    skip = {*outcome.refused, *outcome.unwritten}
    return [index for index in range(len(keys)) if index not in skip]


def record_carrier_ids(carrier: str, ids: Mapping[str, str], at: datetime) -> None:
    """Record on each message (message id to the carrier's id of it, a few: a settlement's) the
    carrier it was handed to and that carrier's id, after the index its receipts find it by."""
    index_carrier_ids(carrier, ids.items(), at)
    for mid, carrier_id in ids.items():
        try:
            _table().update_item(Key=key(mid), **message_items.carrier_id_update(carrier, carrier_id))
        except Exception as error:
            if not aws.condition_failed(error):  # a message that does not exist gets nothing
                raise


def index_carrier_ids(carrier: str, ids: Iterable[tuple[str, str | None]], at: datetime) -> None:
    """Make each message (pairs of a message id and its carrier's id of it) findable by that id,
    as that carrier's receipts name it: puts in ``BatchWriteItem`` calls, the same item if put
    twice."""
    table, pending = _table().name, message_items.carrier_index_puts(carrier, ids, at)
    for start in range(0, len(pending), 25):
        requests = pending[start : start + 25]
        for _ in range(10):
            answer = _client().batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table)
            if not requests:
                break
        if requests:
            raise RuntimeError(f"{len(requests)} carrier ids could not be recorded")


def messages_of_carrier_ids(carrier: str, carrier_ids: Iterable[str]) -> dict[str, str]:
    """The message each of the carrier's ids names (the carrier's id to the message id); ids
    the platform did not record are left out."""
    keys = [message_items.carrier_id_key(carrier, cid) for cid in dict.fromkeys(carrier_ids) if cid]
    found: dict[str, str] = {}
    for start in range(0, len(keys), 100):
        for item in _batch_get(keys[start : start + 100]):
            found[str(item["pk"]).removeprefix(f"cid#{carrier}#")] = item["message_id"]
    return found


# ---------------------------------------------------------------------------- holds


def place_hold(scope: str, hold: str, note: str, at: datetime) -> None:
    """Stop queued messages of a source (a stopped send) or an office (a suspension)."""
    _table().put_item(Item=message_items.hold_item(scope, hold, note, at))


def lift_hold(scope: str, hold: str) -> None:
    _table().delete_item(Key=message_items.hold_key(scope, hold))


def hold_reason(source_id: str, office: str) -> SuppressReason | None:
    """Why messages of this source and office must not go out now, if they must not."""
    return message_items.hold_reason(
        _batch_get([message_items.hold_key("source", source_id), message_items.hold_key("office", office)])
    )
