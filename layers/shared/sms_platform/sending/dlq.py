"""Dead-letter queues: look at what failed for good, and send it back to its queue.

Each lane, the fan-out queue, the work queue (contact-import jobs) and the push queue (pieces of
the carrier's receipts and replies) send a message to its dead-letter queue after five failed
receives; the callback queue (status callbacks to API keys' URLs) after its tenth try, 24 hours
on, to be redriven once the receiver works again. Operations inspect them (``list``: ids, times,
receive counts and a summary of each queued batch or job, never a number) and, once the cause is
fixed, redrive them to the queue they came from; the dispatcher's conditional state moves make a
redriven batch safe to send again, and every fan-out and import job is safe to run twice.

    python -m sms_platform.sending.dlq list --lane high      (high, normal, bulk, fanout, work, pushes or callbacks)
    python -m sms_platform.sending.dlq redrive --lane high [--max 100]

The dead-letter queue of a lane is read from the lane queue's own redrive policy, so nothing
but the lanes' URLs needs configuring.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, Literal

from sms_platform import aws
from sms_platform.foundation.errors import NotFound
from sms_platform.foundation.settings import settings

SOURCE_QUEUES = {
    "high": "HIGH_QUEUE_URL",
    "normal": "NORMAL_QUEUE_URL",
    "bulk": "BULK_QUEUE_URL",
    "fanout": "FANOUT_QUEUE_URL",
    "work": "WORK_QUEUE_URL",
    "pushes": "PUSH_QUEUE_URL",
    "callbacks": "CALLBACK_QUEUE_URL",
}
# The lanes as a type, for the models and routes that name one (the keys of SOURCE_QUEUES).
Lane = Literal["high", "normal", "bulk", "fanout", "work", "pushes", "callbacks"]
PEEK_LIMIT = 50


def source_url(lane: str) -> str:
    if lane not in SOURCE_QUEUES or not settings().get(SOURCE_QUEUES[lane]):
        raise NotFound(f"没有这个队列：{lane}")
    return settings().value(SOURCE_QUEUES[lane])


def dead_letter_url(lane: str) -> str:
    sqs = aws.client("sqs")
    policy = sqs.get_queue_attributes(QueueUrl=source_url(lane), AttributeNames=["RedrivePolicy"])["Attributes"]
    arn = json.loads(policy["RedrivePolicy"])["deadLetterTargetArn"]
    return sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]


def depth(lane: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=dead_letter_url(lane), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def depths() -> dict[str, int]:
    return {lane: depth(lane) for lane, env in SOURCE_QUEUES.items() if settings().get(env)}


def describe(body: str) -> dict[str, Any]:
    """What a message is, without its recipients' numbers (they are encrypted anyway)."""
    try:
        data = json.loads(body)
    except ValueError:
        return {"unreadable": True}
    if not isinstance(data, dict):
        return {"unreadable": True}
    keep = ("batch_id", "action", "kind", "source_id", "office", "template_id", "template_version", "attempt",
            "request_id", "import_id", "chunk", "caller_id", "state")  # fmt: skip
    summary = {k: data[k] for k in keep if k in data}
    if isinstance(data.get("message_ids"), list):
        summary["recipients"] = len(data["message_ids"])
    if isinstance(data.get("items"), list):  # a piece of a carrier push
        summary["items"] = len(data["items"])
    return summary


def peek(lane: str, limit: int = 10) -> list[dict[str, Any]]:
    """Up to ``limit`` dead letters, left on the queue (received with no visibility timeout)."""
    sqs, url = aws.client("sqs"), dead_letter_url(lane)
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(3):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, limit), VisibilityTimeout=0, AttributeNames=["All"]
        )
        for message in answer.get("Messages", []):
            attributes = message.get("Attributes", {})
            seen.setdefault(
                message["MessageId"],
                {
                    "message_id": message["MessageId"],
                    "sent_at_ms": int(attributes.get("SentTimestamp", 0)),
                    "receive_count": int(attributes.get("ApproximateReceiveCount", 0)),
                    **describe(message["Body"]),
                },
            )
        if len(seen) >= limit or not answer.get("Messages"):
            break
    return list(seen.values())[:limit]


def redrive(lane: str, max_messages: int = 1000) -> int:
    """Move up to ``max_messages`` dead letters back to the queue they came from."""
    sqs = aws.client("sqs")
    dead, target = dead_letter_url(lane), source_url(lane)
    moved = 0
    while moved < max_messages:
        answer = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=min(10, max_messages - moved),
                                     VisibilityTimeout=120)  # fmt: skip
        messages = answer.get("Messages", [])
        if not messages:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        sent = sqs.send_message_batch(QueueUrl=target, Entries=entries)
        done = {s["Id"] for s in sent.get("Successful", [])}
        # Only what reached the queue leaves the dead-letter queue; the rest shows again later.
        handles = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in done
        ]
        if handles:
            sqs.delete_message_batch(QueueUrl=dead, Entries=handles)
        moved += len(handles)
        if len(handles) < len(messages):
            break
    return moved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sms_platform.sending.dlq", description="Inspect or redrive a dead-letter queue."
    )
    parser.add_argument("command", choices=["list", "redrive", "depths"])
    parser.add_argument("--lane", choices=sorted(SOURCE_QUEUES), default="high")
    parser.add_argument("--max", type=int, default=10, help="messages to list, or to redrive (default 10)")
    args = parser.parse_args(argv)
    if args.command == "depths":
        result: Any = depths()
    elif args.command == "list":
        result = {"lane": args.lane, "depth": depth(args.lane), "messages": peek(args.lane, min(args.max, PEEK_LIMIT))}
    else:
        result = {"lane": args.lane, "redriven": redrive(args.lane, args.max)}
    json.dump(result, sys.stdout, ensure_ascii=False)  # one line: easy to pipe into jq
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
