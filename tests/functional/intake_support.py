"""Shared set-up for the intake channels' tests: queued messages read back from the lanes.

Active templates are made the real way by ``tests.template_support.active_template``.
"""

from __future__ import annotations

import json
from typing import Any


def queued_batches(aws, queue: str = "HighQueue") -> list[dict[str, Any]]:
    """Every batch waiting on a lane (read and left in flight; each test has its own moto)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    found = []
    while True:
        answer = sqs.receive_message(QueueUrl=aws.queue_url(queue), MaxNumberOfMessages=10, VisibilityTimeout=600)
        messages = answer.get("Messages", [])
        if not messages:
            return found
        found.extend(json.loads(message["Body"]) for message in messages)


def phones_of(batches: list[dict[str, Any]]) -> list[str]:
    """Every queued recipient's number, opened from its batch's sealed numbers."""
    from sms_platform.foundation import crypto

    return [phone for batch in batches for phone in crypto.open_many(batch["phones"])]
