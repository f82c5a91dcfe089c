"""Reading each carrier's outcome counters by Beijing minute, for the health watch and view.

The dispatcher adds to them as it hands batches to a carrier and the receipt path as receipts
arrive: ``pk = "carrierhealth#<carrier>#<YYYYMMDDHHMM>"`` (the Beijing minute) in
``SENDS_TABLE``, with counters ``sent``, ``refused``, ``limited``, ``retry``, ``unknown``,
``latency_ms_sum``, ``latency_n``, ``receipt_delivered``, ``receipt_failed``. Whatever items a
minute has (one per shard, if the writer shards them) are added up; the dispatcher's is
``sk = "dispatch"`` (``add_hand_over``). Receipts are ``sk = "receipts"`` (``add_receipt``, from
the daily statistics' count of a receipt's move), counted on the minute their message was handed
over, so that a minute's receipts compare with its ``sent``. The dispatcher adds up its
hand-overs in ``HandOvers`` and writes them once per invocation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.aws import queries
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.observability import logger
from sms_platform.foundation.settings import settings
from sms_platform.sending.carrier_health_rules import COUNTERS


def minute_pk(carrier: str, start: datetime) -> str:
    return f"carrierhealth#{carrier}#{start.astimezone(BEIJING):%Y%m%d%H%M}"


def minutes(carrier: str, starts: Iterable[datetime]) -> dict[datetime, dict[str, int]]:
    """The carrier's counters of each minute in ``starts`` (minutes with none are left out)."""
    table: Any = aws.table(settings().sends_table)
    found: dict[datetime, dict[str, int]] = {}
    for start in starts:
        items = queries.items(
            table.query, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": minute_pk(carrier, start)}
        )
        total: Counter[str] = Counter()
        for item in items:
            for name in COUNTERS:
                total[name] += int(item.get(name) or 0)
        if total:
            found[start] = dict(total)
    return found


# What the dispatcher adds for one hand-over: the carrier's outcomes, named as the counters are.
DISPATCH_SK = "dispatch"
HAND_OVER_COUNTERS = {"ok": "sent", "rejected": "refused", "limited": "limited", "retry": "retry", "unknown": "unknown"}
KEPT_FOR = timedelta(days=2)


class HandOvers:
    """The hand-overs of one dispatch invocation, added up per carrier and minute and written
    when it ends (``flush``): one ``ADD`` per carrier and minute rather than one per batch. The
    health watch, which reads whole past minutes, sees them once the invocation is over."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int], Counter[str]] = {}  # (carrier, Unix minute) -> counters

    def add(self, carrier: str, at: datetime, outcomes: Mapping[str, int], *, latency_ms: int) -> None:
        """One hand-over of a batch to ``carrier`` at ``at``: its recipients by outcome
        (``Outcome`` values), one request and its duration."""
        key = (carrier, int(at.timestamp()) // 60)  # Beijing minutes start where UTC minutes do
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = Counter()
        counts["latency_ms_sum"] += max(0, int(latency_ms))
        counts["latency_n"] += 1
        for outcome, count in outcomes.items():
            name = HAND_OVER_COUNTERS.get(outcome)
            if name and count:
                counts[name] += int(count)

    def flush(self) -> None:
        """Write what was added since the last flush. Best effort: a counter not written never
        fails the batches the carrier has taken."""
        pending, self._pending = self._pending, {}
        for (carrier, minute), counts in pending.items():
            _write_hand_overs(carrier, datetime.fromtimestamp(minute * 60, UTC), counts)


def add_hand_over(carrier: str, at: datetime, outcomes: Mapping[str, int], *, latency_ms: int) -> None:
    """Add one hand-over to the carrier's counters of the minute ``at`` straight away."""
    hand_overs = HandOvers()
    hand_overs.add(carrier, at, outcomes, latency_ms=latency_ms)
    hand_overs.flush()


def _write_hand_overs(carrier: str, minute: datetime, counts: Mapping[str, int]) -> None:
    names = sorted(counts)
    # Counters by placeholder: some of their names (``limited``) are DynamoDB reserved words.
    adds = ", ".join(f"#c{n} :c{n}" for n in range(len(names)))
    values: dict[str, Any] = {f":c{n}": counts[name] for n, name in enumerate(names)}
    values[":exp"] = int((minute + KEPT_FOR).timestamp())
    try:
        aws.table(settings().sends_table).update_item(
            Key={"pk": minute_pk(carrier, minute), "sk": DISPATCH_SK},
            UpdateExpression=f"ADD {adds} SET expires_at = :exp",
            ExpressionAttributeNames={f"#c{n}": name for n, name in enumerate(names)},
            ExpressionAttributeValues=values,
        )
    except Exception as error:  # noqa: BLE001 - see HandOvers.flush
        logger().warning("carrier health not counted", extra={"carrier": carrier, "error": type(error).__name__})


RECEIPTS_SK = "receipts"


def add_receipt(carrier: str, sending_at: datetime, *, delivered: bool) -> None:
    """Count a receipt of a message handed to ``carrier`` at ``sending_at`` (best effort, as
    ``add_hand_over``)."""
    name = "receipt_delivered" if delivered else "receipt_failed"
    try:
        aws.table(settings().sends_table).update_item(
            Key={"pk": minute_pk(carrier, sending_at), "sk": RECEIPTS_SK},
            UpdateExpression=f"ADD {name} :n SET expires_at = if_not_exists(expires_at, :exp)",
            ExpressionAttributeValues={":n": 1, ":exp": int((sending_at + KEPT_FOR).timestamp())},
        )
    except Exception as error:  # noqa: BLE001 - see add_hand_over
        logger().warning("carrier receipt not counted", extra={"carrier": carrier, "error": type(error).__name__})
