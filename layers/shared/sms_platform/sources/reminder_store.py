"""What reminder waves need kept: the only code that touches these items.

- ``CONTROL_TABLE``, ``pk = "remwatch#<event type>"``, ``sk = "watch"``: a done-event type some
  approved reminder waves watch, ``until`` the last of their waves. The event intake records a
  subject's done-event only while its type is watched, so events nobody waits for cost one read.
- ``SENDS_TABLE``, ``pk = "remdone#<event type>#<address-book reference>"``, ``sk = "done"``: the
  last time a subject's done-event arrived (the reference is the keyed-hash one the address book
  gives its records, never an ID number in clear). A wave's fan-out asks for a page of subjects
  at once (BatchGetItem, a hundred keys a call).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings

DONE_KEPT = timedelta(days=120)  # longer than any reminder's waves (at most 60 days before a deadline)


def _control() -> Any:
    return aws.table(settings().control_table)


def _sends() -> Any:
    return aws.table(settings().sends_table)


def _watch_key(event_type: str) -> dict[str, str]:
    return {"pk": f"remwatch#{event_type}", "sk": "watch"}


def watch(event_type: str, until: datetime) -> None:
    """Watch ``event_type`` until at least ``until`` (a later watch of the same type extends it)."""
    try:
        _control().update_item(
            Key=_watch_key(event_type),
            UpdateExpression="SET #u = :u, expires_at = :e",
            ConditionExpression="attribute_not_exists(#u) OR #u < :u",
            ExpressionAttributeNames={"#u": "until"},
            ExpressionAttributeValues={":u": until.isoformat(), ":e": int((until + DONE_KEPT).timestamp())},
        )
    except Exception as error:
        if not aws.condition_failed(error):  # already watched for longer
            raise


def watched(event_type: str, now: datetime) -> bool:
    item = _control().get_item(Key=_watch_key(event_type)).get("Item")
    return bool(item) and datetime.fromisoformat(str(item["until"])) >= now


def record_done(event_type: str, ref: str, now: datetime) -> None:
    _sends().put_item(
        Item={"pk": f"remdone#{event_type}#{ref}", "sk": "done", "at": now.isoformat(),
              "expires_at": int((now + DONE_KEPT).timestamp())}
    )  # fmt: skip


def done_since(event_type: str, refs: Sequence[str], since: datetime) -> set[str]:
    """Which of these subjects' done-event arrived at or after ``since``."""
    table = _sends()
    prefix = f"remdone#{event_type}#"
    distinct = list(dict.fromkeys(refs))
    done: set[str] = set()
    for start in range(0, len(distinct), 100):
        pending: Any = [{"pk": prefix + ref, "sk": "done"} for ref in distinct[start : start + 100]]
        for _ in range(10):
            spec = {"Keys": pending, "ConsistentRead": True, "ProjectionExpression": "pk, #a",
                    "ExpressionAttributeNames": {"#a": "at"}}  # fmt: skip
            answer = table.meta.client.batch_get_item(RequestItems={table.name: spec})
            for item in answer["Responses"].get(table.name, ()):
                if datetime.fromisoformat(str(item["at"])) >= since:
                    done.add(str(item["pk"])[len(prefix) :])
            pending = answer.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys")
            if not pending:
                break
        if pending:
            raise RuntimeError("DynamoDB left keys unprocessed")
    return done
