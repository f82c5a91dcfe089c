"""Daily delivery statistics (R16), kept as counters so a report never scans messages.

Each message adds to the counters of its day, its kind and its office. Its day is the Beijing
day it was handed to the carrier (its last ``sending_at``), the day its parts are billed, or for
a message never handed over, the day it was created. Its delivery or failure lands on the same
day's row as its sending; and a batch's ``sending → sent`` moves know their day without reading
the messages. The message
store calls ``count(old, new)`` after each conditional state move that succeeded, with the item
before and after the move: a repeated receipt or a redelivered batch fails its conditional
write and so never counts twice, and a receipt that overturns an earlier outcome (delivered,
then a late receipt says failed) moves the count from one state to the other.

What a message contributes (``contribution``):

- ``sent``, and its ``parts``: the carrier took it (``sent`` or ``delivered``, or ``failed``
  with a BizId or a receipt), the same rule as ``delivery_reports``;
- one of ``delivered``, ``failed``, ``suppressed``, ``undeliverable``, ``expired`` for a final
  state, with the failure's error code (``f#<code>``) or the suppression's reason (``s#<reason>``).

Per carrier, a message handed to one (its ``carrier``, recorded when it moves to ``sending``)
also adds ``carrier:<name>:<counter>`` for ``sent``, ``parts``, ``delivered``, ``failed`` and its
failure code, in the same item: the per-carrier report adds them up over the day's rows. A
receipt's move also counts the receipt for the carrier's health (``carrier_health_counts``).

Storage in ``SENDS_TABLE``: ``pk = "stats#<day>#<shard>"``, ``sk = "<kind>#<office>"``, updated
with atomic ``ADD``. A message's shard comes from its id, so a two-million send spreads its
counts over ``SHARDS`` items rather than one hot item; a report reads the day's shards. Moves of
a batch's messages alike (the same move, day, kind and office) are added in one ``ADD``, on the
shard of one of them; the dispatcher adds up its batches' sent moves and writes them once per
invocation (``SentCounts``).

Limit: the count is a second write after the state move. A crash between the two loses that
message's count (never doubles it); the message itself, the truth, is unaffected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.observability import logger
from sms_platform.foundation.settings import settings
from sms_platform.sending import carrier_health_counts

SHARDS = 8
MAX_DAYS = 31
FINAL_COUNTS = ("delivered", "failed", "suppressed", "undeliverable", "expired")
COUNTS = ("sent", *FINAL_COUNTS, "parts")
FAILURE_PREFIX = "f#"
SUPPRESS_PREFIX = "s#"
RETENTION_DAYS = 800
CARRIER_PREFIX = "carrier:"
CARRIER_COUNTS = ("sent", "parts", "delivered", "failed")


# ---------------------------------------------------------------------------- pure rules


def carrier_took(item: Mapping[str, Any]) -> bool:
    """Whether the carrier accepted the message (its parts are billed)."""
    state = item.get("state")
    return state in ("sent", "delivered") or (state == "failed" and bool(item.get("biz_id") or item.get("receipt_at")))


def contribution(item: Mapping[str, Any] | None) -> dict[str, int]:
    """The counters one message in its current state adds to its day's row (each named once)."""
    found: dict[str, int] = {}
    if not item:
        return found
    state = str(item.get("state") or "")
    if carrier_took(item):
        found["sent"] = 1
        found["parts"] = int(item.get("parts") or 0)
    if state in FINAL_COUNTS:
        found[state] = 1
    if state == "failed":
        found[FAILURE_PREFIX + str(item.get("error_code") or "UNKNOWN")] = 1
    if state == "suppressed":
        found[SUPPRESS_PREFIX + str(item.get("suppress_reason") or "unknown")] = 1
    carrier = str(item.get("carrier") or "")
    if carrier:
        found.update(_per_carrier(carrier, found))
    return found


def _per_carrier(carrier: str, found: Mapping[str, int]) -> dict[str, int]:
    """The carrier's share of a message's counters: what the carrier took, delivered or failed."""
    names = [name for name in found if name in CARRIER_COUNTS or name.startswith(FAILURE_PREFIX)]
    return {f"{CARRIER_PREFIX}{carrier}:{name}": found[name] for name in names}


def delta(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, int]:
    """What a state move changes in the counters (only the ones that change)."""
    before, after = contribution(old), contribution(new)
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in sorted(before.keys() | after.keys())}
    return {name: change for name, change in changes.items() if change}


def day_of(item: Mapping[str, Any]) -> date:
    """The Beijing day a message counts on: the day it was last handed to the carrier, or if it
    never was, the day it was created."""
    at = item.get("sending_at") or item["created_at"]
    return datetime.fromisoformat(str(at)).astimezone(BEIJING).date()


def shard_of(message_id: str) -> int:
    try:
        return int(message_id[:4], 16) % SHARDS
    except ValueError:
        return sum(message_id.encode()) % SHARDS


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def rows_of(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Counter items (of any shards) added up per day, kind and office, as the report shows them."""
    totals: dict[tuple[str, str, str], Counter[str]] = {}
    for item in items:
        day = str(item["pk"]).split("#")[1]
        kind, office = str(item["sk"]).split("#", 1)
        counter = totals.setdefault((day, kind, office), Counter())
        for name, value in item.items():
            if name in COUNTS or name.startswith((FAILURE_PREFIX, SUPPRESS_PREFIX)):
                counter[name] += int(value)
    rows = []
    for (day, kind, office), counter in sorted(totals.items()):
        rows.append(row(day, kind, office, counter))
    return rows


def row(day: str, kind: str, office: str, counter: Mapping[str, int]) -> dict[str, Any]:
    delivered, failed = int(counter.get("delivered", 0)), int(counter.get("failed", 0))

    def reasons(prefix: str) -> dict[str, int]:
        found = {name.removeprefix(prefix): int(n) for name, n in counter.items() if name.startswith(prefix) and n}
        return dict(sorted(found.items(), key=lambda pair: (-pair[1], pair[0])))

    return {
        "day": day,
        "kind": kind,
        "office": office,
        **{name: int(counter.get(name, 0)) for name in COUNTS},
        "delivery_rate": round(delivered / (delivered + failed), 4) if delivered + failed else None,
        "failure_reasons": reasons(FAILURE_PREFIX),
        "suppress_reasons": reasons(SUPPRESS_PREFIX),
    }


# ---------------------------------------------------------------------------- storage


def _table() -> Any:
    return aws.table(settings().sends_table)


@lru_cache(maxsize=8)
def _expiry(day: date) -> int:
    """When a day's counter items expire (epoch seconds)."""
    return int((datetime.combine(day, time.min, tzinfo=BEIJING) + timedelta(days=RETENTION_DAYS)).timestamp())


def count(old: Mapping[str, Any] | None, new: Mapping[str, Any], times: int = 1) -> dict[str, int]:
    """Add a state move's change (``times`` such moves, of messages of the same day, kind and
    office) to its day's counters, in one atomic ADD; returns the change."""
    changes = {name: change * times for name, change in delta(old, new).items()}
    if not changes or times <= 0:
        return {}
    _add(day_of(new), str(new.get("kind")), str(new.get("office")), str(new.get("message_id") or ""), changes)
    return changes


def _add(day: date, kind: str, office: str, message_id: str, changes: Mapping[str, int]) -> None:
    expression, names, placeholders = _adding(tuple(changes))
    values: dict[str, Any] = dict(zip(placeholders, changes.values(), strict=True))
    values[":ttl"] = _expiry(day)
    _table().update_item(
        Key={"pk": f"stats#{day.isoformat()}#{shard_of(message_id)}", "sk": f"{kind}#{office}"},
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


@lru_cache(maxsize=256)
def _adding(counters: tuple[str, ...]) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """The ``ADD`` of ``counters`` (names by placeholder: a counter may be a reserved word or hold
    ``#``), its attribute names and its value placeholders in the counters' order. The same few
    sets of counters come back for every batch and receipt: each is written out once."""
    names = {f"#c{index}": name for index, name in enumerate(counters)}
    adds = ", ".join(f"#c{index} :c{index}" for index in range(len(counters)))
    placeholders = tuple(f":c{index}" for index in range(len(counters)))
    return f"ADD {adds} SET expires_at = if_not_exists(expires_at, :ttl)", names, placeholders


def count_move(old: Mapping[str, Any] | None, new: Mapping[str, Any], times: int = 1) -> None:
    """``count`` for the message store: a statistics fault is logged, never allowed to stop a
    send or a receipt (the message's own state is already written). A test key's messages
    (CONTRACTS §7) count nowhere."""
    if new.get("test"):
        return
    try:
        count(old, new, times)
    except Exception:  # noqa: BLE001 - any fault of the counter write, whatever its kind
        logger().warning("daily statistics not counted", extra={"message_id": new.get("message_id"), "times": times})
    if is_receipt(old, new):
        delivered = new.get("state") == "delivered"
        sending_at = datetime.fromisoformat(str(new["sending_at"]))
        carrier_health_counts.add_receipt(str(new["carrier"]), sending_at, delivered=delivered)


def is_receipt(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether a move is a carrier's first receipt of a message it was handed (``carrier``,
    ``sending_at``): the health watch compares receipts with what was sent."""
    first = bool(new.get("receipt_at")) and not (old or {}).get("receipt_at")
    final = new.get("state") in ("delivered", "failed")
    return first and final and bool(new.get("carrier")) and bool(new.get("sending_at"))


def count_sent(
    message_id: str, kind: str, office: str, parts: int, sending_at: datetime, times: int, *, carrier: str | None = None
) -> None:
    """``count_move`` for ``times`` moves ``sending → sent`` of messages handed to ``carrier``
    together at ``sending_at``, counted on the shard of ``message_id``, written straight away
    (``SentCounts`` adds many up first)."""
    counts = SentCounts()
    counts.add(message_id, kind, office, parts, sending_at, times, carrier=carrier)
    counts.flush()


class SentCounts:
    """Moves ``sending → sent`` added up per Beijing day, kind, office and carrier, and written
    in one ``ADD`` each when ``flush`` is called: a dispatch invocation adds its batches' moves
    and writes them as it ends. Such a move adds ``sent`` and its ``parts`` and nothing else
    (``delta`` of the two states), so nothing needs reading first. Each sum is counted on the
    shard of the first message added to it; a crash before the flush loses the sums (never
    doubles them), as a crash between a move and its count always could."""

    def __init__(self) -> None:
        # (day, kind, office, carrier) -> [message id for the shard, moves, parts]
        self._pending: dict[tuple[date, str, str, str | None], list[Any]] = {}

    def add(
        self, message_id: str, kind: str, office: str, parts: int, sending_at: datetime, times: int, *,
        carrier: str | None = None,
    ) -> None:  # fmt: skip
        if times <= 0:
            return
        key = (_beijing_day(sending_at), kind, office, carrier)
        found = self._pending.get(key)
        if found is None:
            self._pending[key] = [message_id, times, parts * times]
        else:
            found[1] += times
            found[2] += parts * times

    def flush(self) -> None:
        """Write what was added since the last flush. A fault is logged, never raised: the
        messages' own states are already written."""
        pending, self._pending = self._pending, {}
        for (day, kind, office, carrier), (message_id, times, parts) in pending.items():
            changes = {"parts": parts, "sent": times} if parts else {"sent": times}
            if carrier:
                changes.update(_per_carrier(carrier, changes))
            try:
                _add(day, kind, office, message_id, changes)
            except Exception:  # noqa: BLE001 - as count_move
                logger().warning("daily statistics not counted", extra={"message_id": message_id, "times": times})


def _beijing_day(at: datetime) -> date:
    return at.astimezone(BEIJING).date()


def _day_items(day: date) -> list[dict[str, Any]]:
    table, items = _table(), []
    for shard in range(SHARDS):
        partition = {":p": f"stats#{day.isoformat()}#{shard}"}
        items.extend(queries.items(table.query, KeyConditionExpression="pk = :p", ExpressionAttributeValues=partition))
    return items


def _items(start: date, end: date, offices: Iterable[str] | None) -> list[dict[str, Any]]:
    keep = None if offices is None else {str(office) for office in offices}
    items = [item for day in days_between(start, end) for item in _day_items(day)]
    if keep is not None:
        items = [item for item in items if str(item["sk"]).split("#", 1)[1] in keep]
    return items


def report(start: date, end: date, offices: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Rows per day, kind and office from ``start`` to ``end`` (Beijing days), of ``offices`` only
    when given. The caller checks the range (at most ``MAX_DAYS``)."""
    return rows_of(_items(start, end, offices))


def report_with_carriers(
    start: date, end: date, offices: Iterable[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``report``'s rows and the same range's totals per carrier (``carrier_totals``), read once."""
    items = _items(start, end, offices)
    return rows_of(items), carrier_totals(items)


def carrier_totals(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Counter items added up per carrier: ``sent``, ``parts``, ``delivered``, ``failed``, the
    delivery rate and the failure codes, most frequent first."""
    totals: dict[str, Counter[str]] = {}
    for item in items:
        for name, value in item.items():
            if isinstance(name, str) and name.startswith(CARRIER_PREFIX):
                carrier, counter = name.removeprefix(CARRIER_PREFIX).split(":", 1)
                totals.setdefault(carrier, Counter())[counter] += int(value)
    found = {}
    for carrier, counter in sorted(totals.items()):
        figures = row("", "", "", counter)
        found[carrier] = {name: figures[name] for name in (*CARRIER_COUNTS, "delivery_rate", "failure_reasons")}
    return found
