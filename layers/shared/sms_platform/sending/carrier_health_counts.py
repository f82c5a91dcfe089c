"""Reading each carrier's outcome counters by Beijing minute, for the health watch and view.

The dispatcher adds to them as it hands batches to a carrier and the receipt path as receipts
arrive: ``pk = "carrierhealth#<carrier>#<YYYYMMDDHHMM>"`` (the Beijing minute) in
``SENDS_TABLE``, with counters ``sent``, ``refused``, ``limited``, ``retry``, ``unknown``,
``latency_ms_sum``, ``latency_n``, ``receipt_delivered``, ``receipt_failed``. Whatever items a
minute has (one per shard, if the writer shards them) are added up; the dispatcher's is
``sk = "dispatch"`` (``add_hand_over``). Receipts are ``sk = "receipts"`` (``add_receipt``, from
the daily statistics' count of a receipt's move), counted on the minute their message was handed
over, so that a minute's receipts compare with its ``sent``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
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


def add_hand_over(carrier: str, at: datetime, outcomes: Mapping[str, int], *, latency_ms: int) -> None:
    """Add one hand-over of a batch to the carrier's counters of the minute ``at``: its
    recipients by outcome (``Outcome`` values), one request and its duration. One ``ADD``, best
    effort: a counter not written never fails a batch the carrier has taken."""
    values: dict[str, Any] = {":ms": max(0, int(latency_ms)), ":n": 1, ":exp": int((at + KEPT_FOR).timestamp())}
    adds = ["latency_ms_sum :ms", "latency_n :n"]
    for outcome, count in outcomes.items():
        name = HAND_OVER_COUNTERS.get(outcome)
        if name and count:
            values[f":{name}"] = int(count)
            adds.append(f"{name} :{name}")
    try:
        aws.table(settings().sends_table).update_item(
            Key={"pk": minute_pk(carrier, at), "sk": DISPATCH_SK},
            UpdateExpression="ADD " + ", ".join(adds) + " SET expires_at = :exp",
            ExpressionAttributeValues=values,
        )
    except Exception as error:  # noqa: BLE001 - see the docstring
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
